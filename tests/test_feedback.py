"""Readers' feedback: stored append-only in a real SQLite file, checked against the real seeds
index, exported as evaluation questions that ``qa.evaluation`` reads."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from qa.answering import Answer
from qa.config import Settings
from qa.embedding import Embedder
from qa.evaluation import load_questions
from qa.feedback import (
    BadFeedback,
    FeedbackDesk,
    FeedbackStore,
    RateLimit,
    Span,
    TooMuchFeedback,
    Verdict,
)
from qa.service import QAService
from ui.feedback import verdict_for

SAMPLE = "which borough stayed good in 2019"
UNANSWERABLE = "What is the airspeed velocity of an unladen swallow?"


@pytest.fixture(scope="module")
def service(seeds_index: Settings, embedder: Embedder) -> QAService:
    return QAService(seeds_index, embedder)


def _store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "data")


def _add(store: FeedbackStore, service: QAService, verdict: Verdict) -> int:
    retriever = service.retriever
    return store.add(verdict, retriever.data.documents, retriever.index.version)


def test_verdicts_export_as_evaluation_questions(tmp_path: Path, service: QAService) -> None:
    store = _store(tmp_path)
    found: Answer = service.ask(SAMPLE)
    missing: Answer = service.ask(UNANSWERABLE)
    assert found.found and not missing.found
    _add(store, service, verdict_for(found, liked=True))
    _add(store, service, verdict_for(missing, liked=True))
    other = found.passages[1]
    better = Span(other.doc_id, other.start, other.end)
    _add(store, service, Verdict("a question readers corrected", "down", better=better))
    _add(store, service, Verdict("a bare thumbs down", "down"))
    out = io.StringIO()
    report = store.export_jsonl(out)
    assert (report.entries, report.answerable, report.unanswerable, report.skipped) == (4, 2, 1, 1)
    exported = tmp_path / "feedback_qa.jsonl"
    exported.write_text(out.getvalue())
    questions = {q.question: q for q in load_questions(exported)}
    cited = next(p for p in found.passages if p.answer_start is not None)
    sentence = service.retriever.data.documents[cited.doc_id].text[
        cited.answer_start : cited.answer_end
    ]
    assert questions[SAMPLE].gold == [" ".join(sentence.lower().split())]
    assert questions[UNANSWERABLE].unanswerable and questions[UNANSWERABLE].gold == []
    assert questions["a question readers corrected"].gold == [" ".join(other.text.lower().split())]
    assert store.counts() == {"up": 2, "down": 2, "total": 4}


def test_the_latest_verdict_on_a_question_wins(tmp_path: Path, service: QAService) -> None:
    store = _store(tmp_path)
    missing = service.ask(UNANSWERABLE)
    _add(store, service, verdict_for(missing, liked=True))
    _add(store, service, verdict_for(missing, liked=False))  # changed their mind
    report = store.export_jsonl(io.StringIO())
    assert (report.entries, report.questions, report.skipped) == (2, 0, 1)


def test_counts_follow_writes_of_another_store_on_the_same_file(
    tmp_path: Path, service: QAService
) -> None:
    """Counts are kept between reads (``/health`` asks often) but follow every write, this
    store's and another's (another process over the same data folder)."""
    reader, writer = _store(tmp_path), _store(tmp_path)
    assert reader.counts() == {"up": 0, "down": 0, "total": 0}
    _add(writer, service, Verdict("a bare thumbs down", "down"))
    assert reader.counts() == {"up": 0, "down": 1, "total": 1}
    assert reader.counts() == {"up": 0, "down": 1, "total": 1}  # read again while unchanged
    for number in range(3):
        _add(writer, service, Verdict(f"question {number}", "up"))
        assert reader.counts() == {"up": number + 1, "down": 1, "total": number + 2}
    _add(reader, service, Verdict("its own", "down"))
    assert reader.counts() == writer.counts() == {"up": 3, "down": 2, "total": 5}


def test_rows_can_be_neither_changed_nor_deleted(tmp_path: Path, service: QAService) -> None:
    store = _store(tmp_path)
    _add(store, service, Verdict(SAMPLE, "down"))
    with sqlite3.connect(store.path) as connection:
        for statement in ("UPDATE feedback SET verdict = 'up'", "DELETE FROM feedback"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                connection.execute(statement)
    assert store.rows()[0]["verdict"] == "down"


def _bad_verdicts(service: QAService) -> list[tuple[Verdict, str]]:
    doc = next(iter(service.retriever.data.documents.values()))
    length = len(doc.text)
    return [
        (Verdict(" \u200b ", "up"), "empty"),
        (Verdict("q", "sideways"), "verdict must be"),
        (Verdict("q", "up", comment="x" * 2001), "comment is over"),
        (Verdict("q", "up", passage=Span("nope", 0, 10)), "no indexed document"),
        (Verdict("q", "up", passage=Span(doc.doc_id, 5, length + 1)), "outside its document"),
        (Verdict("q", "up", passage=Span(doc.doc_id, 10, 10)), "outside its document"),
        (
            Verdict("q", "up", passage=Span(doc.doc_id, 0, 50), answer=Span(doc.doc_id, 40, 60)),
            "inside the cited passage",
        ),
        (Verdict("q", "up", answer=Span(doc.doc_id, 0, 5)), "needs the passage"),
        (Verdict("q", "down", better=Span(doc.doc_id, -1, 5)), "outside its document"),
    ]


def test_bad_feedback_is_refused_and_stores_nothing(tmp_path: Path, service: QAService) -> None:
    store = _store(tmp_path)
    for verdict, why in _bad_verdicts(service):
        with pytest.raises(BadFeedback, match=why):
            _add(store, service, verdict)
    assert not store.path.exists() and store.counts()["total"] == 0
    _add(store, service, Verdict(SAMPLE, "up"))  # a good one afterwards is stored alone
    for verdict, _ in _bad_verdicts(service):
        with pytest.raises(BadFeedback):
            _add(store, service, verdict)
    assert store.counts()["total"] == 1


def test_rate_limit_per_client_and_overall(tmp_path: Path, service: QAService) -> None:
    desk = FeedbackDesk(_store(tmp_path), RateLimit(per_client=2, overall=3))
    documents, version = service.retriever.data.documents, service.retriever.index.version
    for _ in range(2):
        desk.submit(Verdict(SAMPLE, "up"), documents, version, "10.0.0.1")
    with pytest.raises(TooMuchFeedback):
        desk.submit(Verdict(SAMPLE, "up"), documents, version, "10.0.0.1")
    desk.submit(Verdict(SAMPLE, "up"), documents, version, "10.0.0.2")
    with pytest.raises(TooMuchFeedback):  # everyone together: 3 a minute
        desk.submit(Verdict(SAMPLE, "up"), documents, version, "10.0.0.3")
    assert desk.store.counts()["total"] == 3


def test_chat_thumbs_store_the_held_answer(
    seeds_index: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    """The chat's like event: only an assistant message of this conversation is recorded, with
    the answer the server holds for it, whatever value the browser sends along."""
    import asyncio

    import gradio as gr

    from qa.app import compose
    from ui.app import ChatActions

    qa = compose(seeds_index.model_copy(update={"data_dir": tmp_path / "data"}), embedder)
    actions = ChatActions(qa)
    _, _, conversation, _ = asyncio.run(actions.ask(SAMPLE, None))
    _, _, conversation, _ = asyncio.run(actions.ask(UNANSWERABLE, conversation))

    def like(index: int, liked: object) -> str:
        data = gr.LikeData(None, {"index": index, "value": "<forged>", "liked": liked})
        return actions.feedback.record(conversation, data, gr.Request())

    assert "good answer" in like(1, True)
    assert "marked as wrong" in like(3, False)
    assert like(0, True) == "" and like(5, True) == "" and like(1, "") == ""
    rows = qa.feedback.store.rows()
    assert [(r["verdict"], r["doc_id"] is not None) for r in rows] == [
        ("up", True),
        ("down", False),
    ]
    assert rows[0]["answer_text"] and rows[0]["question"] == SAMPLE
