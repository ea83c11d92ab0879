"""Abbreviations learned from the corpus itself, so "RBKC" finds "Royal Borough of Kensington and
Chelsea" and "H&F" finds "Hammersmith and Fulham" without a hand-written list.

Two sources, both read from the documents:
- definitions written as ``Long Form (ABBR)``, accepted when the abbreviation's letters are the
  initials of the long form's words (a simplified Schwartz–Hearst check);
- capitalised pairs joined by "and" or "&" ("Hammersmith and Fulham"), which people shorten to
  their initials with an ampersand ("H&F").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_DEFINITION = re.compile(r"\(([A-Za-z][A-Za-z&]{1,9})\)")
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

    @classmethod
    def learn(cls, texts: Iterable[str]) -> AliasTable:
        table = cls()
        for text in texts:
            for match in _DEFINITION.finditer(text):
                abbreviation = match.group(1)
                long_form = _long_form_before(text, match.start(), abbreviation)
                if long_form:
                    table.long_forms.setdefault(abbreviation.lower(), long_form)
            for first, second in _PAIR.findall(text):
                short = f"{first[0]}&{second[0]}".lower()
                table.long_forms.setdefault(short, f"{first} and {second}")
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

    def expand(self, question: str) -> str:
        """The question with every known short form followed by its long form (and vice versa)."""
        return expand_with(question, self.pairs_in(question))


def expand_with(question: str, pairs: list[tuple[str, str]]) -> str:
    """The question followed by the other form of each alias it mentions (``pairs_in``'s pairs):
    the one way an expanded question is written, for retrieval and ``AliasTable.expand`` alike."""
    if not pairs:
        return question
    return f"{question} ({'; '.join(other for _, other in pairs)})"
