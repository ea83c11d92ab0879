"""Abbreviations learned from the corpus itself, so "RBKC" finds "Royal Borough of Kensington and
Chelsea" and "H&F" finds "Hammersmith and Fulham" without a hand-written list.

Three sources, all read from the documents:
- definitions written as ``Long Form (ABBR)`` or, as agreements write them, ``Long Form
  ("ABBR")``, accepted when the abbreviation's letters are the initials of the long form's words
  (a simplified Schwartz–Hearst check);
- capitalised pairs joined by "and" or "&" ("Hammersmith and Fulham"), which people shorten to
  their initials with an ampersand ("H&F");
- names the documents repeat in capitalised words ("Eclipse Public License"), which readers
  shorten to their initials ("EPL") though the documents never do. Only a question's word in
  capitals is read this way, and only to know it is no stranger (``shortened_names``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np

_DEFINITION = re.compile(r"""\(\s*["“']?([A-Za-z][A-Za-z&]{1,9})["”']?\s*\)""")
# A run of capitalised words, minor words allowed between them: "Python Software Foundation",
# "Corporation for National Research Initiatives".
_CAPITALISED_RUN = re.compile(
    r"\b[A-Z][a-z]+(?:\s+(?:(?:of|for|and|the|on|in|to|&)\s+)?[A-Z][a-z]+)+"
)
_ACRONYM = re.compile(r"\b[A-Z]{3,6}\b")  # a question's word in capitals
_NAME_WORDS = 6  # the most capitalised words a name shortened to initials has
_NAME_REPEATS = 2  # how often the documents must write a name before its initials stand for it
_PAIR = re.compile(r"\b([A-Z][a-z]+)\s+(?:and|&)\s+([A-Z][a-z]+)\b")
_MINOR = {"of", "and", "the", "for", "in", "on", "to", "&"}
_WORD = re.compile(r"[A-Za-z]+")


def _initials_match(abbreviation: str, words: list[str]) -> bool:
    """True when the abbreviation's letters are the initials of ``words`` (minor words optional)."""
    letters = abbreviation.lower().replace("&", "")

    def match(i: int, j: int) -> bool:
        if i == len(letters):
            return j == len(words)
        if j == len(words):
            return False
        word = words[j].lower()
        if word[0] == letters[i] and match(i + 1, j + 1):
            return True
        return word in _MINOR and match(i, j + 1)

    return bool(words) and words[0].lower() not in _MINOR and match(0, 0)


def _long_form_before(text: str, position: int, abbreviation: str) -> str | None:
    """The shortest run of words before ``position`` whose initials spell ``abbreviation``."""
    before = text[max(0, position - 120) : position]
    tokens = _WORD.findall(before.replace("-", " "))
    limit = min(len(tokens), 2 * len(abbreviation) + 2)
    for size in range(1, limit + 1):
        words = tokens[-size:]
        if _initials_match(abbreviation, words):
            # Return the original wording, hyphens included, from the first word to the end.
            start = before.rfind(words[0], 0, len(before) - len(" ".join(words[1:])) + 1)
            original = before[start:].strip() if start >= 0 else " ".join(words)
            return " ".join(original.split())
    return None


@dataclass
class AliasTable:
    """Maps lower-cased short forms to long forms and back."""

    long_forms: dict[str, str] = field(default_factory=dict)
    # Initials (in capitals) -> the name the documents write most often with those initials.
    initials: dict[str, str] = field(default_factory=dict)

    @classmethod
    def learn(cls, texts: Iterable[str]) -> AliasTable:
        table = cls()
        names: Counter[str] = Counter()
        for text in texts:
            for match in _DEFINITION.finditer(text):
                abbreviation = match.group(1)
                long_form = _long_form_before(text, match.start(), abbreviation)
                if long_form:
                    table.long_forms.setdefault(abbreviation.lower(), long_form)
            for first, second in _PAIR.findall(text):
                short = f"{first[0]}&{second[0]}".lower()
                table.long_forms.setdefault(short, f"{first} and {second}")
            for run in _CAPITALISED_RUN.finditer(text):
                names.update(_names_in(run.group().split()))
        for name, count in names.most_common():
            if count < _NAME_REPEATS:
                break
            table.initials.setdefault(_initials_of(name.split()), name)
        return table

    def pairs_in(self, question: str) -> list[tuple[str, str]]:
        """(form written in the question, the other form) for every known alias it mentions."""
        pairs: list[tuple[str, str]] = []
        lowered = question.lower()
        for token in re.findall(r"[A-Za-z]+(?:&[A-Za-z]+)*", question):
            long_form = self.long_forms.get(token.lower())
            if long_form and long_form.lower() not in lowered:
                pairs.append((token, long_form))
        for short, long_form in self.long_forms.items():
            if "&" not in short and long_form.lower() in lowered and short not in lowered.split():
                pairs.append((long_form, short.upper() if len(short) <= 4 else short))
        return list(dict.fromkeys(pairs))

    def shortened_names(self, question: str) -> list[str]:
        """The question's words in capitals that stand for a name the documents write in full
        ("EPL" for "Eclipse Public License") but never define as short for it.

        They are not added to the question as defined short forms are: the name is most often
        the documents' own subject, which their title and first lines spell out, so searching
        for it would favour those over the passage that answers. They only tell the verdict
        that the question's word is not foreign to the documents."""
        return [
            acronym
            for acronym in dict.fromkeys(_ACRONYM.findall(question))
            if acronym in self.initials and acronym.lower() not in self.long_forms
        ]

    def expand(self, question: str) -> str:
        """The question with every known short form followed by its long form (and vice versa)."""
        return expand_with(question, self.pairs_in(question))


def _names_in(words: list[str]) -> list[str]:
    """Every stretch of a run of capitalised words that could be a name: two to ``_NAME_WORDS``
    capitalised words, starting and ending with one ("Eclipse Public License", "Public
    License")."""
    found = []
    for first, word in enumerate(words):
        if word.lower() in _MINOR:
            continue
        capitalised = 0
        for last in range(first, len(words)):
            if words[last].lower() in _MINOR:
                continue
            capitalised += 1
            if capitalised > _NAME_WORDS:
                break
            if capitalised >= 2:
                found.append(" ".join(words[first : last + 1]))
    return found


def _initials_of(words: list[str]) -> str:
    return "".join(word[0] for word in words if word.lower() not in _MINOR).upper()


def expand_with(question: str, pairs: list[tuple[str, str]]) -> str:
    """The question followed by the other form of each alias it mentions (``pairs_in``'s pairs):
    the one way an expanded question is written, for retrieval and ``AliasTable.expand`` alike."""
    if not pairs:
        return question
    return f"{question} ({'; '.join(other for _, other in pairs)})"


# The stems of each alias a question mentions: (the form it asks with, the other form).
AliasForms = Sequence[tuple[Sequence[str], Sequence[str]]]


def _whole(form: Sequence[str], held: AbstractSet[str]) -> bool:
    return bool(form) and all(token in held for token in form)


def with_alias_forms(stems: AbstractSet[str], aliases: AliasForms) -> AbstractSet[str]:
    """``stems`` and both forms of every alias one of whose forms they hold whole.

    A text that writes "Single Inspection Framework" holds what a question asking "SIF" means,
    and one that writes only "SIF" holds the question's "single inspection framework": counted
    word by word, each would miss the other form's words, and the passage naming the subject in
    one form only (most passages, once a document has defined its short form) would look as if
    it missed the question's rarest word."""
    if not aliases:
        return stems  # most questions: read for every candidate sentence, so no work at all
    added = {
        token
        for asked, other in aliases
        if _whole(asked, stems) or _whole(other, stems)
        for token in (*asked, *other)
    }
    return stems | added if added - stems else stems


def presence_with_alias_forms(
    presence: dict[str, np.ndarray], aliases: AliasForms
) -> dict[str, np.ndarray]:
    """``with_alias_forms`` for many texts at once: ``presence`` says which texts hold each
    token; a text holding one form of an alias whole is marked as holding the other's tokens."""
    if not aliases:
        return presence
    held = dict(presence)
    for asked, other in aliases:
        whole = [
            np.logical_and.reduce([presence[t] for t in form])
            for form in (asked, other)
            if form and all(t in presence for t in form)
        ]
        if not whole:
            continue
        either = np.logical_or.reduce(whole)
        for token in {*asked, *other} & presence.keys():
            held[token] = held[token] | either
    return held
