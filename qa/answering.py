"""Ranked passages -> the answer object: the one sentence that best answers, a calibrated
confidence, and an honest ``found: false`` when the documents do not answer the question."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from qa.abstention import judge
from qa.answer_choice import ANSWER_PASSAGES, AnswerChoice, choose_answer, traits_of
from qa.conversation import resolve_follow_up
from qa.pages import pages_of
from qa.reading import reading_text
from qa.retrieval import Candidate, Components, Retriever


@dataclass(frozen=True)
class Source:
    """Another place the same passage appears (a press release quoted in an article)."""

    doc_id: str
    title: str
    source: str
    published: str | None
    start: int
    end: int
    revision: str  # the sha256 of the file the text was read from: see qa.revisions


@dataclass(frozen=True)
class CitedPassage:
    """One ranked passage; ``document_text[start:end] == text`` for the document at ``revision``
    (``GET /documents/{doc_id}?revision=…``), whatever happened to the file since."""

    rank: int
    score: float
    text: str
    doc_id: str
    title: str
    source: str
    published: str | None
    start: int
    end: int
    revision: str  # the sha256 of the file the text was read from: see qa.revisions
    answer_start: int | None = None  # the answer sentence, as offsets into the document text
    answer_end: int | None = None
    also_in: list[Source] = field(default_factory=list)
    page: int | None = None  # PDFs: the 1-based page the passage starts on (qa.pages)
    page_end: int | None = None  # PDFs: the page it ends on (the same page if it spans none)


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str | None
    found: bool
    confidence: float
    took_ms: float
    passages: list[CitedPassage]
    resolved_question: str | None = None  # the follow-up merged with the conversation, if it was
    page: int | None = None  # PDFs: the page of the answer sentence
    page_end: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The inverse of ``as_dict``: an answer that came as JSON (from an answer worker)."""
        passages = [
            CitedPassage(**{**p, "also_in": [Source(**s) for s in p["also_in"]]})
            for p in data["passages"]
        ]
        return cls(**{**data, "passages": passages})


def answer_question(
    retriever: Retriever,
    question: str,
    top_k: int = 5,
    history: list[str] | None = None,
    components: Components = Components(),
) -> Answer:
    """Retrieve, choose the answer sentence, decide whether the documents answer at all."""
    began = time.perf_counter()
    resolved = resolve_follow_up(question, history)
    query = retriever.prepare(resolved, components)
    candidates = retriever.search(query, max(top_k, ANSWER_PASSAGES), components)
    choice = choose_answer(retriever, query, candidates, traits_of(retriever, query))
    verdict = judge(retriever, query, candidates, choice)
    if verdict.answerable < retriever.scorers.answer_threshold:
        choice = None
    passages = [
        _cite(retriever, rank, candidate, choice if choice and choice.passage == rank - 1 else None)
        for rank, candidate in enumerate(candidates[:top_k], start=1)
    ]
    answer_text = None
    page = page_end = None
    if choice is not None:
        doc = retriever.data.documents[
            retriever.data.passages.doc_id(candidates[choice.passage].row)
        ]
        answer_text = f"{reading_text(doc.text[choice.start : choice.end])} [{choice.passage + 1}]"
        page, page_end = pages_of(doc, choice.start, choice.end)
    return Answer(
        question=question,
        answer=answer_text,
        found=answer_text is not None,
        confidence=round(verdict.confidence if answer_text else 0.0, 3),
        took_ms=round((time.perf_counter() - began) * 1000, 1),
        passages=passages,
        resolved_question=resolved if resolved != question else None,
        page=page,
        page_end=page_end,
    )


def _cite(
    retriever: Retriever, rank: int, candidate: Candidate, answer: AnswerChoice | None
) -> CitedPassage:
    data = retriever.data
    record = data.passages[candidate.row]
    doc = data.documents[record.doc_id]
    also_in = []
    for row in candidate.duplicates:
        twin = data.passages[row]
        twin_doc = data.documents[twin.doc_id]
        also_in.append(
            Source(
                twin_doc.doc_id,
                twin_doc.title,
                twin_doc.source,
                twin_doc.published,
                twin.start,
                twin.end,
                twin_doc.sha256,
            )
        )
    page, page_end = pages_of(doc, record.start, record.end)
    return CitedPassage(
        rank=rank,
        score=round(candidate.score, 6),
        text=doc.text[record.start : record.end],
        doc_id=doc.doc_id,
        title=doc.title,
        source=doc.source,
        published=doc.published,
        start=record.start,
        end=record.end,
        revision=doc.sha256,
        answer_start=answer.start if answer else None,
        answer_end=answer.end if answer else None,
        also_in=also_in,
        page=page,
        page_end=page_end,
    )
