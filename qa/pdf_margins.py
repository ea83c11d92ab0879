"""Where a PDF's text block ends on the right, page by page, read with pdfium.

Text set in the right margin (LaTeX's ``\\marginpar``, a "New feature 2020/02/02" flag, a
reviewer's note) is read by pypdf into the paragraph beside it, mid-sentence. pypdf tells where
each piece of text starts but not where it ends, so it cannot tell the text block's right edge;
pdfium gives every run of text its box. ``qa.pdf_lines`` leaves out text that starts past the
edge.

The edge is read per side: a two-sided document shifts its text block between odd and even
pages. On each side the block's left edge is where most runs of text start, and its right edge
is the furthest right that a run starting there reaches (a line of the body), so a note, which
starts past the body's lines, is never one of them.
"""

from __future__ import annotations

import threading
from collections import Counter

# pdfium is not thread-safe: page images (qa.page_images) and builds take turns.
PDFIUM_LOCK = threading.Lock()
_MIN_BODY_LINES = 10  # fewer runs at a side's left edge do not show where its lines end
_SAME_EDGE = 1.0  # points: runs starting this close to the left edge start there


def right_edges(data: bytes) -> list[float | None]:
    """For each page of the PDF ``data``, the right edge of its text block in PDF points (None
    where it is not known: a side with too few lines, or a file pdfium cannot read)."""
    try:
        runs = _runs_per_page(data)
    except Exception:  # pdfium raises many types on hostile files; notes are then kept
        return []
    edges: list[float | None] = [None] * len(runs)
    for side in (0, 1):
        pages = range(side, len(runs), 2)
        lefts = Counter(round(left) for page in pages for left, _ in runs[page])
        if not lefts:
            continue
        margin = lefts.most_common(1)[0][0]
        body = [
            right
            for page in pages
            for left, right in runs[page]
            if abs(left - margin) <= _SAME_EDGE
        ]
        if len(body) >= _MIN_BODY_LINES:
            for page in pages:
                edges[page] = max(body)
    return edges


def _runs_per_page(data: bytes) -> list[list[tuple[float, float]]]:
    """Per page, the (left, right) extent of each run of text pdfium finds."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(data)
        try:
            pages = []
            for page in pdf:
                text = page.get_textpage()
                boxes = [text.get_rect(i) for i in range(text.count_rects())]
                pages.append([(left, right) for left, _, right, _ in boxes])
            return pages
        finally:
            pdf.close()
