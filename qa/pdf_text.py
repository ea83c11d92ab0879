"""PDF page texts -> logical text: running headers, footers and page numbers left out (also a
book's heads that name each page's section beside its number: ``qa.page_numbers``), lines
joined back into paragraphs, and words hyphenated at a line end made whole again.

A PDF's extracted text is a list of printed lines: the paragraphs, the hyphenation and the
furniture of each page all come back as line breaks. Since the document text of a PDF is our
extraction (what citation offsets point into), it is rebuilt here the way the chunker reads
text (``qa.layout``): paragraphs on one line each, blocks separated by blank lines.
"""

from __future__ import annotations

import re
from collections import Counter

from qa.page_numbers import numbered_heads

_EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be furniture
_FURNITURE_MAX_CHARS = 80  # running heads and feet are short; a repeated paragraph is not one
_FURNITURE_SHARE = 0.5  # repeated on at least this share of pages (and on three of them)
_FURNITURE_MIN_PAGES = 3
_PAGE_NUMBER = re.compile(r"(?:page\s+)?(?:\d{1,4}|[ivxlcdm]{1,6})(?:\s*(?:/|of)\s*\d{1,4})?", re.I)
_ENDS_SENTENCE = re.compile(r"""[.!?:;]["'”’)\]]*$""")
_BULLET = re.compile(r"(?:[-*•·‣◦–]|\(?(?:\d{1,3}|[a-z])[.)])\s+\S")
_HYPHENATED = re.compile(r"\b([^\W\d_]+)-([^\W\d_]+)\b")
_SHORT_LINE = 0.8  # a line this much shorter than the text's width ended early
_MIN_TEXT_WIDTH = 40  # characters; a text width read off fewer, shorter lines is no guide


def pdf_text(pages: list[str]) -> str:
    """The logical text of a PDF whose pages pypdf extracted as ``pages``."""
    return pdf_text_with_pages(pages)[0]


def pdf_text_with_pages(pages: list[str]) -> tuple[str, list[int]]:
    """The logical text and where each page starts in it (``starts[i]``: the offset of page
    ``i + 1``'s first kept character; a page with no text starts where the next text does).

    Recorded here, while the text is built, so a citation's page comes from the very offsets
    it cites (``qa.pages``)."""
    page_lines = [[line.strip() for line in page.splitlines()] for page in pages]
    furniture = _repeated_edge_lines(page_lines)
    heads = numbered_heads([_edges(lines) for lines in page_lines])
    compounds = {m.group().lower() for page in pages for m in _HYPHENATED.finditer(page)}
    kept_pages = [
        _without_furniture(lines, furniture, own)
        for lines, own in zip(page_lines, heads, strict=True)
    ]
    widths = sorted(len(line) for lines in kept_pages for line in lines if line)
    width = max(_MIN_TEXT_WIDTH, widths[int(0.8 * (len(widths) - 1))] if widths else 0)
    paragraphs: list[str] = []
    marks: list[tuple[int, int]] = []  # per page: (paragraph, offset within it) where it starts
    for kept in kept_pages:
        mark: tuple[int, int] | None = None
        for paragraph in _paragraphs(kept, width, compounds):
            if paragraphs and _continues_across_pages(paragraphs[-1], paragraph):
                # _joined keeps ``paragraph`` whole at its end: that is where this page begins.
                paragraphs[-1] = _joined(paragraphs[-1], paragraph, compounds)
                at = (len(paragraphs) - 1, len(paragraphs[-1]) - len(paragraph))
            else:
                paragraphs.append(paragraph)
                at = (len(paragraphs) - 1, 0)
            mark = mark or at
        marks.append(mark or (len(paragraphs), 0))
    offsets = [0]
    for paragraph in paragraphs:
        offsets.append(offsets[-1] + len(paragraph) + 2)  # joined by a blank line
    text = "\n\n".join(paragraphs)
    starts = [min(offsets[index] + within, len(text)) for index, within in marks]
    return text, starts


def _furniture_key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.lower().split()))


def _edges(lines: list[str]) -> list[str]:
    written = [line for line in lines if line and len(line) <= _FURNITURE_MAX_CHARS]
    return written[:_EDGE_LINES] + written[-_EDGE_LINES:]


def _repeated_edge_lines(page_lines: list[list[str]]) -> set[str]:
    """Lines at a page's top or bottom that recur on many pages: running heads and feet."""
    if len(page_lines) < _FURNITURE_MIN_PAGES:
        return set()
    counts = Counter(
        key for lines in page_lines for key in {_furniture_key(line) for line in _edges(lines)}
    )
    needed = max(_FURNITURE_MIN_PAGES, _FURNITURE_SHARE * len(page_lines))
    return {key for key, count in counts.items() if count >= needed}


def _without_furniture(lines: list[str], furniture: set[str], heads: set[str]) -> list[str]:
    edges = set(_edges(lines))
    return [
        line
        for line in lines
        if not (
            line in edges
            and (_furniture_key(line) in furniture or line in heads or _PAGE_NUMBER.fullmatch(line))
        )
    ]


def _paragraphs(lines: list[str], width: int, compounds: set[str]) -> list[str]:
    """A page's lines joined into paragraphs; ``width`` is the text's usual line length."""
    paragraphs: list[str] = []
    current = ""
    previous = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current = previous = ""
            continue
        if current and _ends_paragraph(previous, line, width):
            paragraphs.append(current)
            current = ""
        current = _joined(current, line, compounds) if current else line
        previous = line
    if current:
        paragraphs.append(current)
    return paragraphs


def _ends_paragraph(previous: str, line: str, width: int) -> bool:
    """Whether the break between two printed lines ends a paragraph (else it was a wrap)."""
    if _BULLET.match(line):
        return True
    ended_early = len(previous) < _SHORT_LINE * width
    return ended_early and (
        _ENDS_SENTENCE.search(previous) is not None or len(previous) < width / 2
    )


def _continues_across_pages(paragraph: str, following: str) -> bool:
    return not _ENDS_SENTENCE.search(paragraph) and following[:1].islower()


def _joined(before: str, after: str, compounds: set[str]) -> str:
    """Two wrapped lines as one: a word hyphenated at the break is made whole, unless the text
    writes it with a hyphen elsewhere ("well-known")."""
    head = re.search(r"([^\W\d_]+)-$", before)
    tail = re.match(r"[^\W\d_]+", after)
    if head and tail and after[0].islower():
        if f"{head.group(1)}-{tail.group()}".lower() in compounds:
            return before + after
        return before[:-1] + after
    return f"{before} {after}"
