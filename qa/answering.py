"""Ranked passages -> the answer object: the one sentence that best answers, a confidence, and an
honest ``found: false`` when the corpus does not cover the question."""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from qa.conversation import resolve_follow_up
from qa.dates import YEAR, find_dates
from qa.retrieval import Candidate, Components, Query, Retriever
from qa.text import STOPWORDS, bm25_tokenize, stem, words

_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:and\s+|&\s+)?[A-Z][a-z]+)+\b")
_NUMBER = re.compile(r"[£$€]\s?\d|\d")
# Openings that lean on the sentence before: shown alone, such a sentence loses its meaning.
_POINTS_BACK = re.compile(
    r"[\"“‘']?(however|but|yet|so|also|and|instead|meanwhile|this|that|these|those|it|they|he|she)\b",
    re.IGNORECASE,
)
_SHORT_SENTENCE = 40  # a heading or a bare date: shown with the sentence after it
_MAX_ANSWER_CHARS = 300  # "a sentence or two": longer joins give way to the sentence that answers
# A sentence shorter than this is a lone label ("Date:"), which answers nothing by itself.
_LONE_LABEL_CHARS = 15
_LONE_LABEL_PENALTY = 0.2
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
    question_words = [
        w.removesuffix("'s") for w in words(query.expanded) if w not in STOPWORDS and len(w) > 1
    ]
    if not question_words:
        return False, 0.0
    # Coverage weighted by rarity: missing the one rare word that names the topic ("mayor")
    # matters more than finding the common ones ("London").
    weights = [retriever.idf(stem(w)) for w in question_words]
    known = [stem(w) in retriever.vocabulary for w in question_words]
    coverage = sum(w for w, k in zip(weights, known, strict=True) if k) / sum(weights)
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
    """(passage index, start, end) of the best answering sentence in the top passages.

    A sentence scores by meaning (cosine to the question), by the share of the question's rare
    words it contains (IDF-weighted), by how well its passage ranked, and by carrying what the
    question asks for (a date for "when", a name for "who", a number for "how much").
    """
    settings = retriever.settings
    data = retriever.data
    weights = {token: retriever.idf(token) for token in set(query.asked_tokens)}
    total_weight = sum(weights.values()) or 1.0
    wants = _expected_answer_type(query.text)
    top_score = max(candidates[0].score, 1e-9)
    best_score, best = -1e9, None
    for index, candidate in enumerate(candidates):
        rows = retriever.sentences_of(candidate.row)
        if not rows:
            continue
        similarities = data.sentence_rows(rows) @ query.vector
        prior = candidate.score / top_score
        for position, row in enumerate(rows):
            text = data.sentence_text(row)
            matched = _matched_words(set(bm25_tokenize(text)), query) & weights.keys()
            overlap = sum(weights[t] for t in matched) / total_weight
            score = (
                float(similarities[position])
                + settings.answer_overlap_weight * overlap
                + settings.answer_passage_weight * prior
            )
            if wants and _has_answer_type(text, wants, query.text):
                score += settings.answer_type_bonus
            if len(text) < _LONE_LABEL_CHARS:
                score -= _LONE_LABEL_PENALTY
            if score > best_score:
                best_score, best = score, (index, position, rows)
    if best is None:
        return None
    index, position, rows = best
    start, end = _with_context(retriever, rows, position)
    if wants and not _has_answer_type(data.sentence_text(rows[position]), wants, query.text):
        start, end = _with_expected_type(retriever, rows, position, wants, query.text, start, end)
    return index, start, end


def _matched_words(sentence_tokens: set[str], query: Query) -> set[str]:
    """The question's words a sentence contains, counting an alias's other form as the asked one
    ("Royal Borough of Kensington and Chelsea" in the sentence answers "RBKC" in the question)."""
    matched = set(sentence_tokens)
    for asked, other in query.aliases:
        if other and set(other) <= sentence_tokens:
            matched.update(asked)
    return matched


def _with_context(retriever: Retriever, rows: list[int], position: int) -> tuple[int, int]:
    """A sentence that cannot stand alone is shown with its neighbour in the same paragraph.

    Short ones (a heading, a bare date) take the sentence before, else the one after; one that
    opens by pointing back ("However, ...", "It ...") takes the sentence before."""
    data = retriever.data
    sentence = data.sentences[rows[position]]
    start, end = sentence.start, sentence.end
    text = data.documents[sentence.doc_id].text
    if position > 0 and _POINTS_BACK.match(text[start:end]):
        previous = data.sentences[rows[position - 1]]
        if "\n\n" not in text[previous.end : start]:
            return previous.start, end
    if end - start >= _SHORT_SENTENCE:
        return start, end
    if position > 0:
        previous = data.sentences[rows[position - 1]]
        if "\n\n" not in text[previous.end : start]:
            return previous.start, end
    if position + 1 < len(rows):
        return start, data.sentences[rows[position + 1]].end
    return start, end


def _with_expected_type(
    retriever: Retriever,
    rows: list[int],
    position: int,
    wants: str,
    question: str,
    start: int,
    end: int,
) -> tuple[int, int]:
    """When the best sentence lacks what the question asks for (the date of a "when"), take in the
    nearest sentence before or after it, at most two away, that has it; if that makes the answer
    long, the sentence that has it answers alone."""
    data = retriever.data
    for distance in (1, 2):
        for neighbour in (position - distance, position + distance):
            if 0 <= neighbour < len(rows):
                if not _has_answer_type(data.sentence_text(rows[neighbour]), wants, question):
                    continue
                sentence = data.sentences[rows[neighbour]]
                joined = min(start, sentence.start), max(end, sentence.end)
                if joined[1] - joined[0] <= _MAX_ANSWER_CHARS:
                    return joined
                return _with_context(retriever, rows, neighbour)
    return start, end


def _expected_answer_type(question: str) -> str | None:
    lowered = question.lower().lstrip()
    if lowered.startswith("when") or "what date" in lowered or "what year" in lowered:
        return "date"
    if lowered.startswith(("who", "whom", "which")):
        return "name"
    if "how much" in lowered or "how many" in lowered or "what percentage" in lowered:
        return "number"
    return None


def _has_answer_type(text: str, wanted: str, question: str) -> bool:
    if wanted == "date":
        return bool(find_dates(text) or YEAR.search(text))
    if wanted == "name":  # a name the question does not already contain
        asked = question.lower()
        return any(name.lower() not in asked for name in _NAME.findall(text))
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
