"""A PDF's page texts with their paragraph gaps: a blank line where two printed lines are further
apart than the document's usual line spacing.

pypdf's text is a list of printed lines and says nothing of the space between them, so a title
and the paragraph under it, or paragraphs set apart by spacing rather than by indentation, come
back as one run of lines. Where each line sits and how large its type is are read from the same
extraction (the text-positioning matrices pypdf's visitor is given), so the text itself is
pypdf's: blank lines are added, and notes set in the right margin (``qa.pdf_margins`` reads
where the text block ends) are left out. ``qa.pdf_text`` reads a blank line as the end of a
paragraph.

Gaps are measured in units of the line's type size, so footnotes and headings in other sizes
keep to the same rule, and the usual spacing is read over the whole document, so a page of
one-line paragraphs is judged by the wrapped text elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# A gap this much wider than the usual line spacing separates paragraphs (a paragraph set half
# a line apart is 1.5 times as wide; a wrapped line is 1.0).
PARAGRAPH_GAP = 1.3
_USUAL_QUANTILE = 0.2  # short paragraphs make wide gaps common: the usual one is read low
_MIN_GAPS = 5  # fewer measured gaps in a document tell nothing about its usual spacing
_NOTE_CLEARANCE = 3.0  # points past the text block's right edge where a margin note starts
_MAX_NOTE_SHARE = 0.1  # more than this share of a page's text past the edge is no set of notes


@dataclass
class _Line:
    text: str
    height: float | None = None  # the baseline of its first positioned text on the page
    size: float = 0.0  # its type size there
    # Its text in the pieces pypdf gave, each with where it starts across the page (None: not
    # known, as for the part of a piece after a line break).
    pieces: list[tuple[str, float | None]] = field(default_factory=list)


def pages_text_with_gaps(pages: list[Any], right_edges: Sequence[float | None] = ()) -> list[str]:
    """The text of each pypdf page, a blank line added between lines set apart by a gap, and
    the text that starts past the page's right edge (``qa.pdf_margins``), if known, left out."""
    edges = [*right_edges[: len(pages)], *[None] * (len(pages) - len(right_edges))]
    read = _without_notes([_lines_of(page) for page in pages], edges)
    # Only the pages whose heights say something about their gaps (see ``_descends``) count.
    measured = [lines if lines is not None and _descends(lines) else None for lines in read]
    gaps = [gap for lines in measured if lines for gap in _gaps(lines) if gap is not None]
    if len(gaps) < _MIN_GAPS:
        return [_plain(page, lines) for page, lines in zip(pages, read, strict=True)]
    usual = sorted(gaps)[int(_USUAL_QUANTILE * (len(gaps) - 1))]
    texts = []
    for page, lines, heights in zip(pages, read, measured, strict=True):
        if lines is None or heights is None:
            texts.append(_plain(page, lines))
            continue
        marked: list[str] = []
        for line, gap in zip(lines, _gaps(lines), strict=True):
            if marked and marked[-1].strip() and gap is not None and gap > PARAGRAPH_GAP * usual:
                marked.append("")
            marked.append(line.text)
        texts.append("\n".join(marked))
    return texts


def _plain(page: Any, lines: list[_Line] | None) -> str:
    return "\n".join(line.text for line in lines) if lines else page.extract_text() or ""


def _lines_of(page: Any) -> list[_Line] | None:
    """The page's printed lines with where they sit; None if the positions cannot be trusted."""
    lines = [_Line("")]
    pieces: list[str] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        pieces.append(text)
        across = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]  # where the text starts on the page
        for number, part in enumerate(text.split("\n")):
            if number:
                lines.append(_Line(""))
            lines[-1].pieces.append((part, None if number else across))
        if text.strip() and lines[-1].height is None:
            # Baseline and type size on the page: the text matrix within the current one.
            lines[-1].height = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            lines[-1].size = abs(size * (tm[3] * cm[3] + tm[2] * cm[1]))

    text = page.extract_text(visitor_text=visit) or ""
    split = text.split("\n")
    if "".join(pieces) != text or len(split) != len(lines):
        return None  # the visitor saw another text than was returned
    for line, part in zip(lines, split, strict=True):
        line.text = part
    return lines


def _without_notes(
    pages: list[list[_Line] | None], edges: list[float | None]
) -> list[list[_Line] | None]:
    """Each page's lines without their margin notes: text starting past the page's right edge
    in a column of notes, where somewhere on that side of the document (odd or even pages) a
    line holds nothing else ("description", "2022/06/01" under a "New" that pypdf ran onto the
    end of a body line). Text that runs past the edge from a line of the body (an overfull
    line, a full stop hanging into the margin) starts elsewhere and is kept. A page is left as
    it is if its margin holds more than a few notes would."""
    if all(edge is None for edge in edges):
        return pages
    columns: list[set[int]] = [set(), set()]
    for number, (lines, edge) in enumerate(zip(pages, edges, strict=True)):
        for line in lines or []:
            written = _written(line)
            if written and all(_past_edge(piece, edge) for piece in written):
                columns[number % 2].update(round(at or 0.0) for _, at in written)
    return [
        lines if lines is None or edge is None else _kept(lines, edge, columns[number % 2])
        for number, (lines, edge) in enumerate(zip(pages, edges, strict=True))
    ]


def _past_edge(piece: tuple[str, float | None], edge: float | None) -> bool:
    return edge is not None and piece[1] is not None and piece[1] > edge + _NOTE_CLEARANCE


def _written(line: _Line) -> list[tuple[str, float | None]]:
    return [piece for piece in line.pieces if piece[0].strip()]


def _kept(lines: list[_Line], edge: float, column: set[int]) -> list[_Line]:
    """``lines`` without the pieces starting past ``edge`` in a ``column`` of notes; a line of
    such pieces only is left out."""

    def noted(piece: tuple[str, float | None]) -> bool:
        return _past_edge(piece, edge) and round(piece[1] or 0.0) in column

    in_margin = sum(len(text.strip()) for line in lines for text, _ in filter(noted, line.pieces))
    if not in_margin or in_margin > _MAX_NOTE_SHARE * sum(len(line.text) for line in lines):
        return lines
    kept = []
    for line in lines:
        if not any(map(noted, _written(line))):
            kept.append(line)
            continue
        body = "".join(text for text, at in line.pieces if not noted((text, at))).rstrip()
        if body.strip():
            kept.append(_Line(body, line.height, line.size, line.pieces))
    return kept


def _descends(lines: list[_Line]) -> bool:
    """Whether each printed line sits below the one before (or starts a new column above it).

    pypdf hands the visitor a text's position as it was when the text object began, so in a
    text object that moves down line by line (as TeX writes them) several lines share one
    height: such a page's heights say nothing about its gaps."""
    heights = [line.height for line in lines if line.height is not None and line.text.strip()]
    return all(before != after for before, after in zip(heights, heights[1:], strict=False))


def _gaps(lines: list[_Line]) -> list[float | None]:
    """For each line, its distance below the line before, in units of its type size (None where
    unknown, or where the text goes up: a new column)."""
    gaps: list[float | None] = [None]
    for before, after in zip(lines, lines[1:], strict=False):
        if before.height is None or after.height is None or after.size <= 0:
            gaps.append(None)
            continue
        distance = before.height - after.height
        gaps.append(distance / after.size if distance > 0 else None)
    return gaps
