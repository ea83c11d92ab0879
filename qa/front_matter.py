"""A text file's front matter: the block of ``key: value`` lines between two ``---`` lines that
static-site generators and note-taking apps put before a Markdown text, naming its title and
date.

Only the title and date are read from it, for the document's record. The block stays in the
document text (offsets point into the file as it is); without this, the file's title would be
read from the block's first lines ("title: Harbour Rules date: 2026-03-01").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLOCK = re.compile(
    r"\A\ufeff?---[ \t]*\r?\n(?P<body>(?:[^\n]*\n){1,60}?)(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)"
)
_FIELD = re.compile(r"(?P<key>[A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(?P<value>.*?))?[ \t]*\r?")
_TITLE_KEYS = ("title",)
_DATE_KEYS = ("date", "published", "pubdate", "created")


@dataclass(frozen=True)
class FrontMatter:
    end: int  # offset just after the block's closing line; 0 when there is no block
    title: str | None = None
    date: str | None = None


def front_matter(text: str) -> FrontMatter:
    """The front matter opening ``text``, if its first line is ``---`` and its lines up to the
    next ``---`` (or ``...``) are fields; a text that merely opens with a rule has none."""
    block = _BLOCK.match(text)
    if block is None:
        return FrontMatter(0)
    fields: dict[str, str] = {}
    for line in block["body"].splitlines():
        if not line.strip() or line[:1] in " \t-#":
            continue  # a blank line, a list or mapping continued, a comment
        field = _FIELD.fullmatch(line)
        if field is None:
            return FrontMatter(0)  # prose under a rule, not fields
        fields.setdefault(field["key"].lower(), _unquoted(field["value"] or ""))
    if not fields:
        return FrontMatter(0)
    return FrontMatter(
        block.end(),
        title=next((fields[k] for k in _TITLE_KEYS if fields.get(k)), None),
        date=next((fields[k] for k in _DATE_KEYS if fields.get(k)), None),
    )


def _unquoted(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value
