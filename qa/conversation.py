"""Resolving an elliptical follow-up ("and in 2016?", "what about Westminster?") against the
previous question of the conversation, so retrieval sees a complete question."""

from __future__ import annotations

import re

from qa.dates import YEAR, find_years
from qa.text import content_words

_FOLLOW_UP_OPENERS = re.compile(
    r"^\s*(and|but|also|what about|how about|and what about|same for|what of|then)\b", re.I
)
_FILLER = {"and", "about", "but", "also", "same", "then", "how", "what", "in", "for"}


def is_elliptical(question: str) -> bool:
    """Short, or opening like a continuation, and so incomplete on its own."""
    meaningful = [w for w in content_words(question) if w not in _FILLER]
    return bool(_FOLLOW_UP_OPENERS.match(question)) or len(meaningful) <= 1


_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:and|&|of)\s+[A-Z][\w'’-]*|\s+[A-Z][\w'’-]*)*")


def resolve_follow_up(question: str, history: list[str] | None) -> str:
    """The question to retrieve for: unchanged, or the last question with the new year or name
    put in place of the old one ("and in 2016?" after "... good in 2019?" -> "... good in 2016?")."""
    if not history or not is_elliptical(question):
        return question
    previous = history[-1].strip().rstrip("?")
    new_years = sorted(find_years(question))
    if new_years:
        if find_years(previous):
            previous = YEAR.sub(str(new_years[0]), previous)
        else:
            previous = f"{previous} in {new_years[0]}"
    new_names = _NAME.findall(_FOLLOW_UP_OPENERS.sub("", question))
    # A capital at the very start of the question is grammar, not a name.
    old_names = [m.group() for m in _NAME.finditer(previous) if m.start() > 0]
    if new_names:
        if old_names:
            head, _, tail = previous.rpartition(old_names[-1])
            previous = f"{head}{new_names[0]}{tail}"
        else:
            previous = f"{previous} {new_names[0]}"
    return previous + "?"
