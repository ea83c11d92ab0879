"""Page-true PDF citations over a multi-page PDF made here: the cited page is the page pypdf finds
the sentence on, and the page image (rendered by pypdfium2) shows the highlight."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader

from qa.api import create_api
from qa.app import compose
from qa.config import Settings
from qa.documents import parse_document
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.page_images import ANSWER_FILL
from qa.pages import pages_of
from qa.pdf_text import pdf_text_with_pages

FILLER = (
    "The committee met in the council chamber to review the annual budget, the state of the "
    "roads and the libraries, and heard from residents about parking and street lighting. "
)
ANSWER = "The Marrowgate ferry was replaced by a footbridge designed by Odalys Brennan-Tamm."
QUESTION = "Who designed the footbridge that replaced the Marrowgate ferry?"


def make_pdf() -> bytes:
    """Four pages with a running head and page numbers; the answer on page 3, hyphenated
    nowhere, after text that flows across pages."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.set_auto_page_break(False)  # one printed page per loop, footer included
    for number, day in enumerate(("first", "second", "third", "fourth"), start=1):
        pdf.add_page()
        pdf.cell(0, 8, "Riverside council minutes", new_x="LMARGIN", new_y="NEXT")
        for _ in range(2):
            # Each page's words differ: a line repeated at the foot of every page would be
            # taken for a running foot (qa.pdf_text) and left out.
            text = f"On the {day} day of the session. " + FILLER * 2 + f"So ended the {day} day."
            pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        if number == 3:
            pdf.multi_cell(0, 6, ANSWER, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(-15)
        pdf.cell(0, 8, f"Page {number}", align="C")
    return bytes(pdf.output())


def pypdf_page_of(data: bytes, sentence: str) -> int:
    reader = PdfReader(io.BytesIO(data))
    pages = [" ".join((page.extract_text() or "").split()) for page in reader.pages]
    return next(number for number, text in enumerate(pages, start=1) if sentence in text)


def test_page_starts_point_at_each_page_text() -> None:
    data = make_pdf()
    reader = PdfReader(io.BytesIO(data))
    text, starts = pdf_text_with_pages([page.extract_text() for page in reader.pages])
    assert len(starts) == 4 and starts[0] == 0 and starts == sorted(starts)
    document = parse_document(data, "minutes.pdf")
    assert document.page_starts == starts and document.text == text
    at = text.index(ANSWER)
    assert pages_of(document, at, at + len(ANSWER)) == (3, 3) == (pypdf_page_of(data, ANSWER),) * 2
    assert parse_document(b"plain words here.", "a.txt").page_starts is None


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("pages")
    (root / "docs").mkdir()
    (root / "docs" / "minutes.pdf").write_bytes(make_pdf())
    (root / "docs" / "notes.txt").write_text("A text file has no pages. " * 5)
    settings = Settings(
        docs_dir=root / "docs",
        index_dir=root / "index",
        data_dir=root / "data",
        answer_workers=0,
    )
    build_index(settings, embedder)
    with TestClient(create_api(compose(settings, embedder))) as running:
        yield running


def test_the_answer_cites_the_page_pypdf_finds_it_on(client: TestClient) -> None:
    answer = client.post("/answer", json={"question": QUESTION}).json()
    assert answer["found"] and "Odalys Brennan-Tamm" in answer["answer"]
    expected = pypdf_page_of(make_pdf(), ANSWER)
    assert expected >= 2 and answer["page"] == expected
    cited = next(p for p in answer["passages"] if p["answer_start"] is not None)
    assert cited["page"] <= expected <= cited["page_end"]
    text_passages = [p for p in answer["passages"] if p["source"] == "notes.txt"]
    assert all(p["page"] is None and p["page_end"] is None for p in text_passages)


def test_page_image_highlights_the_answer(client: TestClient) -> None:
    answer = client.post("/answer", json={"question": QUESTION}).json()
    cited = next(p for p in answer["passages"] if p["answer_start"] is not None)
    url = f"/documents/{cited['doc_id']}/pages/{answer['page']}.png"
    spans = {k: cited[k] for k in ("start", "end", "answer_start", "answer_end")}
    plain, marked = client.get(url), client.get(url, params=spans)
    assert marked.status_code == 200 and marked.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(marked.content)).convert("RGB")
    assert max(image.size) <= 1400
    changed, orange = highlighted_pixels(marked.content, plain.content)
    assert changed  # something is highlighted ...
    assert orange  # ... and the answer in its own colour


def highlighted_pixels(
    marked: bytes, plain: bytes
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Sampled pixels where the highlighted PNG differs from the plain one, and those of them
    in the answer's colour (the browser test of the source card's page link checks them too)."""
    image = Image.open(io.BytesIO(marked)).convert("RGB")
    before = Image.open(io.BytesIO(plain)).convert("RGB")
    assert image.size == before.size
    changed = [
        xy
        for xy in ((x, y) for x in range(0, image.width, 3) for y in range(0, image.height, 3))
        if image.getpixel(xy) != before.getpixel(xy)
    ]
    orange = [xy for xy in changed if _near(image.getpixel(xy), ANSWER_FILL[:3])]
    return changed, orange


def _near(pixel: tuple[int, ...], colour: tuple[int, ...]) -> bool:
    """A white page pixel under the semi-transparent answer fill: red high, blue low."""
    return pixel[0] > 230 and pixel[2] < 150 and abs(pixel[1] - 210) < 40


def test_page_image_is_refused_for_what_is_not_an_indexed_pdf_page(client: TestClient) -> None:
    documents = {d["source"]: d["doc_id"] for d in client.get("/documents").json()}
    pdf, txt = documents["minutes.pdf"], documents["notes.txt"]
    assert client.get(f"/documents/{pdf}/pages/5.png").status_code == 404
    assert client.get(f"/documents/{pdf}/pages/0.png").status_code == 422
    assert client.get(f"/documents/{txt}/pages/1.png").status_code == 404
    assert client.get("/documents/0123456789abcdef/pages/1.png").status_code == 404
    assert client.get(f"/documents/{pdf}/pages/1.png", params={"start": -1}).status_code == 422
    assert client.get(f"/documents/{pdf}/pages/1.png").status_code == 200


def test_page_image_of_a_changed_file_is_refused(client: TestClient, tmp_path: Path) -> None:
    documents = {d["source"]: d["doc_id"] for d in client.get("/documents").json()}
    app = client.app.state.qa  # type: ignore[attr-defined]
    path = app.settings.docs_dir / "minutes.pdf"
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\n% edited after indexing\n")
        refused = client.get(f"/documents/{documents['minutes.pdf']}/pages/2.png")
        assert refused.status_code == 404 and "changed since it was indexed" in refused.text
    finally:
        path.write_bytes(original)
