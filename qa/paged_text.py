"""Plain text laid out in pages: a form feed between pages, a running header and footer around it.

``pdftotext``, RFCs and printers' files lay text out this way. Read as it is, the footer, the form
feed and the next page's header land in the middle of whatever paragraph the page cut: the
sentence is split in two, and the furniture ("Doe   Informational   [Page 3]") becomes a
heading that opens a passage. So, like a PDF's running heads (``qa.pdf_text``), the furniture
is left out of the document text, and a paragraph the page cut runs on.

Furniture is recognised by repetition, never by its words: a line at a page's top or bottom
edge is furniture when the same line stands at that edge of at least half the pages. At the
bottom, lines that differ only in their numbers count as the same ("[Page 3]", "[Page 14]"); at
the top they do not, because a text that starts each page with a new section ("Section 3") would
lose its headings. A book's heads that name each page's section beside its page number are
told by their numbers (``qa.page_numbers``). A text with no such lines is returned unchanged.
"""

from __future__ import annotations

import re
from collections import Counter

from qa.lines import ENDS_SENTENCE
from qa.page_numbers import numbered_heads

FORM_FEED = "\f"
# Fewer pages than this are too few to tell a running header from a first line that happens
# to repeat.
MIN_PAGES = 3
# How many lines at each edge of a page may be furniture (a running title over a page number).
EDGE_LINES = 2
_DIGITS = re.compile(r"\d+")


def without_page_furniture(text: str) -> str:
    """``text`` with each page break's running header and footer (and the form feed between
    them) removed: a break that cuts a sentence becomes a line break, any other a blank line."""
    pages = text.split(FORM_FEED)
    if len(pages) < MIN_PAGES:
        return text
    lines = [page.split("\n") for page in pages]
    heads = _furniture([_edge(page, top=True) for page in lines[1:]])
    feet = _furniture([_edge(page, top=False) for page in lines], numbers_aside=True)
    numbered = numbered_heads([_edge(page, top=True) + _edge(page, top=False) for page in lines])
    # Each page's body: the lines between its header and footer (line indexes, end exclusive).
    # The first page's top is the document's own (its title may be the running header).
    bodies = [
        (
            _body_start(page, heads | numbered[number]) if number else (0, 0),
            _body_end(page, feet | numbered[number]),
        )
        for number, page in enumerate(lines)
    ]
    if not any(top[1] or bottom[1] for top, bottom in bodies):
        return text  # no page has furniture at its edges
    out: list[str] = []
    for page, ((start, _), (end, _)) in zip(lines, bodies, strict=True):
        if out:
            out.append("\n" if _runs_on(out[-1]) else "\n\n")
        out.append("\n".join(page[start:end]))
    return "".join(out) + ("\n" if text.endswith("\n") else "")


def _shape(line: str) -> str:
    """A line with its spacing made alike."""
    return " ".join(line.split())


def _numbers_aside(shape: str) -> str:
    """A shape with its numbers made alike: "[Page 3]" and "[Page 14]" read the same."""
    return _DIGITS.sub("#", shape)


def _edge(page: list[str], top: bool) -> list[str]:
    """The shapes of the first (or last) ``EDGE_LINES`` non-blank lines of a page, edge first."""
    ordered = page if top else page[::-1]
    return [_shape(line) for line in ordered if line.strip()][:EDGE_LINES]


def _furniture(edges: list[list[str]], numbers_aside: bool = False) -> set[str]:
    """The shapes standing at this edge of at least half the pages (and of two at the least).
    With ``numbers_aside``, shapes that read the same numbers aside count as one."""
    read = _numbers_aside if numbers_aside else (lambda shape: shape)
    counts = Counter(read(shape) for edge in edges for shape in set(edge))
    needed = max(2, (len(edges) + 1) // 2)
    return {shape for edge in edges for shape in edge if counts[read(shape)] >= needed}


def _body_start(page: list[str], heads: set[str]) -> tuple[int, int]:
    """The first line of a page after its header lines and the blank lines around them, and
    how many header lines there were."""
    index, skipped = 0, 0
    while index < len(page):
        line = page[index]
        if not line.strip():
            index += 1
        elif skipped < EDGE_LINES and _shape(line) in heads:
            index, skipped = index + 1, skipped + 1
        else:
            break
    return index, skipped


def _body_end(page: list[str], feet: set[str]) -> tuple[int, int]:
    """One past the last line of a page before its footer lines and the blank lines around
    them, and how many footer lines there were."""
    index, skipped = len(page), 0
    while index > 0:
        line = page[index - 1]
        if not line.strip():
            index -= 1
        elif skipped < EDGE_LINES and _shape(line) in feet:
            index, skipped = index - 1, skipped + 1
        else:
            break
    return index, skipped


def _runs_on(written: str) -> bool:
    """Whether the text so far stops mid-sentence, so the next page continues its paragraph."""
    last = written.rstrip().rsplit("\n", 1)[-1].strip()
    return bool(last) and not ENDS_SENTENCE.search(last)
