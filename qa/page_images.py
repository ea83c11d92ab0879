"""A cited PDF page as a PNG, the passage and the answer sentence highlighted on it.

Rendered with pypdfium2 from the indexed file (refused if the file no longer has the indexed
content). The highlight is placed by matching the cited words against the page's own characters
(letters and digits only, so line breaks, hyphenation joined at extraction and spacing cannot
throw it off); when the words are not found on the page nothing is highlighted rather than
something wrong. Images are size-limited (``MAX_SIDE_PX``) and kept in a small in-memory cache.
"""

from __future__ import annotations

import hashlib
import io
import threading
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import Response

from qa.api_models import ErrorOut
from qa.documents import Document
from qa.errors import DocumentNotFound
from qa.pages import page_at
from qa.pdf_margins import PDFIUM_LOCK

if TYPE_CHECKING:
    from qa.app import QAApp

MAX_SIDE_PX = 1400  # the longer side of a rendered page
CACHE_ENTRIES = 64
PASSAGE_FILL = (255, 230, 120, 90)
ANSWER_FILL = (255, 170, 0, 140)

_Offset = Annotated[int | None, Query(ge=0, le=2**31 - 1, description="A document offset.")]
_CLOSING = ".,;:!?)]}\"'’”»…"  # what may end a highlighted span after its last letter
_cache: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
_cache_lock = threading.Lock()


def _letters(text: str) -> tuple[str, list[int]]:
    """``text`` reduced to lower-case letters and digits, with each kept character's index."""
    kept: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text):
        for part in unicodedata.normalize("NFKC", char).lower():
            if part.isalnum():
                kept.append(part)
                where.append(index)
    return "".join(kept), where


def page_png(
    document: Document, docs_dir: Path, page: int, spans: list[tuple[int, int, bool]]
) -> bytes:
    """Page ``page`` (1-based) of an indexed PDF, each ``(start, end, is_answer)`` span of its
    text highlighted where it lies on this page."""
    if not document.page_starts:
        raise DocumentNotFound("this document has no pages (it is not an indexed PDF)")
    if not 1 <= page <= len(document.page_starts):
        raise DocumentNotFound(f"page {page} is not in this document")
    # Checked before the cache too: an image of a file that has changed would cite a page the
    # index no longer describes.
    try:
        data = (docs_dir / document.source).read_bytes()
    except OSError:
        raise DocumentNotFound("the file is no longer in the docs folder") from None
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise DocumentNotFound("the file has changed since it was indexed; rebuild the index")
    key = (document.doc_id, document.sha256, page, tuple(spans))
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    with PDFIUM_LOCK:  # pdfium is not thread-safe; one page at a time is plenty
        png = _render(data, document, page, spans)
    with _cache_lock:
        _cache[key] = png
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return png


def _render(
    data: bytes, document: Document, page: int, spans: list[tuple[int, int, bool]]
) -> bytes:
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    pdf = pdfium.PdfDocument(data)
    try:
        pdf_page = pdf[page - 1]
        width, height = pdf_page.get_size()
        scale = min(2.0, MAX_SIDE_PX / max(width, height, 1))
        image = pdf_page.render(scale=scale).to_pil().convert("RGBA")
        textpage = pdf_page.get_textpage()
        page_text = textpage.get_text_range()
        letters, where = _letters(page_text)
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        for start, end, is_answer in sorted(spans, key=lambda s: s[2]):  # the answer on top
            found = _on_page(document, page, start, end, page_text, letters, where)
            if found is None:
                continue
            first, count = found
            for i in range(textpage.count_rects(first, count)):
                left, bottom, right, top = textpage.get_rect(i)
                box = (
                    left * scale,
                    (height - top) * scale,
                    right * scale,
                    (height - bottom) * scale,
                )
                draw.rectangle(box, fill=ANSWER_FILL if is_answer else PASSAGE_FILL)
        out = io.BytesIO()
        Image.alpha_composite(image, overlay).convert("RGB").save(out, "PNG", optimize=True)
        return out.getvalue()
    finally:
        pdf.close()


def _on_page(
    document: Document,
    page: int,
    start: int,
    end: int,
    page_text: str,
    letters: str,
    where: list[int],
) -> tuple[int, int] | None:
    """The page characters (first index, count) showing ``text[start:end]``'s part on ``page``.

    Found by its letters and digits (extraction and page text differ in spaces and hyphens);
    punctuation that ends the span (a sentence's full stop) is taken along, so the highlight
    covers all of it."""
    starts = document.page_starts or []
    lo = max(start, starts[page - 1])
    hi = min(end, starts[page] if page < len(starts) else len(document.text))
    if lo >= hi or page_at(document, lo) != page:
        return None
    wanted, _ = _letters(document.text[lo:hi])
    at = letters.find(wanted) if wanted else -1
    if at < 0:
        return None
    first, last = where[at], where[at + len(wanted) - 1]
    span = document.text[lo:hi].rstrip()
    closing = len(span) - len(span.rstrip(_CLOSING))
    while closing and last + 1 < len(page_text) and page_text[last + 1] in _CLOSING:
        last, closing = last + 1, closing - 1
    return first, last - first + 1


def pages_router(qa: QAApp) -> APIRouter:
    """``GET /documents/{doc_id}/pages/{n}.png``: only documents of the served index."""
    router = APIRouter(tags=["documents"])

    @router.get(
        "/documents/{doc_id}/pages/{n}.png",
        response_class=Response,
        responses={
            200: {"content": {"image/png": {}}, "description": "The page as a PNG"},
            404: {"model": ErrorOut, "description": "No such indexed PDF, or no such page"},
        },
    )
    def page_image(
        doc_id: Annotated[str, PathParam(max_length=64)],
        n: Annotated[int, PathParam(ge=1, le=100_000)],
        start: _Offset = None,
        end: _Offset = None,
        answer_start: _Offset = None,
        answer_end: _Offset = None,
    ) -> Response:
        """Page ``n`` of an indexed PDF, the passage (start, end) and the answer sentence
        (answer_start, answer_end) highlighted where they lie on it."""
        document = qa.service.retriever.data.documents.get(doc_id)
        if document is None:
            raise DocumentNotFound(f"no document with doc_id {doc_id!r}")
        spans = [
            (lo, hi, is_answer)
            for lo, hi, is_answer in ((start, end, False), (answer_start, answer_end, True))
            if lo is not None and hi is not None and lo < hi <= len(document.text)
        ]
        png = page_png(document, qa.settings.docs_dir, n, spans)
        return Response(
            png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"}
        )

    return router
