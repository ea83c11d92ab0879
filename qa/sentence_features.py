"""What the answer-sentence scorer reads about each candidate sentence, and how a chosen
sentence becomes an answer that stands on its own.

Candidates are the prose and list-item units of the top passages (headings, datelines and code
are read beside an answer, never offered as one). Their features: meaning (cosine), the
question's rare words they contain and the answer each would give contains, code aside (a
lead-in's answer holds what it introduces), their passage's rank, what they are (list item,
table row, lead-in ending with ":", a fragment), whether they carry what the question asks for
(a date for "when", a name for "who", a number for "how many", the asked year, a definition for
"what is").
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np

from qa.aliases import AliasForms
from qa.dates import find_dates, find_years
from qa.layout import Kind
from qa.text import bm25_tokenize, content_words, stem, words

SENTENCE_FEATURES = (
    "cosine",  # of question and sentence
    "cosine_gap",  # ... minus the best candidate's
    "overlap",  # share of the question's rarity-weighted words the sentence contains
    "overlap_gap",
    "passage_rank",  # 1 / rank of its passage
    "passage_gap",  # its passage's score minus the top passage's (log-odds)
    "list_item",
    "table_row",
    "log_chars",
    "short",  # under 40 characters
    "lead_in",  # ends with ":", introducing what follows
    "unfinished",  # does not end like a sentence
    "points_back",  # opens by leaning on the sentence before ("However, ...", "This ...")
    "type_match",  # carries what the question asks for (date, name, number)
    "type_missing",  # the question asks for one and the sentence has none
    "year_asked",  # mentions a year the question names
    "year_other",  # mentions years, none of them the asked one
    "defines",  # the question asks what something is, and the sentence defines it
    "first_in_passage",
    "subject_overlap",  # share of the question's weighted words in the sentence's first words
    "neighbour_cosine",  # the best cosine of the sentences either side (in the same passage)
    "answer_overlap",  # ... in the answer built from it (its code aside)
)
_SUBJECT_WORDS = 8
SHORT_SENTENCE = 40
MAX_ANSWER_CHARS = 400  # as read (runs of spaces as one); longer joins and lead-ins give way
NOT_ANSWERS = frozenset({Kind.HEADING, Kind.CODE, Kind.TERM})

_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:and\s+|&\s+)?[A-Z][a-z]+)+\b")
_NUMBER = re.compile(r"[£$€]\s?\d|\d")
_ENDS_SENTENCE = re.compile(r"""[.!?…]["'”’)\]]*$""")
_POINTS_BACK = re.compile(
    r"[\"“‘']?(?:(?:if|when|while|since|as|because|although|unless|once)\s+)?"
    r"(however|but|yet|so|also|and|instead|meanwhile|this|that|these|those|it|they|he|she|such"
    r"|the\s+(?:former|latter)|(?!\w*thing\b)\w{2,}ing\s+(?:it|so|this|that|these|those|them)"
    r"|(?:each|all|both|none|some|many|most|either|neither|one)\s+of\s+(?:these|those|them|this|it))\b",
    re.IGNORECASE,
)
_POLAR_QUESTION = re.compile(
    r"(?:can|could|does|do|did|is|are|was|were|should|shall|will|would|may|might|must|has|have"
    r"|am)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|only|neither|nor|none|nothing|without)\b|n['’]t\b",
    re.IGNORECASE,
)
# What a question asks to define, after any lead-in clause ("Under the licence, who counts as a
# Contributor?"): "what is X", "what does X mean", "what does the text mean by X", "how does the
# text define X", "what counts as X".
_DEFINITION_QUESTION = re.compile(
    r"^(?:[^?,]*,\s*)?(?:"
    r"(?:what|who)\s+(?:is|are|was|were)\s+(?:an?\s+|the\s+)?(?P<a>.+?)"
    r"|what\s+(?:does|do)\s+.+?\s+mean\s+by\s+(?:an?\s+|the\s+)?(?P<e>.+?)"
    r"|what\s+(?:does|do)\s+(?P<b>.+?)\s+(?:mean|stand\s+for|refer\s+to|do)"
    r"(?:\s+(?:in|on|within|under)\s+[^?]+?)?"  # "... mean in the CC BY licence?"
    r"|what\s+is\s+meant\s+by\s+(?P<c>.+?)"
    r"|how\s+(?:does|do)\s+.+?\s+define\s+(?:an?\s+|the\s+)?(?P<f>.+?)"
    r"|(?:what|who)\s+counts?\s+as\s+(?:an?\s+|the\s+)?(?P<g>.+?)"
    r"|(?:define|definition\s+of|meaning\s+of)\s+(?P<d>.+?)"
    r")\s*\??\s*$",
    re.IGNORECASE,
)
# Where the place of a "what is X" or "what counts as X" question is named after X ("what is a
# list in CMake", "who counts as a Contributor under the EPL"): the thing to define is X; the
# place is what the document or the whole collection is about.
_PLACE_QUALIFIER = re.compile(r"\s+(?:in|on|within|under)\s+(?:\S+\s+){0,7}\S+\Z", re.IGNORECASE)
# A sentence naming the thing after describing it: "Such padding blocks are called redzones.",
# "a file known as the manifest".
_NAMING = re.compile(
    r"\b(?:(?:is|are|was|were)\s+)?(?:called|known\s+as|termed|referred\s+to\s+as)\s+",
    re.IGNORECASE,
)
_NAMED_WITHIN = 60  # characters after the naming words read for the name
# Only where the copula starts matters ("is" covers "is defined as"); "are called" names what
# follows it, which ``_NAMING`` reads.
_COPULA = re.compile(
    r"\b(?:is|are|was|were|means|mean|refers?\s+to|denotes?|stands?\s+for|describes?)\b",
    re.IGNORECASE,
)


