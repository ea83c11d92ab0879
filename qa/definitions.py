"""Definition lists in plain text: a term (an option's flags, a field's name) and its description
indented deeper beneath it, or after a wide gap on the term's own line, as man pages, ``--help``
output and many manuals lay them out::

       -a, --all
              do not ignore entries starting with .

       -C     list entries by columns

Read as ordinary lines, the term is a short line without a full stop (a heading, by the label
rule) and so is the description, which man pages write without one: every option became a
"heading", never offered as an answer, and a passage's context was the option before it. Read
as an entry, the term is its description's heading and the description is what answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from qa.lines import Line, is_blank, looks_like_code, starts_item

STEP = 3  # a description sits at least this much deeper than its term (2 is a list's wrap)
_MAX_TERM_CHARS = 60  # longer first lines are sentences, not terms
_MAX_INLINE_TERM = 30  # a term written before the gap on its description's first line
_CENTRED = 2.0  # lines whose middles are this close are centred text, not a term over its body
_CENTRED_INDENT = 10  # ... when they stand well away from the margin, as centred lines do
_GAP = re.compile(r"\S(\s{3,})(?=\S)")  # the gap after an inline term
_NARROW_GAP = re.compile(r"\S+( {1,2})(?=\S)")  # after a term that nearly fills its column
_NOT_A_TERM_END = re.compile(r"""[.!?:;,{(\\]["'”’)\]]*$""")  # sentences, lead-ins, code
_PROMPT = re.compile(r"(?:>>>|\.\.\.|\$|%|In \[\d+\]:)(?:\s|$)")


@dataclass(frozen=True)
class Entry:
    """One term and its description: ``lines[term]`` holds the term, ending at offset
    ``term_end``; the description starts at offset ``body_start`` (on the term's line when the
    term is inline) at column ``body_indent`` and runs to ``lines[last]``."""

    term: int
    term_end: int
    body_start: int
    body_indent: int
    last: int
    bullet: bool = False  # a one-character term ("o") marks a list item, not a term


def entries(text: str, lines: list[Line]) -> list[Entry]:
    """Every definition-list entry of the text, in order (an entry may hold entries of its own).

    Terms at the text's least indentation are left alone: there a short line over an indented
    body is a section heading (a man page's NAME, DESCRIPTION), whose body holds the lists."""
    written = [line.indent for line in lines if not is_blank(line)]
    base = min(written) if written else 0
    starts = [
        index
        for index, line in enumerate(lines)
        if not is_blank(line) and line.indent > base and _starts_block(text, lines, index)
    ]
    found = {index: entry for index in starts if (entry := _entry_at(text, lines, index))}
    # Where the list's other terms set their descriptions: a term that nearly fills that column
    # is left one or two spaces before its description ("rates  Prints ..." beside "opt    ...").
    columns = {
        (lines[entry.term].indent, entry.body_indent)
        for entry in found.values()
        if entry.body_start < lines[entry.term].end
    }
    for index in starts:
        if index not in found and (entry := _narrow_entry_at(text, lines, index, columns)):
            found[index] = entry
    return [found[index] for index in sorted(found)]


def _starts_block(text: str, lines: list[Line], index: int) -> bool:
    """A term follows a blank line, starts the text, or follows the lead-in that introduces its
    list from further out ("   Exit status:" over "       0      if OK,"); after a deeper line
    it is code's ``else``, not a term."""
    if index == 0 or is_blank(lines[index - 1]):
        return True
    before = lines[index - 1]
    return before.indent < lines[index].indent and before.text(text).endswith(":")


def _entry_at(text: str, lines: list[Line], index: int) -> Entry | None:
    line = lines[index]
    body = line.text(text)
    inline = None if starts_item(body) or _PROMPT.match(body) else _GAP.search(body)
    following = lines[index + 1] if index + 1 < len(lines) else None
    if (
        inline is not None
        and inline.start(1) <= _MAX_INLINE_TERM
        and not _NOT_A_TERM_END.search(body[: inline.start(1)])
    ):
        # "-C     list entries by columns": the description's column is where it starts, and a
        # wrapped description's next lines keep to it.
        column = line.indent + inline.end(1)
        if following is None or is_blank(following) or following.indent == column:
            term_end = line.start + inline.start(1)
            entry = _with_body(lines, index, term_end, line.start + inline.end(1), column)
            return replace(entry, bullet=term_end - line.start == 1)
    if (
        following is None
        or is_blank(following)
        or following.indent < line.indent + STEP
        or len(body) > _MAX_TERM_CHARS
        or _NOT_A_TERM_END.search(body)
        or starts_item(body)
        or _PROMPT.match(body)
        or looks_like_code(following.text(text))
        or looks_like_code(body)
        and not body.startswith(("-", "+"))  # an option is symbols
        or _centred(line, following)
    ):
        return None
    return _with_body(lines, index, line.end, following.start, following.indent)


def _centred(line: Line, following: Line) -> bool:
    """Whether two lines are centred on one column, as a title page is set ("GNU GENERAL PUBLIC
    LICENSE" over "Version 3, 29 June 2007"): a term sits at the left of its description."""
    if line.indent < _CENTRED_INDENT:
        return False  # near the margin: a subsection's heading over an option, say
    return abs(_middle(line) - _middle(following)) <= _CENTRED


def _middle(line: Line) -> float:
    """The column a line's text is centred on."""
    return (line.indent + line.width) / 2


def _narrow_entry_at(
    text: str, lines: list[Line], index: int, columns: set[tuple[int, int]]
) -> Entry | None:
    """The entry at ``index`` whose one-word term is followed by one or two spaces only, if its
    description starts at a column the list's other terms use (``columns``: term indent and
    description column) and its next line goes on at that column: a line of prose whose second
    word happens to start there has no next line indented under that word."""
    line = lines[index]
    body = line.text(text)
    gap = None if starts_item(body) or _PROMPT.match(body) else _NARROW_GAP.match(body)
    if gap is None or _NOT_A_TERM_END.search(body[: gap.start(1)]) or body.endswith(":"):
        return None  # a line ending in ":" leads into the lines indented under it
    column = line.indent + gap.end(1)
    following = lines[index + 1] if index + 1 < len(lines) else None
    if (line.indent, column) not in columns or following is None or following.indent != column:
        return None
    return _with_body(lines, index, line.start + gap.start(1), line.start + gap.end(1), column)


def _with_body(lines: list[Line], index: int, term_end: int, body_start: int, column: int) -> Entry:
    """The entry whose description runs, across blank lines, until a line no deeper than the
    term (the next term, or the text the list sits in)."""
    limit = lines[index].indent
    last = index
    for number in range(index + 1, len(lines)):
        line = lines[number]
        if is_blank(line):
            continue
        if line.indent <= limit:
            break
        last = number
    return Entry(index, term_end, body_start, column, last)
