"""The fitted scorers' arithmetic and the passage features they read (pure maths: small
hand-made arrays), and near-duplicate folding with the real model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from qa.abstention import QUESTION_FEATURES, QuestionFacts, question_row
from qa.answer_choice import MAX_MARGIN, answer_margin
from qa.config import Settings
from qa.embedding import Embedder
from qa.evidence import _among
from qa.indexer import build_index
from qa.passage_features import (
    COMPONENT_FEATURES,
    PASSAGE_FEATURES,
    REFINED_FEATURES,
    PassageEvidence,
    features_off,
    passage_features,
)
from qa.retrieval import Candidate, Retriever
from qa.scorers import WEIGHTS_FILE, LinearScorer, Scorers, shipped_scorers
from qa.sentence_features import SENTENCE_FEATURES
from qa.service import QAService


def test_a_linear_scorer_standardises_then_weighs() -> None:
    scorer = LinearScorer(
        ("a", "b"), np.array([1.0, 10.0]), np.array([2.0, 5.0]), np.array([1.0, -2.0]), 0.5
    )
    x = np.array([[3.0, 10.0], [1.0, 20.0]])
    assert scorer.score(x).tolist() == pytest.approx([1.0 + 0.5, -4.0 + 0.5])
    assert scorer.probability(x)[0] == pytest.approx(1 / (1 + np.exp(-1.5)))
    # A feature switched off counts as its mean: only "a" speaks.
    assert scorer.score(x, off=("b",)).tolist() == pytest.approx([1.5, 0.5])


def test_scorers_survive_json_and_the_shipped_ones_match_the_features() -> None:
    shipped = shipped_scorers()
    again = Scorers.from_dict(json.loads(json.dumps(shipped.as_dict())))
    x = np.random.default_rng(0).normal(size=(4, len(PASSAGE_FEATURES)))
    assert again.passage_first.score(x) == pytest.approx(shipped.passage_first.score(x), abs=1e-5)
    assert shipped.passage_first.features == PASSAGE_FEATURES
    assert shipped.passage.features == (*PASSAGE_FEATURES, *REFINED_FEATURES)
    assert shipped.sentence.features == SENTENCE_FEATURES
    assert shipped.answerable.features == shipped.right.features == QUESTION_FEATURES
    assert 0.0 < shipped.answer_threshold < 1.0
    stored = json.loads(WEIGHTS_FILE.read_text())
    assert stored["passage_first"]["features"] == list(PASSAGE_FEATURES)


def _evidence(**columns: list[float]) -> PassageEvidence:
    n = len(next(iter(columns.values())))
    zeros = [0.0] * n
    values = {
        name: np.array(columns.get(name, zeros), dtype=float)
        for name in PassageEvidence.__dataclass_fields__
    }
    return PassageEvidence(**values)


def test_passage_features_are_relative_to_the_best_candidate() -> None:
    features = passage_features(
        _evidence(dense=[0.5, 0.7, 0.2], bm25=[4.0, 0.0, 8.0], chars=[100, 600, 700])
    )
    column = {name: features[:, i].tolist() for i, name in enumerate(PASSAGE_FEATURES)}
    assert column["dense_gap"] == pytest.approx([-0.2, 0.0, -0.5])
    assert column["bm25_rel"] == pytest.approx([0.5, 0.0, 1.0])
    assert column["bm25_rank"][1] == 0.0  # no BM25 evidence, no rank weight
    assert column["dense_rank"] == pytest.approx([1 / 12, 1 / 11, 1 / 13])
    assert passage_features(_evidence(dense=[])).shape == (0, len(PASSAGE_FEATURES))


def test_switching_a_component_off_names_its_features() -> None:
    assert features_off(True, True, True, True) == ()
    off = features_off(dense=False, bm25=True, sentences=False, dates=True)
    assert set(off) == set(COMPONENT_FEATURES["dense"]) | set(COMPONENT_FEATURES["sentences"])
    assert set(off) <= {*PASSAGE_FEATURES, *REFINED_FEATURES}


@pytest.mark.slow
def test_membership_by_binary_search_agrees_with_isin() -> None:
    rng = np.random.default_rng(7)
    for size in (1, 2, 5, 40, 300):
        holders = np.sort(rng.choice(400, size, replace=False))
        candidates = rng.integers(-5, 410, 120)  # below, inside and past the holders' range
        assert (_among(candidates, holders) == np.isin(candidates, holders)).all()


def test_a_passage_two_documents_share_is_cited_once_with_the_other_as_also_in(
    tmp_path: Path, embedder: Embedder
) -> None:
    quote = (
        "Ofsted said the Marrowgate lantern service was outstanding in every area it inspected, "
        "including its work with the harbour's night ferries."
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a-press-release.txt").write_text(f"{quote}\n")  # quoted word for word in ...
    (docs / "b-article.txt").write_text(f"{quote}\n\n")  # ... an article
    (docs / "c-other.txt").write_text("The harbour ferries run every night.\n")
    settings = Settings(docs_dir=docs, index_dir=tmp_path / "index", answer_workers=0)
    build_index(settings, embedder)
    answer = QAService(settings, embedder=embedder).ask(
        "What did Ofsted say about the lantern service?"
    )
    top = answer.passages[0]
    assert quote in top.text
    assert {top.source, *(source.source for source in top.also_in)} == {
        "a-press-release.txt",
        "b-article.txt",
    }
    assert not any(quote in p.text for p in answer.passages[1:])  # folded, not repeated


def test_the_answer_margin_ignores_the_sentences_read_with_the_answer() -> None:
    scores = np.array([3.0, 2.9, 1.0, 2.0])
    passage = np.array([0, 0, 0, 1])
    position = np.array([4, 5, 9, 0])
    # Its neighbour (2.9) is read with it; the rival is the other passage's sentence (2.0).
    assert answer_margin(scores, passage, position, 0) == pytest.approx(1.0)
    # The same sentence far from it in its own passage is a rival.
    position = np.array([4, 7, 9, 0])
    assert answer_margin(scores, passage, position, 0) == pytest.approx(0.1)
    # No rival at all, or a lead beyond the cap: the cap.
    assert answer_margin(np.array([1.0]), np.array([0]), np.array([0]), 0) == MAX_MARGIN
    assert answer_margin(np.array([20.0, 0.0]), np.array([0, 1]), np.array([0, 0]), 0) == (
        MAX_MARGIN
    )


def test_a_word_the_title_holds_counts_as_held_by_every_passage_of_the_document(
    retriever_over: Callable[[dict[str, str]], Retriever],
) -> None:
    retriever = retriever_over(
        {
            "frobnicator.md": "# Frobnicator\n\n"
            "The frobnicator polishes brass. Frobnicator models differ in size.\n\n"
            "## Options\n\n"
            "The quiet switch silences the bell while it works.\n"
        }
    )
    pool = retriever.pool(retriever.prepare("Can the frobnicator silence its bell?"))
    texts = [retriever.data.passage_text(int(row)) for row in pool.rows]
    options = next(i for i, text in enumerate(texts) if "quiet switch" in text)
    opening = next(i for i, text in enumerate(texts) if "polishes brass" in text)
    # The option's passage never writes "frobnicator", but its document's title does: it holds
    # every word asked, and more of them than the opening that repeats the name.
    assert pool.evidence.coverage[options] == pytest.approx(1.0)
    assert pool.evidence.coverage[options] > pool.evidence.coverage[opening]


def test_a_word_the_file_name_holds_counts_as_held_by_every_passage_of_the_document(
    retriever_over: Callable[[dict[str, str]], Retriever],
) -> None:
    # The text opens with a tool's marker, its own poor title; only the file is named for it.
    retriever = retriever_over(
        {
            "frobnicator-licence.txt": "// REUSE-IgnoreStart\n\n"
            "The Frobnicator Licence lets anyone polish brass with the frobnicator.\n\n"
            "Definitions\n\n"
            '"Quiet Switch" refers to the lever that silences the bell.\n'
        }
    )
    pool = retriever.pool(
        retriever.prepare("What is a quiet switch under the Frobnicator Licence?")
    )
    texts = [retriever.data.passage_text(int(row)) for row in pool.rows]
    definition = next(i for i, text in enumerate(texts) if "Quiet Switch" in text)
    assert pool.evidence.coverage[definition] == pytest.approx(1.0)
    assert pool.evidence.title_coverage[definition] > 0


def test_a_word_only_a_file_name_holds_is_known_to_the_corpus(
    retriever_over: Callable[[dict[str, str]], Retriever],
) -> None:
    # The text never writes "Quaybook": only its file is named so, as "GPL-3" names a licence
    # whose text writes "GNU General Public License".
    retriever = retriever_over(
        {
            "quaybook-licence.txt": "Mooring Terms\n\n"
            "Boats may moor at the quay for a fee of four pounds a night.\n"
        }
    )
    facts = QuestionFacts.of(retriever, retriever.prepare("What does the Quaybook charge a night?"))
    assert not facts.unknown_name
    assert facts.unknown_specific == 0.0


def test_the_verdict_reads_what_a_passage_s_own_text_holds_beside_its_coverage() -> None:
    facts = QuestionFacts(["tar", "encrypt", "password"], [1.0, 2.0, 1.0], 1.0, False, False)
    # Both passages are tar's: their coverage counts "tar" from the page's title. Only the
    # second one's text writes any word of the question ("password").
    top = [
        Candidate(7, 0.5, 1.0, 0.5, 3.0, coverage=0.25),
        Candidate(9, 0.4, 0.8, 0.4, 2.0, coverage=0.5),
    ]
    presence = {
        "tar": np.array([False, False]),
        "encrypt": np.array([False, False]),
        "password": np.array([False, True]),
    }
    row = question_row(facts, top, presence, None)[0]
    features = dict(zip(QUESTION_FEATURES, row, strict=True))
    assert features["text_coverage"] == pytest.approx(0.25)
    assert features["best_coverage"] == pytest.approx(0.5)
    assert features["missing_rare"] == pytest.approx(1.0)  # "encrypt" is in neither