def expected_answer_type(question: str) -> str | None:
    """What a question asks for, when it asks for something recognisable: a date, a name or a
    number."""
    lowered = question.lower().lstrip()
    if lowered.startswith("when") or "what date" in lowered or "what year" in lowered:
        return "date"
    if lowered.startswith(("who", "whom", "which")):
        return "name"
    if "how much" in lowered or "how many" in lowered or "what percentage" in lowered:
        return "number"
    return None


def has_answer_type(text: str, wanted: str, question: str) -> bool:
    if wanted == "date":
        return bool(find_dates(text) or find_years(text))
    if wanted == "name":  # a name the question does not already contain
        asked = question.lower()
        return any(name.lower() not in asked for name in _NAME.findall(text))
    return bool(_NUMBER.search(text))


def asks_yes_or_no(question: str) -> bool:
    """Whether a question's last sentence asks for yes or no ("Can I ...?", "Does it ...?")."""
    sentences = re.split(r"(?<=[.!?])\s+", question.strip())
    return bool(_POLAR_QUESTION.match(sentences[-1]))


def negates(sentence: str) -> bool:
    """Whether a sentence negates or restricts ("not", "never", "cannot", "only")."""
    return bool(_NEGATION.search(sentence))


def points_back(sentence: str) -> bool:
    """Whether a sentence opens by leaning on the one before ("However, ...", "This ...",
    "If it exists, ...", "Each of these ...", "Using it there ...")."""
    return bool(_POINTS_BACK.match(sentence))


def definition_focus(question: str) -> frozenset[str]:
    """The stems of what a "what is X / what does X mean" question asks to define (empty for
    other questions)."""
    match = _DEFINITION_QUESTION.match(question)
    if not match:
        return frozenset()
    focus = next(group for group in match.groups() if group)
    if match.group("a") or match.group("g"):
        focus = _PLACE_QUALIFIER.sub("", focus) or focus
    # A term that is a function word is asked as written: licences define "You".
    return frozenset(bm25_tokenize(focus)) or _every_stem(focus)


def defines(sentence: str, focus: frozenset[str]) -> bool:
    """Whether ``sentence`` reads as a definition of ``focus``: the focus words, then a copula
    ("is", "means", "refers to", ...) early in the sentence; or naming words ("are called",
    "known as") right before the focus words."""
    if not focus:
        return False
    naming = _NAMING.search(sentence)
    if naming:  # the focus words are the first words named
        named = bm25_tokenize(sentence[naming.end() : naming.end() + _NAMED_WITHIN])
        if focus <= set(named[: len(focus)]):
            return True
    copula = _COPULA.search(sentence)
    if copula is None or copula.start() > 0.6 * len(sentence) + 20:
        return False
    return focus <= _every_stem(sentence[: copula.start()])


