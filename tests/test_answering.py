"""Retrieval and answers on the seeds with the real model: citations exact, abstention honest."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from qa.abstention import QuestionFacts
from qa.answering import Answer, Source
from qa.config import Settings
from qa.embedding import Embedder
from qa.retrieval import Retriever
from qa.service import QAService
from qa.text import normalise


@pytest.fixture(scope="module")
def service(seeds_index: Settings, embedder: Embedder) -> QAService:
    return QAService(seeds_index, embedder)


def test_sample_question_finds_the_2019_good_rating(service: QAService) -> None:
    answer = service.ask("which borough stayed good in 2019", top_k=5)
    assert answer.found
    top3 = [normalise(p.text) for p in answer.passages[:3]]
    assert any('has retained its "good" rating' in text for text in top3)
    assert answer.answer and "[" in answer.answer


def test_every_citation_is_exact(service: QAService) -> None:
    answer = service.ask("What did Ofsted say about leadership in Kensington and Chelsea?", 10)
    documents = service.retriever.data.documents
    for passage in answer.passages:
        document = documents[passage.doc_id]
        assert document.text[passage.start : passage.end] == passage.text
        assert (passage.title, passage.source, passage.published) == (
            document.title,
            document.source,
            document.published,
        )
    assert [p.rank for p in answer.passages] == list(range(1, len(answer.passages) + 1))
    assert all(
        a.score >= b.score for a, b in zip(answer.passages, answer.passages[1:], strict=False)
    )


def test_answer_sentence_points_into_its_passage(service: QAService) -> None:
    answer = service.ask("Who blogs at suesspiciousminds?")
    marked = [p for p in answer.passages if p.answer_start is not None]
    assert len(marked) == 1
    passage = marked[0]
    assert passage.start <= passage.answer_start < passage.answer_end <= passage.end  # type: ignore[operator]
    assert answer.answer and answer.answer.endswith(f"[{passage.rank}]")
    assert "andrew pack" in normalise(answer.answer)


@pytest.mark.parametrize(
    "question",
    [
        "What rating did Birmingham's children's services get?",
        "What is the weather in London tomorrow?",
        "What rating did Westminster get in 2023?",
    ],
)
def test_questions_the_corpus_does_not_answer_are_not_found(
    service: QAService, question: str
) -> None:
    answer = service.ask(question)
    assert not answer.found and answer.answer is None and answer.confidence == 0.0
    assert answer.passages  # the nearest passages are still shown


def test_abbreviation_defined_in_the_corpus_matches_its_long_form(service: QAService) -> None:
    answer = service.ask("What was RBKC judged to deliver?")
    assert answer.found
    assert "exemplary practice" in normalise(answer.passages[0].text)


def test_follow_up_uses_the_previous_question(service: QAService) -> None:
    answer = service.ask("and in 2016?", history=["Which borough stayed good in 2019?"])
    assert answer.resolved_question == "Which borough stayed good in 2016?"
    assert any(p.published and p.published.startswith("2016") for p in answer.passages[:3])


def test_an_answer_survives_json_and_back(service: QAService) -> None:
    """The chat rebuilds an answer worker's JSON into an Answer: nothing may be lost."""
    questions = ["which borough stayed good in 2019", "What did inspectors praise?", "and in 2016?"]
    answers = [service.ask(q, top_k=10, history=["which borough stayed good"]) for q in questions]
    first, second = answers[0].passages[:2]
    # The seeds fold no passage into another for these questions: make one that was.
    twin = Source(
        second.doc_id, second.title, second.source, second.published, 0, 10, second.revision
    )
    folded = replace(answers[0], passages=[replace(first, also_in=[twin]), second])
    for answer in [*answers, folded]:
        assert Answer.from_dict(json.loads(json.dumps(answer.as_dict()))) == answer


