"""Page numbers of PDF citations: which page a span of a PDF's text lies on.

A PDF's document record carries ``page_starts`` (where each page starts in its text, recorded by
``qa.pdf_text`` as it builds the text); everything else (``None``) has no pages. Kept to this one
field on the document so the store needs no change of its own.
"""

from __future__ import annotations

from bisect import bisect_right

from qa.documents import Document


def page_at(document: Document, offset: int) -> int | None:
    """The 1-based page holding ``offset`` of ``document.text``, or None without pages."""
    starts = document.page_starts
    if not starts:
        return None
    return max(1, bisect_right(starts, offset))


def pages_of(document: Document, start: int, end: int) -> tuple[int | None, int | None]:
    """First and last page of ``text[start:end]``, white space at its edges left out (a passage
    ending in a page break is not on the next page)."""
    if not document.page_starts:
        return None, None
    text = document.text
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return page_at(document, start), page_at(document, max(start, end - 1))
