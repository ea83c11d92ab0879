"""Ranked passages -> the answer object: the one sentence that best answers, a confidence, and an
honest ``found: false`` when the corpus does not cover the question."""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from qa.dates import find_dates
from qa.followups import resolve_follow_up
from qa.retrieval import Candidate, Components, Query, Retriever
from qa.text import STOPWORDS, bm25_tokenize, stem, words

_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b")
_NUMBER = re.compile(r"[£$€]\s?\d|\d")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_SHORT_SENTENCE = 40  # a heading or a bare date: shown with the sentence after it
_ANSWER_PASSAGES = 3  # the answer sentence comes from the top passages only


@dataclass(frozen=True)
class Source:
    """Another place the same passage appears (a press release quoted in an article)."""

    doc_id: str
    title: str
    source: str
    published: str | None
    start: int
    end: int


@dataclass(frozen=True)
class CitedPassage:
    """One ranked passage; ``document_text[start:end] == text``."""

    rank: int
    score: float
    text: str
    doc_id: str
    title: str
    source: str
    published: str | None
    start: int
    end: int
    answer_start: int | None = None  # the answer sentence, as offsets into the document text
    answer_end: int | None = None
    also_in: list[Source] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str | None
    found: bool
    confidence: float
    took_ms: float
    passages: list[CitedPassage]
    resolved_question: str | None = None  # the follow-up merged with the conversation, if it was

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def answer_question(
    retriever: Retriever,
    question: str,
    top_k: int = 5,
    history: list[str] | None = None,
    components: Components = Components(),
) -> Answer:
    """Retrieve, pick the answer sentence, decide whether the corpus answers at all."""
    began = time.perf_counter()
    resolved = resolve_follow_up(question, history)
    query = retriever.prepare(resolved, components)
    candidates = retriever.search(query, max(top_k, _ANSWER_PASSAGES), components)
    found, confidence = _coverage_verdict(retriever, query, candidates)
    best: tuple[int, int, int] | None = None
    if found and candidates:
        best = _best_answer(retriever, query, candidates[:_ANSWER_PASSAGES])
    passages = [
        _cite(retriever, rank, candidate, best if best and best[0] == rank - 1 else None)
        for rank, candidate in enumerate(candidates[:top_k], start=1)
    ]
    answer_text = None
    if best is not None:
        rank, start, end = best
        doc = retriever.data.documents[retriever.data.passages[candidates[rank].row].doc_id]
        answer_text = f"{' '.join(doc.text[start:end].split())} [{rank + 1}]"
    return Answer(
        question=question,
        answer=answer_text,
        found=answer_text is not None,
        confidence=round(confidence if answer_text else 0.0, 3),
        took_ms=round((time.perf_counter() - began) * 1000, 1),
        passages=passages,
        resolved_question=resolved if resolved != question else None,
    )


def _coverage_verdict(
    retriever: Retriever, query: Query, candidates: list[Candidate]
) -> tuple[bool, float]:
    """Does the corpus cover the question? Unknown names or years, too few known words, or no
    passage close enough in meaning, all mean it does not."""
    if not candidates:
        return False, 0.0
    settings = retriever.settings
    question_words = [w.removesuffix("'s") for w in words(query.expanded) if w not in STOPWORDS]
    if not question_words:
        return False, 0.0
    known = [stem(w) in retriever.vocabulary for w in question_words]
    coverage = sum(known) / len(known)
    names = {
        w.lower().removesuffix("'s").removesuffix("’s")
        for w in re.findall(r"\b[A-Z][\w'’]+", query.expanded)
        if w.lower() not in STOPWORDS
    }
    unknown_name = any(stem(name) not in retriever.vocabulary for name in names)
    unknown_year = bool(query.years - retriever.corpus_years)
    best_meaning = max(max(c.sentence, c.dense) for c in candidates)
    found = (
        coverage >= settings.min_term_coverage
        and not unknown_name
        and not unknown_year
        and best_meaning >= settings.min_dense_score
    )
    return found, float(np.clip(best_meaning, 0.0, 1.0) * coverage)


def _best_answer(
    retriever: Retriever, query: Query, candidates: list[Candidate]
) -> tuple[int, int, int] | None:
    """(passage rank index, start, end) of the best answering sentence in the top passages.

    A sentence scores by meaning (cosine), by the question words it contains, by its passage's
    rank, and by carrying what the question asks for (a date for "when", a name for "who",
    a number for "how much/many").
    """
    data = retriever.data
    question_stems = set(query.tokens)
    wants = _expected_answer_type(query.text)
    best_score, best = -1e9, None
    for rank, candidate in enumerate(candidates):
        rows = retriever.sentences_of(candidate.row)
        if not rows:
            continue
        similarities = data.sentence_vectors[rows] @ query.vector
        for position, row in enumerate(rows):
            text = data.sentence_text(row)
            stems = set(bm25_tokenize(text))
            overlap = len(stems & question_stems) / max(1, len(question_stems))
            score = float(similarities[position]) + 0.3 * overlap - 0.05 * rank
            if wants and _has_answer_type(text, wants):
                score += 0.15
            if len(text) < 15:  # a lone heading or label answers nothing by itself
                score -= 0.2
            if score > best_score:
                best_score, best = score, (rank, position, rows)
    if best is None:
        return None
    rank, position, rows = best
    first = data.sentences[rows[position]]
    start, end = first.start, first.end
    if end - start < _SHORT_SENTENCE and position + 1 < len(rows):
        end = data.sentences[rows[position + 1]].end
    return rank, start, end


def _expected_answer_type(question: str) -> str | None:
    lowered = question.lower().lstrip()
    if lowered.startswith("when") or "what date" in lowered or "what year" in lowered:
        return "date"
    if lowered.startswith("who") or lowered.startswith("whom"):
        return "name"
    if "how much" in lowered or "how many" in lowered or "what percentage" in lowered:
        return "number"
    return None


def _has_answer_type(text: str, wanted: str) -> bool:
    if wanted == "date":
        return bool(find_dates(text) or _YEAR.search(text))
    if wanted == "name":
        return bool(_NAME.search(text[1:]))
    return bool(_NUMBER.search(text))


def _cite(
    retriever: Retriever, rank: int, candidate: Candidate, answer: tuple[int, int, int] | None
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
            )
        )
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
        answer_start=answer[1] if answer else None,
        answer_end=answer[2] if answer else None,
        also_in=also_in,
    )
