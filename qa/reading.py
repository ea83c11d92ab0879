"""The text of a span as a reader (and the model) reads it: the layout's line breaks,
indentation and line-end hyphenation undone. Offsets never change: this is for display,
embedding and matching only."""

from __future__ import annotations

import re

from qa.text import unwrap_hyphens

_FENCE_LINE = re.compile(r"^\s*(```|~~~)\s*$", re.MULTILINE)


def reading_text(span: str) -> str:
    """``span`` on one line: breaks after hyphens undone (see ``unwrap_hyphens``), whitespace
    runs made one space."""
    return " ".join(unwrap_hyphens(_FENCE_LINE.sub("", span)).split())
