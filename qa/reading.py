"""The text of a span as a reader (and the model) reads it: the layout's line breaks,
indentation and line-end hyphenation undone. Offsets never change: this is for display,
embedding and matching only."""

from __future__ import annotations

import re

from qa.lines import QUOTE_MARK
from qa.text import unwrap_hyphens

_FENCE_LINE = re.compile(r"^\s*(```|~~~)\s*$", re.MULTILINE)


def reading_text(span: str) -> str:
    """``span`` on one line: breaks after hyphens undone (see ``unwrap_hyphens``), the markers
    of quoted text ("#", ">") at its lines' starts dropped, whitespace runs made one space."""
    return " ".join(unwrap_hyphens(_FENCE_LINE.sub("", _unquoted(span))).split())


def _unquoted(span: str) -> str:
    """``span`` without the marker each line after its first opens with, when every one of them
    opens with the same one (text quoted as a shell comment or a mail quote, read as prose by
    ``qa.lines.unquoted``; the first line starts past its marker)."""
    head, *rest = span.split("\n")
    marks = [QUOTE_MARK.match(line) for line in rest]
    found = [mark for mark in marks if mark is not None]
    if not rest or len(found) < len(rest) or len({mark.group(1) for mark in found}) != 1:
        return span
    return "\n".join([head, *(line[mark.end() :] for line, mark in zip(rest, found, strict=True))])