def _every_stem(text: str) -> frozenset[str]:
    """The stems of all of a text's words, function words too ("`You' refers to ...")."""
    return frozenset(bm25_tokenize(text)) | {stem(word) for word in words(text)}


@dataclass(frozen=True)
class QuestionTraits:
    """What a question asks for, read once per question."""

    text: str
    weights: dict[str, float]  # stemmed words (aliases expanded) -> rarity weight
    aliases: AliasForms
    years: set[int]
    wanted: str | None
    focus: frozenset[str]
    yes_or_no: bool  # the question asks for yes or no ("Can I ...?")


def sentence_row(
    text: str,
    kind: int,
    cosine: float,
    traits: QuestionTraits,
    position: int,
    neighbour_cosine: float,
    answer_text: str,
) -> list[float]:
    """The features of one sentence that do not depend on the other candidates (the
    ``*_gap`` and passage columns are filled in by ``finish``)."""
    stems = bm25_tokenize(text)
    tokens = _matched(set(stems), traits)
    total = sum(traits.weights.values()) or 1.0
    overlap = sum(w for token, w in traits.weights.items() if token in tokens) / total
    subject = _matched(set(stems[:_SUBJECT_WORDS]), traits)
    subject_overlap = sum(w for token, w in traits.weights.items() if token in subject) / total
    stripped = text.rstrip()
    years = find_years(text)
    has_type = bool(traits.wanted) and has_answer_type(text, traits.wanted or "", traits.text)
    answered = _matched(set(bm25_tokenize(answer_text)), traits)
    answer_overlap = sum(w for token, w in traits.weights.items() if token in answered) / total
    return [
        cosine,
        0.0,
        overlap,
        0.0,
        0.0,
        0.0,
        float(kind == Kind.LIST_ITEM),
        float(kind == Kind.TABLE_ROW),
        float(np.log1p(len(text))),
        float(len(text) < SHORT_SENTENCE),
        float(stripped.endswith(":")),
        float(not _ENDS_SENTENCE.search(stripped) and not stripped.endswith(":")),
        float(points_back(text)),
        float(has_type),
        float(bool(traits.wanted) and not has_type),
        float(bool(years & traits.years)),
        float(bool(traits.years) and bool(years) and not years & traits.years),
        float(defines(text, traits.focus)),
        float(position == 0),
        subject_overlap,
        neighbour_cosine,
        answer_overlap,
    ]


def finish(rows: np.ndarray, passage_rank: np.ndarray, passage_gap: np.ndarray) -> np.ndarray:
    """Fill in the columns relative to the other candidates and to their passages."""
    if not len(rows):
        return rows
    rows[:, 1] = rows[:, 0] - rows[:, 0].max()
    rows[:, 3] = rows[:, 2] - rows[:, 2].max()
    rows[:, 4] = 1.0 / (1.0 + passage_rank)
    rows[:, 5] = passage_gap
    return rows


def beyond_title(answer_text: str, title: AbstractSet[str], traits: QuestionTraits) -> float:
    """The share of the question's weighted words outside its answer's document title that the
    answer holds (1.0 when the title holds them all).

    A question names what its document is about ("... under the Eclipse Public License 2.0?"),
    and every passage of that document holds those words, through its title or its text. An
    answer that holds only them names the subject and says nothing of what is asked: a licence's
    opening statement, offered for its release date or its governing law."""
    asked = {token: w for token, w in traits.weights.items() if token not in title}
    total = sum(asked.values())
    if total <= 0:
        return 1.0
    answered = _matched(set(bm25_tokenize(answer_text)), traits)
    return sum(w for token, w in asked.items() if token in answered) / total


def _matched(sentence_tokens: set[str], traits: QuestionTraits) -> set[str]:
    """The sentence's words, counting an alias's other form as the asked one ("Royal Borough of
    Kensington and Chelsea" in the sentence answers "RBKC" in the question). Only this way, not
    both ways as passages are read (``qa.aliases.with_alias_forms``): a sentence writing both
    forms is often the one that says what the subject is, and crediting the asked form with the
    other's words cost two right answers in ``make eval`` and gained none."""
    matched = set(sentence_tokens)
    for asked, other in traits.aliases:
        if other and set(other) <= sentence_tokens:
            matched.update(asked)
    return matched


def content_word_count(question: str) -> int:
    return sum(1 for w in content_words(question) if len(w) > 1)
