"""``qa index adapt``: inverse-cloze pairs come from the index's own sentences, the adapted model
is a folder qa builds and answers with (every passage re-embedded by it), and bad input changes
nothing. Real model, real training steps (a few), real index."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from qa.adaptation import PROVENANCE_FILE, cloze_pairs
from qa.cli import main as cli_main
from qa.config import Settings
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.layout import Kind
from qa.service import QAService
from qa.store import open_store
from qa.text import normalise


def test_pairs_are_the_index_own_prose_sentences_against_the_rest_of_their_passage(
    seeds_index: Settings,
) -> None:
    data = open_store(seeds_index).open().data
    answerable = {
        data.sentence_text(row)
        for row in range(len(data.sentences))
        if data.sentence_kinds[row] in (Kind.PROSE, Kind.LIST_ITEM)
    }
    passages = [data.passage_text(row) for row in range(len(data.passages))]
    pairs = cloze_pairs(data, limit=10_000, rng=random.Random(0), keep_whole=0.0)
    assert len(pairs) > len(passages)  # most passages give several queries
    for query, positive in pairs:
        assert query in answerable
        assert 30 <= len(query) <= 300
        assert query not in positive
        # the positive is its passage with the query taken out
        assert any(
            query in passage and normalise(passage.replace(query, " ")) == normalise(positive)
            for passage in passages
        )
    assert cloze_pairs(data, 50, random.Random(0)) == cloze_pairs(data, 50, random.Random(0))
    assert len(cloze_pairs(data, 50, random.Random(0))) == 50


@pytest.mark.slow
def test_an_adapted_model_is_built_and_served_with_like_any_model(
    tmp_path: Path,
    copy_seeds_index: Callable[[Path], Settings],
    embedder: Embedder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = copy_seeds_index(tmp_path)
    output = tmp_path / "models" / "adapted"  # its parent is made
    code = cli_main(
        ["index", "adapt", str(output), "--index", str(settings.index_dir)] + ["--pairs", "64"]
    )
    assert code == 0, capsys.readouterr().err
    assert f"QA_MODEL={output} qa index build" in capsys.readouterr().out
    assert (output / PROVENANCE_FILE).is_file()

    adapted_settings = settings.model_copy(
        update={"model": str(output), "cache_dir": tmp_path / "cache"}
    )
    adapted = Embedder.from_settings(adapted_settings)
    text = ["Westminster's children's services were rated outstanding."]
    assert adapted.checksum != embedder.checksum
    assert not np.allclose(adapted.encode(text), embedder.encode(text), atol=1e-3)

    # The index was made by the base model: building with the adapted one re-embeds it all.
    report = build_index(adapted_settings, adapted)
    assert report.embedded == report.passages > 0
    answer = QAService(adapted_settings, embedder=adapted).ask("Which borough stayed good in 2019?")
    assert answer.found
    for passage in answer.passages:
        document = open_store(adapted_settings).open().data.documents[passage.doc_id]
        assert document.text[passage.start : passage.end] == passage.text


def test_adapt_refuses_an_existing_folder_or_a_missing_index_and_changes_nothing(
    tmp_path: Path, seeds_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    assert cli_main(["index", "adapt", str(taken), "--index", str(seeds_index.index_dir)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]

    under_a_file = taken / "notes.txt" / "model"
    assert (
        cli_main(["index", "adapt", str(under_a_file), "--index", str(seeds_index.index_dir)]) == 2
    )
    assert "is not a writable folder" in capsys.readouterr().err

    fresh = tmp_path / "fresh"
    assert cli_main(["index", "adapt", str(fresh), "--index", str(tmp_path / "no-index")]) == 2
    assert capsys.readouterr().err.startswith("qa: error:")
    assert not fresh.exists() and not (tmp_path / "no-index").exists()

    assert (
        cli_main(
            ["index", "adapt", str(fresh), "--index", str(seeds_index.index_dir), "--pairs", "8"]
        )
        == 2
    )
    assert "at least one batch" in capsys.readouterr().err
    assert not fresh.exists()
