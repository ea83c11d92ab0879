"""A text file's front matter: the ``key: value`` lines before its text that name its title and
date. Two forms are read:

- between two ``---`` lines, as static-site generators and note-taking apps write Markdown;
- a block of fields up to the first blank line that includes a subject or title, as a saved
  mail message ("From:", "Subject:", "Date:") or a MultiMarkdown file ("Title:", "Date:")
  opens.

Only the title and date are read from it, for the document's record. The block stays in the
document text (offsets point into the file as it is); without this, the file's title would be
read from the block's first lines ("title: Harbour Rules date: 2026-03-01", "From: Jane Doe").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCED = re.compile(
    r"\A\ufeff?---[ \t]*\r?\n(?P<body>(?:[^\n]*\n){1,60}?)(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)"
)
_HEADERS = re.compile(r"\A\ufeff?(?P<body>(?:[A-Za-z][\w-]*:[^\n]*\n(?:[ \t]+\S[^\n]*\n)*){2,60})")
_FIELD = re.compile(r"(?P<key>[A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(?P<value>.*?))?[ \t]*\r?")
_TITLE_KEYS = ("title", "subject")
_DATE_KEYS = ("date", "published", "pubdate", "created")


@dataclass(frozen=True)
class FrontMatter:
    end: int  # offset just after the block; 0 when there is no block
    title: str | None = None
    date: str | None = None


def front_matter(text: str) -> FrontMatter:
    """The front matter opening ``text``: fields between ``---`` lines (a text that merely opens
    with a rule has none), or a block of fields naming a subject or title."""
    fenced = _FENCED.match(text)
    if fenced is not None:
        return _read(fenced["body"], fenced.end())
    headers = _HEADERS.match(text)
    if headers is not None and _ends_at_blank_line(text, headers.end()):
        found = _read(headers["body"], headers.end())
        if found.title:
            return found
    return FrontMatter(0)


def _read(body: str, end: int) -> FrontMatter:
    """The title and date of a block's fields; no front matter if a line is not a field."""
    fields: dict[str, str] = {}
    for line in body.splitlines():
        if not line.strip() or line[:1] in " \t-#":
            continue  # a blank line, a value continued (a list, a folded header), a comment
        field = _FIELD.fullmatch(line)
        if field is None:
            return FrontMatter(0)  # prose under a rule, not fields
        fields.setdefault(field["key"].lower(), _unquoted(field["value"] or ""))
    if not fields:
        return FrontMatter(0)
    return FrontMatter(
        end,
        title=next((fields[k] for k in _TITLE_KEYS if fields.get(k)), None),
        date=next((fields[k] for k in _DATE_KEYS if fields.get(k)), None),
    )


def _ends_at_blank_line(text: str, end: int) -> bool:
    """Whether the header block is followed by a blank line or the end of the text: fields run
    into a paragraph are a paragraph that starts with labels."""
    return not text[end:].split("\n", 1)[0].strip()


def _unquoted(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value
