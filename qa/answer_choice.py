"""Choosing the answer: every prose or list-item sentence of the top passages is scored by the
fitted sentence scorer, and the best one becomes the answer, with what it needs to stand alone
(the quote a lead-in introduces, the sentence a "However, ..." leans on)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from qa.aliases import with_alias_forms
from qa.layout import Kind
from qa.retrieval import Candidate, Query, Retriever
from qa.sentence_features import (
    MAX_ANSWER_CHARS,
    NOT_ANSWERS,
    SENTENCE_FEATURES,
    SHORT_SENTENCE,
    QuestionTraits,
    asks_yes_or_no,
    beyond_title,
    definition_focus,
    expected_answer_type,
    finish,
    has_answer_type,
    negates,
    points_back,
    sentence_row,
)
from qa.text import introduces

ANSWER_PASSAGES = 3  # the answer sentence comes from the top passages only
# How far the answer may lead its best rival, as the verdict reads it: a lead beyond this says
# nothing more (and a lone candidate sentence leads by this much).
MAX_MARGIN = 5.0
_QUALIFIES = re.compile(r"[\"“‘']?(?:note|notice|remember|beware),?\s+that\b", re.IGNORECASE)
_ASKS = re.compile(r"\?[\"'”’)]*$")  # a sentence ending in a question mark


@dataclass(frozen=True)
class SentencePool:
    """The candidate sentences of one question, with their features."""

    passage: np.ndarray  # index into the candidate passages (0 = top)
    rows: np.ndarray  # sentence rows
    position: np.ndarray  # place among its passage's sentences
    features: np.ndarray
    passage_sentences: list[list[int]]  # each candidate passage's sentence rows, in order


@dataclass(frozen=True)
class AnswerChoice:
    passage: int  # index into the candidate passages
    start: int  # the answer's offsets in the document text
    end: int
    score: float  # the sentence scorer's score
    cosine: float  # of the question and the chosen sentence
    overlap: float  # share of the question's weighted words the chosen sentence holds
    margin: float  # how far its score leads the best rival answer (see ``answer_margin``)
    beyond_title: float  # share of the words its document's title lacks that it holds


def traits_of(retriever: Retriever, query: Query) -> QuestionTraits:
    return QuestionTraits(
        text=query.text,
        weights=retriever.token_weights(query),
        aliases=query.aliases,
        years=query.years,
        wanted=expected_answer_type(query.text),
        focus=definition_focus(query.text),
        yes_or_no=asks_yes_or_no(query.text),
    )


def sentence_pool(
    retriever: Retriever, query: Query, candidates: list[Candidate], traits: QuestionTraits
) -> SentencePool:
    """Every sentence of ``candidates`` that may be an answer, and its feature row."""
    data = retriever.data
    passage_sentences = [retriever.sentences_of(c.row) for c in candidates]
    chosen = [
        (index, row, position)
        for index, rows in enumerate(passage_sentences)
        for position, row in enumerate(rows)
        if data.sentence_kinds[row] not in NOT_ANSWERS
    ]
    if not chosen:
        empty = np.zeros(0, np.int64)
        features = np.zeros((0, len(SENTENCE_FEATURES)))
        return SentencePool(empty, empty, empty, features, passage_sentences)
    passage, rows, position = (
        np.array(column, dtype=np.int64) for column in zip(*chosen, strict=True)
    )
    every = [row for rows_of in passage_sentences for row in rows_of]
    cosine_of = dict(
        zip(every, (retriever.index.sentence_vectors(every) @ query.vector).tolist(), strict=True)
    )
    features = np.array(
        [
            sentence_row(
                data.sentence_text(row),
                int(data.sentence_kinds[row]),
                cosine_of[row],
                traits,
                pos,
                neighbour_cosine(passage_sentences[index], pos, cosine_of),
                answer_words(
                    retriever,
                    passage_sentences[index],
                    answer_span(retriever, passage_sentences[index], pos, traits),
                ),
            )
            for index, row, pos in zip(
                passage.tolist(), rows.tolist(), position.tolist(), strict=True
            )
        ]
    )
    scores = np.array([c.score for c in candidates])
    finish(features, passage.astype(np.float64), scores[passage] - scores.max())
    return SentencePool(passage, rows, position, features, passage_sentences)


def answer_words(retriever: Retriever, rows: list[int], span: tuple[int, int]) -> str:
    """The words of an answer (``span``, from ``answer_span`` over a passage's sentence
    ``rows``), less any code it brings along: a lead-in's example shares the question's names
    without saying anything about them."""
    start, end = span
    data = retriever.data
    held = np.asarray(rows, dtype=np.int64)
    inside = (
        (data.sentences.start[held] >= start)
        & (data.sentences.end[held] <= end)
        & (data.sentence_kinds[held] != Kind.CODE)
    )
    return " ".join(data.sentence_text(row) for row in held[inside].tolist())


def answer_margin(
    scores: np.ndarray, passage: np.ndarray, position: np.ndarray, best: int
) -> float:
    """How far the best sentence's score leads the best rival's, up to ``MAX_MARGIN``.

    A close race between two different answers is a sign of guessing, which the verdict reads.
    The sentences just before and after the best one in its own passage are not rivals: they
    are read with it (a lead-in and its quote, two halves of one thought)."""
    rival = (passage != passage[best]) | (np.abs(position - position[best]) > 1)
    if not rival.any():
        return MAX_MARGIN
    return float(min(scores[best] - scores[rival].max(), MAX_MARGIN))


def better_neighbour(pool: SentencePool, scores: np.ndarray, best: int) -> int | None:
    """The candidate just before or after ``best`` in its passage that holds some of the
    question's words, the higher-scored of the two if both do; if neither does, the candidate
    just after it (None if there is none).

    The answer is read together with it when the two stay short (``joined_span``): one sentence
    often names the topic and leaves the answer to its neighbour ("Sometimes a user will request
    an option which the class has not declared." / "By default this will produce a warning"),
    and the scorer, reading one sentence at a time, picks the one that sounds like the question.
    The sentence after goes on with the thought even in other words ("It is also sensible to
    make your files as portable as possible." / "To ensure this, ... the filenames should
    contain at most eight characters"); the one before, without the question's words, is about
    something else (the previous speaker's quote) and stays out. docs/quality.md gives the
    figures."""
    overlap = pool.features[:, SENTENCE_FEATURES.index("overlap")]
    same_passage = pool.passage == pool.passage[best]
    step = pool.position - pool.position[best]
    beside = np.flatnonzero(same_passage & (np.abs(step) == 1) & (overlap > 0))
    if not len(beside):
        beside = np.flatnonzero(same_passage & (step == 1))
    if not len(beside):
        return None
    return int(beside[np.argmax(scores[beside])])


def neighbour_cosine(rows: list[int], position: int, cosine_of: dict[int, float]) -> float:
    """The best cosine of the sentences just before and after ``position`` (0 if none)."""
    around = [rows[i] for i in (position - 1, position + 1) if 0 <= i < len(rows)]
    return max((cosine_of[row] for row in around), default=0.0)


def answer_beyond_title(
    retriever: Retriever,
    traits: QuestionTraits,
    rows: list[int],
    span: tuple[int, int],
    passage_row: int,
) -> float:
    """``beyond_title`` for the answer ``span`` (from ``answer_span`` over the sentence ``rows``
    of the passage at ``passage_row``), its document's title read with the question's aliases."""
    document = int(retriever.data.passages.doc[passage_row])
    title = with_alias_forms(retriever.evidence.title_stems[document], traits.aliases)
    return beyond_title(answer_words(retriever, rows, span), title, traits)


def choose_answer(
    retriever: Retriever, query: Query, candidates: list[Candidate], traits: QuestionTraits
) -> AnswerChoice | None:
    """The best-scoring sentence of the top passages, made to stand alone; None if none."""
    pool = sentence_pool(retriever, query, candidates[:ANSWER_PASSAGES], traits)
    if not len(pool.rows):
        return None
    scores = retriever.scorers.sentence.score(pool.features)
    order = np.argsort(-scores, kind="stable")
    best = int(order[0])
    index = int(pool.passage[best])
    rows = pool.passage_sentences[index]
    start, end = answer_span(retriever, rows, int(pool.position[best]), traits)
    beyond = answer_beyond_title(retriever, traits, rows, (start, end), candidates[index].row)
    partner = better_neighbour(pool, scores, best)
    if partner is not None:
        positions = sorted((int(pool.position[best]), int(pool.position[partner])))
        joined = joined_span(retriever, rows, (positions[0], positions[1]), traits)
        if joined is not None:
            start, end = joined
    features = pool.features[best]
    return AnswerChoice(
        index,
        start,
        end,
        float(scores[best]),
        float(features[SENTENCE_FEATURES.index("cosine")]),
        float(features[SENTENCE_FEATURES.index("overlap")]),
        answer_margin(scores, pool.passage, pool.position, best),
        beyond,
    )


def answer_span(
    retriever: Retriever, rows: list[int], position: int, traits: QuestionTraits
) -> tuple[int, int]:
    """The offsets of the sentence at ``position`` among a passage's sentence ``rows``, with
    what it needs beside it to be read alone:

    - a lead-in (ending with ":", or "... as follows.") or a question the text asks takes what
      it introduces: the next unit,
      or the list items that follow it (up to ``MAX_ANSWER_CHARS``), also when the lead-in came
      along with the answer;
    - one that opens by leaning on the sentence before ("However, ...") takes that sentence;
    - a short one (a fragment) takes its neighbour;
    - one lacking what the question asks for (the date of a "when") takes the nearest
      sentence, at most two away, that has it, if the two together stay short;
    - and what follows it and leans on it ("This means ...", "If it exists, ...") or qualifies
      it ("Note that ...") comes too, sentence after sentence while the whole stays short: it
      is the same thought, often the part that answers;
    - a definition list's description, from its first sentence, is read with its term;
    - for a yes-or-no question, an answer that says neither no nor "only" takes the sentence
      after it that does: "Does lscape also rotate the page head?" is answered by "The page
      head and foot are not affected", after the sentence describing what it rotates.
    """
    first, last = _standing_alone(retriever, rows, position, traits)
    data = retriever.data
    spans = [data.sentences[row] for row in rows]
    text = data.documents[spans[position].doc_id].text
    # The term names what its description describes: "edit files in place (makes backup if
    # SUFFIX supplied)" answers "how do I keep a backup?" only with "-i[SUFFIX], --in-place".
    if (
        first > 0
        and data.sentence_kinds[rows[first - 1]] == Kind.TERM
        and _short_enough(text, spans[first - 1].start, spans[last].end)
    ):
        first -= 1
    while (
        last + 1 < len(spans)
        and _goes_on(text[spans[last + 1].start : spans[last + 1].end])
        and _short_enough(text, spans[first].start, spans[last + 1].end)
    ):
        last += 1
    # A yes or no is most often said as a negation or a restriction, after the description.
    if (
        traits.yes_or_no
        and last + 1 < len(spans)
        and not negates(text[spans[first].start : spans[last].end])
        and negates(text[spans[last + 1].start : spans[last + 1].end])
        and _short_enough(text, spans[first].start, spans[last + 1].end)
    ):
        last += 1
    # What came along may itself be a lead-in: an answer does not stop at its colon.
    if last + 1 < len(spans) and _leads_on(text[spans[last].start : spans[last].end]):
        introduced = _introduced(retriever, rows, last, spans[first].start)
        if _short_enough(text, spans[first].start, spans[introduced].end):
            last = introduced
    return spans[first].start, spans[last].end


def _introduced(retriever: Retriever, rows: list[int], position: int, start: int) -> int:
    """The last position of what the lead-in at ``position`` introduces: the unit after it (a
    paragraph with all its sentences) and, when that is a list item, the items after it (or,
    when it is a lead-in too, what that one introduces), as long as the answer from ``start``
    stays within ``MAX_ANSWER_CHARS``; nothing (``position``) across text no unit holds
    (``_hidden_between``).

    A definition list is introduced like a list: a term is read with the description after it
    (a term alone, "`b'", says nothing: "`b' for 512-byte blocks" does), and the next entry's
    term follows a description as the next item follows an item."""
    data = retriever.data
    spans = [data.sentences[row] for row in rows]
    kinds = [int(data.sentence_kinds[row]) for row in rows]
    text = data.documents[spans[position].doc_id].text
    if _hidden_between(text, spans[position].end, spans[position + 1].start):
        return position
    last = position + 1
    while last + 1 < len(spans) and _short_enough(text, start, spans[last + 1].end):
        leading = _leads_on(text[spans[last].start : spans[last].end])
        next_item = kinds[last] == kinds[last + 1] == Kind.LIST_ITEM
        described = kinds[last] == Kind.TERM
        next_entry = kinds[last + 1] == Kind.TERM and Kind.TERM in kinds[position + 1 : last]
        same_paragraph = (
            kinds[last] == kinds[last + 1] == Kind.PROSE
            and "\n\n" not in text[spans[last].end : spans[last + 1].start]
        )
        if not (leading or next_item or described or next_entry or same_paragraph):
            break
        last += 1
    # An entry is not left at its term: without room for the description, the term goes too.
    while last > position + 1 and kinds[last] == Kind.TERM:
        last -= 1
    return last


def joined_span(
    retriever: Retriever, rows: list[int], positions: tuple[int, int], traits: QuestionTraits
) -> tuple[int, int] | None:
    """One answer made of two neighbouring sentences' spans, if together they stay short.

    When the later one is a lead-in to code whose block makes the two too long, it comes
    without the code: "By default, ... will result in ValueError being raised." is answered by
    the lead-in after it ("To request that the additional bits instead be coerced to zero, the
    flag strict=False can be passed to the constructor:"), and code is never an answer on its
    own; the cited passage shows it."""
    spans = [answer_span(retriever, rows, position, traits) for position in positions]
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    data = retriever.data
    text = data.documents[data.sentences[rows[positions[0]]].doc_id].text
    if not _short_enough(text, start, end) and _leads_into_code(retriever, rows, positions[1]):
        end = max(spans[0][1], data.sentences[rows[positions[1]]].end)
    return (start, end) if _short_enough(text, start, end) else None


def _goes_on(sentence: str) -> bool:
    """Whether a sentence goes on with the one before: it leans on it ("This means ...") or
    qualifies it ("Note that ...", "Notice, that newer files don't replace their old copies")."""
    return points_back(sentence) or bool(_QUALIFIES.match(sentence))


def _leads_on(sentence: str) -> bool:
    """Whether a sentence needs what follows it to be an answer: a lead-in ("... as follows:")
    or a question the text asks and answers next ("Should you use these module-level functions,
    or should you get the pattern and call its methods yourself? If you're accessing a regex
    within a loop, pre-compiling it will save a few function calls.")."""
    return introduces(sentence) or bool(_ASKS.search(sentence.rstrip()))


def _short_enough(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is short enough for an answer, counted as it is read: a
    man page's indentation and a justified line's padding take no room on the screen."""
    return len(" ".join(text[start:end].split())) <= MAX_ANSWER_CHARS


def _leads_into_code(retriever: Retriever, rows: list[int], position: int) -> bool:
    """Whether the sentence at ``position`` is a lead-in and code follows it."""
    data = retriever.data
    return (
        position + 1 < len(rows)
        and data.sentence_kinds[rows[position + 1]] == Kind.CODE
        and introduces(data.sentence_text(rows[position]))
    )


def _hidden_between(text: str, end: int, start: int) -> bool:
    """Whether text no unit holds lies between two units (a comment, a directive's line, a
    table of contents): an answer is one span of the text, so a lead-in that took the unit
    after it would show that text too ("... feature: .. code-block:: cmake ..."). Quote marks
    alone ("#", ">") are the quoted text's own blank lines."""
    return bool(text[end:start].strip(" \t\r\n#>"))


def _standing_alone(
    retriever: Retriever, rows: list[int], position: int, traits: QuestionTraits
) -> tuple[int, int]:
    """The first and last positions of the sentences an answer at ``position`` needs."""
    data = retriever.data
    spans = [data.sentences[row] for row in rows]
    text = data.documents[spans[position].doc_id].text
    body = text[spans[position].start : spans[position].end].rstrip()
    if _leads_on(body) and position + 1 < len(spans):
        introduced = _introduced(retriever, rows, position, spans[position].start)
        if introduced > position:  # else it introduces nothing: the rules below apply
            return position, introduced
    # A sentence leaning on the one before takes it along; a heading before it is not a
    # sentence to lean on ("This manual ..." under the manual's title).
    if (
        position > 0
        and points_back(body)
        and data.sentence_kinds[rows[position - 1]] != Kind.HEADING
    ):
        return position - 1, position
    if spans[position].end - spans[position].start < SHORT_SENTENCE:
        if position > 0:
            return position - 1, position
        if position + 1 < len(spans):
            return position, position + 1
    if traits.wanted and not has_answer_type(body, traits.wanted, traits.text):
        for distance in (1, 2):
            for neighbour in (position - distance, position + distance):
                if not 0 <= neighbour < len(spans):
                    continue
                other = text[spans[neighbour].start : spans[neighbour].end]
                if not has_answer_type(other, traits.wanted, traits.text):
                    continue
                first, last = min(position, neighbour), max(position, neighbour)
                if _short_enough(text, spans[first].start, spans[last].end):
                    return first, last
    return position, position
