"""The text of a span as a reader (and the model) reads it: the layout's line breaks,
indentation and line-end hyphenation undone. Offsets never change: this is for display,
embedding and matching only."""

from __future__ import annotations

import re

from qa.text import LINE_END_HYPHEN

_FENCE_LINE = re.compile(r"^\s*(```|~~~)\s*$", re.MULTILINE)


def reading_text(span: str) -> str:
    """``span`` on one line: hyphenation at line ends undone, whitespace runs made one space."""
    return " ".join(LINE_END_HYPHEN.sub("", _FENCE_LINE.sub("", span)).split())