def test_initials_of_a_name_the_corpus_writes_are_not_an_unknown_name(service: QAService) -> None:
    # The seeds write "Westminster City Council" twice and never "WCC"; "XQZ" is nowhere.
    retriever = service.retriever
    known = QuestionFacts.of(retriever, retriever.prepare("What did WCC say about its staff?"))
    unknown = QuestionFacts.of(retriever, retriever.prepare("What did XQZ say about its staff?"))
    assert not known.unknown_name and unknown.unknown_name
    assert known.corpus_coverage > unknown.corpus_coverage


def test_a_contraction_is_not_a_name(service: QAService) -> None:
    # Capitalised at the start of a sentence, "I'm" and "What's" are function words, and
    # "Ofsted's" is the name the seeds write as "Ofsted".
    retriever = service.retriever
    for question in (
        "I'm in Westminster. What's Ofsted's rating?",
        "What's the rating? I'll ask Ofsted.",
    ):
        facts = QuestionFacts.of(retriever, retriever.prepare(question))
        assert not facts.unknown_name, question
        assert "what" not in facts.stems
    assert QuestionFacts.of(retriever, retriever.prepare("I'm asking Zqxville.")).unknown_name


def test_a_name_in_several_words_the_documents_never_write_is_unknown(service: QAService) -> None:
    # The seeds write "Ofsted", "Children", "Services", "Westminster" and "Council", never
    # "Children's Services Council" or "Westminster Ofsted Council" in a row.
    retriever = service.retriever
    assert retriever.writes_phrase(["singl", "inspect", "framework"])
    assert not retriever.writes_phrase(["westminst", "ofst", "council"])

    def unknown(question: str) -> bool:
        return QuestionFacts.of(retriever, retriever.prepare(question)).unknown_name

    assert unknown("What did the Westminster Ofsted Council decide?")
    assert not unknown("What is the Single Inspection Framework?")
    # A sentence's first word is capitalised whatever it is, and a possessive ends a name.
    assert not unknown("Explain Ofsted's rating of Westminster.")
    assert not unknown("Does Ofsted's Westminster report praise leadership?")


_ALMANAC_PAGE = (
    "<html><head><title>Kestrel Valley Almanac</title></head><body>"
    "<p>The river in the valley floods every March. A kestrel nests by the mill.</p>"
    "<p>This almanac is printed each winter.</p></body></html>"
)


def test_a_name_a_document_s_title_writes_is_known(
    retriever_over: Callable[[dict[str, str]], Retriever],
) -> None:
    # A web page's title need not be in its text: the page never writes "Kestrel Valley
    # Almanac" in a row, but its title does, and a question may name the page by it.
    retriever = retriever_over({"almanac.html": _ALMANAC_PAGE})
    assert retriever.writes_phrase(["kestrel", "valley", "almanac"])
    assert not retriever.writes_phrase(["kestrel", "river"])
    question = "When does the Kestrel Valley Almanac say the river floods?"
    assert not QuestionFacts.of(retriever, retriever.prepare(question)).unknown_name


def test_words_the_corpus_lacks_are_told_apart_as_common_or_specific(service: QAService) -> None:
    retriever = service.retriever
    common = retriever.embedder.whole_words
    assert {"breach", "ship", "rating"} <= common
    assert not {"wireguard", "##ing", "[CLS]"} & common

    def facts(question: str) -> QuestionFacts:
        return QuestionFacts.of(retriever, retriever.prepare(question))

    # The seeds never write "breach" or "wireguard"; they write "Westminster" and "rated".
    paraphrase, unknown, known = (
        facts("Did Westminster breach its rating?"),
        facts("Did Westminster use wireguard?"),
        facts("How was Westminster rated?"),
    )
    assert paraphrase.unknown_common > 0 and paraphrase.unknown_specific == 0
    assert unknown.unknown_specific > 0 and unknown.unknown_common == 0
    assert known.unknown_common == known.unknown_specific == 0
    assert paraphrase.corpus_coverage + paraphrase.unknown_common == pytest.approx(1.0)
