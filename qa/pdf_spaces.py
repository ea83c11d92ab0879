"""Words a PDF's text runs together, given their spaces back as pdfium reads them.

pypdf reads a gap inside a line's text as a space only when it is nearly as wide as the font's
space glyph. Some TeX fonts give the space's code a wide glyph of their own, so whole lines of
such a PDF come back as "Thisfamilyofcommandsareusedtocreatea": one word to BM25, noise to the
model, and an answer nobody can read. pdfium, which places every character, reads the same page
with its spaces.

The text stays pypdf's (its lines, paragraph gaps and margin notes are read from pypdf's
positions, ``qa.pdf_lines``); pdfium's text of the same page only says where a long run of
characters has spaces. A run is respaced when pdfium reads those characters, wherever they
appear on the page, with the same spaces, and only between words: a letter, or closing
punctuation, before; a letter or an opening mark after. Mathematics and footnote marks,
which the two read differently, keep pypdf's reading.
"""

from __future__ import annotations

import re

from qa.pdf_margins import PDFIUM_LOCK

_MIN_RUN = 4  # characters: shorter runs hardly hide two words
_RUN = re.compile(rf"\S{{{_MIN_RUN},}}")
_ENDS_WORD = frozenset(",;:)]")  # besides letters, what may stand before an added space
_STARTS_WORD = frozenset('\\(["“‘')  # ... and after one


def pdfium_page_texts(data: bytes) -> list[str]:
    """Each page's text as pdfium reads it ([] if pdfium cannot read the file: pypdf's text
    is then kept as it is)."""
    import pypdfium2 as pdfium

    try:
        with PDFIUM_LOCK:
            pdf = pdfium.PdfDocument(data)
            try:
                return [page.get_textpage().get_text_range() for page in pdf]
            finally:
                pdf.close()
    except Exception:  # pdfium raises many types on hostile files
        return []


def respaced_pages(pages: list[str], references: list[str]) -> list[str]:
    """``pages`` (pypdf's texts) with runs of words spaced as in ``references`` (pdfium's texts
    of the same pages); unchanged when the page counts differ."""
    if len(pages) != len(references):
        return pages
    return [respaced(page, reference) for page, reference in zip(pages, references, strict=True)]


def respaced(text: str, reference: str) -> str:
    """``text`` with each run of characters the ``reference`` reads with spaces between words
    given those spaces."""
    squeezed, spaced = _without_spaces(reference)
    if not squeezed:
        return text

    def respace(match: re.Match[str]) -> str:
        run = match.group()
        gaps = _gaps_in(run, squeezed, spaced)
        if not gaps:
            return run
        return "".join(char + (" " if index in gaps else "") for index, char in enumerate(run))

    return _RUN.sub(respace, text)


def _without_spaces(reference: str) -> tuple[str, set[int]]:
    """The reference's characters without its whitespace, and the indices (into them) of the
    characters a space follows."""
    chars: list[str] = []
    spaced: set[int] = set()
    for char in reference:
        if char.isspace():
            if chars:
                spaced.add(len(chars) - 1)
        else:
            chars.append(char)
    return "".join(chars), spaced


def _gaps_in(run: str, squeezed: str, spaced: set[int]) -> frozenset[int]:
    """Indices of ``run``'s characters that a space between words follows, the same wherever the
    reference holds the run; empty if it holds it nowhere, or with different spaces."""
    readings: set[frozenset[int]] = set()
    at = squeezed.find(run)
    while at >= 0:
        readings.add(
            frozenset(
                index
                for index in range(len(run) - 1)
                if at + index in spaced and _between_words(run[index], run[index + 1])
            )
        )
        at = squeezed.find(run, at + 1)
    return next(iter(readings)) if len(readings) == 1 else frozenset()


def _between_words(before: str, after: str) -> bool:
    return (before.isalpha() or before in _ENDS_WORD) and (after.isalpha() or after in _STARTS_WORD)
