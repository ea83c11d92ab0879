"""Whether the documents answer the question at all, and how likely the chosen answer is right.

Words alone are not enough: a question that shares a place name or an organisation with the
corpus ("How many people live in Kensington?") finds passages that mention it and still go
unanswered. So the verdict reads the meaning of the best passage and sentence, how much of the
question's rare vocabulary the top passages contain (not just the corpus), the rarest word they
all miss, names and years the corpus never mentions (a name in several words too), which of
the question's words the corpus lacks (common words, as a question in other words lacks them,
or names and terms), and how sure the sentence scorer was.
Two fitted models read these features (``qa.scorers``): one decides whether to answer, the other
gives the answer's confidence (the probability it is right, calibrated on held-out collections).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from qa.answer_choice import MAX_MARGIN, AnswerChoice
from qa.retrieval import Candidate, Query, Retriever
from qa.text import bm25_tokenize, content_words, stem

QUESTION_FEATURES = (
    "top_passage",  # the top passage's relevance log-odds
    "passage_margin",  # ... less the second passage's (up to MAX_MARGIN)
    "top_dense",  # cosine of the question and the top passage
    "top_sentence",  # ... and the closest sentence of the top passages
    "corpus_coverage",  # share of the question's rarity-weighted words the corpus knows
    "top_coverage",  # ... the top passage contains
    "best_coverage",  # ... the best-covering of the top passages contains
    "missing_rare",  # rarity of the rarest question word no top passage contains (0..1)
    "text_coverage",  # the best share of them one top passage's own text holds (titles aside)
    "sentence_coverage",  # the largest share of them one sentence of the top passages holds
    "answer_score",  # the sentence scorer's score for the chosen answer
    "answer_cosine",  # cosine of the question and the chosen sentence
    "answer_overlap",  # share of the question's weighted words the chosen sentence holds
    "answer_margin",  # how far the chosen sentence leads the best rival answer
    "answer_beyond_title",  # share of the words its document's title lacks the answer holds
    "unknown_name",  # a capitalised name the corpus never mentions
    "unknown_year",  # a year the corpus never mentions
    "log_words",  # how many content words the question has
    "unknown_common",  # share of the question's weighted words the corpus lacks, common words
    "unknown_specific",  # ... the corpus lacks, other words (names, terms: "WireGuard", "SPDX")
)
JUDGED_PASSAGES = 3
# Capitalised words in a row, "of", "for", "the" or "&" allowed between them.
_NAME_PHRASE = re.compile(r"\b[A-Z][\w'’-]*(?:[ \t]+(?:(?:of|for|the|&)[ \t]+)?[A-Z][\w'’-]*)+")
_SENTENCE_START = re.compile(r"(?:\A|[.!?:]\s+)[\"“'‘(]*\Z")
_POSSESSIVE = re.compile(r"['’]s\b")
_NO_ANSWER_SCORE = -10.0


@dataclass(frozen=True)
class Verdict:
    answerable: float  # probability that the documents answer the question
    confidence: float  # probability that the chosen answer is right


@dataclass(frozen=True)
class QuestionFacts:
    """What the verdict needs to know of a question apart from its candidates: its words (as
    stems with rarity weights), how much of them the corpus knows, unknown names and years."""

    stems: list[str]
    weights: list[float]
    corpus_coverage: float
    unknown_name: bool
    unknown_year: bool
    # The words the corpus lacks, split by whether they are common English (a word the model's
    # tokenizer holds whole): a question in other words than the text's ("breach", "fix" for
    # "fails to comply", "cure") lacks common words; one about what the text never covers
    # lacks names and terms too.
    unknown_common: float = 0.0
    unknown_specific: float = 0.0

    @classmethod
    def of(cls, retriever: Retriever, query: Query) -> QuestionFacts:
        question_words = [w for w in content_words(query.expanded) if len(w) > 1]
        # A short form the documents never write ("EPL") is known when they write its long form
        # ("Eclipse Public License"): it is not a word they miss.
        vocabulary = retriever.vocabulary
        explained = {s for asked, _ in query.aliases for s in asked if s not in vocabulary}
        explained |= query.shortened
        asked = [(w, s) for w, s in ((w, stem(w)) for w in question_words) if s not in explained]
        stems = [s for _, s in asked]
        weights = [retriever.idf(s) for s in stems]
        total = sum(weights) or 1.0
        known = sum(w for s, w in zip(stems, weights, strict=True) if s in vocabulary)
        common = retriever.embedder.whole_words
        unknown_common = unknown_specific = 0.0
        for (word, s), weight in zip(asked, weights, strict=True):
            if s in vocabulary:
                continue
            if word in common:
                unknown_common += weight
            else:
                unknown_specific += weight
        # Capitalised words that are not function words ("I'm", "What's"), as the corpus knows
        # them ("Ofsted's" as "ofsted").
        names = {
            name for w in re.findall(r"\b[A-Z][\w'’]+", query.expanded) for name in content_words(w)
        }
        unknown_word = any(
            stem(name) not in vocabulary and stem(name) not in explained for name in names
        )
        return cls(
            stems,
            weights,
            known / total,
            unknown_word or _unknown_phrase(retriever, query.text),
            bool(query.years - retriever.corpus_years),
            unknown_common / total,
            unknown_specific / total,
        )


def _unknown_phrase(retriever: Retriever, question: str) -> bool:
    """Whether the question names something in several capitalised words that the documents
    know word by word but never write together ("the New Member process", "the Open Source
    Initiative"). A sentence's first word is left out, capitalised or not; a possessive ends a
    name ("ICU's CJ dictionary")."""
    for match in _NAME_PHRASE.finditer(question):
        text = match.group()
        if _SENTENCE_START.search(question[: match.start()]):
            text = text.split(maxsplit=1)[1] if " " in text else ""
        for part in _POSSESSIVE.split(text):
            stems = bm25_tokenize(part)
            if len(stems) >= 2 and not retriever.writes_phrase(stems):
                return True
    return False


def question_row(
    facts: QuestionFacts,
    top: list[Candidate],
    presence: dict[str, np.ndarray],
    answer: AnswerChoice | None,
) -> np.ndarray:
    """One row of ``QUESTION_FEATURES``: ``top`` are the best candidates (best first) and
    ``presence`` says which of them contain each of the question's stems."""
    if top:
        missing = [
            w for s, w in zip(facts.stems, facts.weights, strict=True) if not presence[s].any()
        ]
        rarest = max(facts.weights) if facts.weights else 1.0
        # A passage's coverage counts the words its document's title holds; what its own text
        # holds is evidence too: a question naming a command finds every passage of its page
        # holding the name, whether or not the passage says anything about what is asked.
        total = sum(facts.weights) or 1.0
        held = np.zeros(len(top))
        for stem, weight in zip(facts.stems, facts.weights, strict=True):
            held += weight * presence[stem]
        values = [
            top[0].score,
            min(top[0].score - top[1].score, MAX_MARGIN) if len(top) > 1 else MAX_MARGIN,
            top[0].dense,
            max(c.sentence for c in top),
            facts.corpus_coverage,
            top[0].coverage,
            max(c.coverage for c in top),
            max(missing) / rarest if missing and rarest > 0 else 0.0,
            float(held.max()) / total,
            max(c.sentence_coverage for c in top),
        ]
    else:
        values = [_NO_ANSWER_SCORE, 0.0, 0.0, 0.0, facts.corpus_coverage, 0.0, 0.0, 1.0, 0.0, 0.0]
    values += [
        answer.score if answer is not None else _NO_ANSWER_SCORE,
        answer.cosine if answer is not None else 0.0,
        answer.overlap if answer is not None else 0.0,
        answer.margin if answer is not None else 0.0,
        answer.beyond_title if answer is not None else 0.0,
        float(facts.unknown_name),
        float(facts.unknown_year),
        float(np.log1p(len(facts.stems))),
        facts.unknown_common,
        facts.unknown_specific,
    ]
    return np.array([values], dtype=np.float64)


def question_features(
    retriever: Retriever, query: Query, candidates: list[Candidate], choice: AnswerChoice | None
) -> np.ndarray:
    """One row of ``QUESTION_FEATURES`` for this question."""
    facts = QuestionFacts.of(retriever, query)
    top = candidates[:JUDGED_PASSAGES]
    rows = np.array([c.row for c in top], dtype=np.int64)
    presence = retriever.term_presence(list(dict.fromkeys(facts.stems)), rows, query.aliases)
    return question_row(facts, top, presence, choice)


def judge(
    retriever: Retriever, query: Query, candidates: list[Candidate], choice: AnswerChoice | None
) -> Verdict:
    features = question_features(retriever, query, candidates, choice)
    scorers = retriever.scorers
    return Verdict(
        float(scorers.answerable.probability(features)[0]),
        float(scorers.right.probability(features)[0]),
    )
