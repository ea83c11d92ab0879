"""Running heads told by their page numbers.

A two-sided book's running heads name a different section on every page ("4 3. DISPLAYED
EQUATIONS" on the left, "3.3. SPLIT EQUATIONS WITHOUT ALIGNMENT 5" on the right), so they do not
repeat the way a document's title over every page does, and a reader that looks for repetition
keeps them: each lands in the middle of whatever paragraph the page cut, as a heading. Their
numbers give them away: they count the pages, first on the left-hand pages and last on the
right-hand ones.
"""

from __future__ import annotations

import re
from collections import Counter

# A number at either end of a line, as a running head shows the page's number beside its title.
_LEADING_NUMBER = re.compile(r"(\d{1,4})\s+\S")
_TRAILING_NUMBER = re.compile(r"\S\s+(\d{1,4})$")
MIN_PAGES = 3  # ... showing the printed numbering, at the least
SHARE = 0.5  # ... of the pages


def numbered_heads(edges: list[list[str]]) -> list[set[str]]:
    """For each page, given the lines at its edges (its first and last few), those that carry
    its printed page number at one end.

    A number counts as the page's when it is the page's place plus the offset that most pages'
    edge numbers share (the printed numbering starts anywhere: a title page and a contents in
    Roman numerals come first), and only when at least half the pages (three at the least)
    show it, at the start of the line on some pages and at its end on others, as the heads of
    facing pages do. Titles numbered one to a page ("1 Introduction", "2 Method" on a deck of
    slides; "Section 3" on the third page) are numbered at one end only, and are kept."""
    # Per page: each numbered edge line's (number less the page's place, end it stands at).
    shifts: list[dict[str, set[tuple[int, str]]]] = []
    for place, lines in enumerate(edges):
        found: dict[str, set[tuple[int, str]]] = {}
        for line in lines:
            ends = (("start", _LEADING_NUMBER.match(line)), ("end", _TRAILING_NUMBER.search(line)))
            numbered = {(int(match.group(1)) - place, end) for end, match in ends if match}
            if numbered:
                found[line] = numbered
        shifts.append(found)
    pages_showing = Counter(
        shift
        for found in shifts
        for shift in {shift for pairs in found.values() for shift, _ in pairs}
    )
    if not pages_showing:
        return [set() for _ in edges]
    offset, count = pages_showing.most_common(1)[0]
    ends_used = {
        end
        for found in shifts
        for pairs in found.values()
        for shift, end in pairs
        if shift == offset
    }
    if count < max(MIN_PAGES, SHARE * len(edges)) or len(ends_used) < 2:
        return [set() for _ in edges]
    return [
        {line for line, pairs in found.items() if any(shift == offset for shift, _ in pairs)}
        for found in shifts
    ]
