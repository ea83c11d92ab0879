"""The chat's thumbs, its Markdown export and a PDF source card's page link, in headless
Chromium against a real ``qa serve`` (one server over the seeds for the module, whose thumbs
write only to its private data folder; one over a multi-page PDF made here for the page link).

Screenshots of the feedback buttons and of the opened page go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Response
from test_pages import ANSWER, QUESTION, highlighted_pixels, make_pdf, pypdf_page_of

from bench.server import LiveServer, live_server
from qa.config import PROJECT_ROOT
from ui.screenshots import ANSWER_TIMEOUT_MS, VIEWPORTS, ask

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
SAMPLE = "Which borough stayed good in 2019?"
UNANSWERABLE = "What is the airspeed velocity of an unladen swallow?"


@pytest.fixture(scope="module")
def server(
    serve_seeds: Callable[..., AbstractContextManager[LiveServer]],
) -> Iterator[LiveServer]:
    with serve_seeds("ui-features", {"QA_ANSWER_WORKERS": "0"}) as running:
        yield running


@pytest.fixture(scope="module")
def pdf_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``qa serve`` over a docs folder holding only the four-page PDF of tests/test_pages.py and a
    text file; it builds its index at start-up."""
    root = tmp_path_factory.mktemp("ui-pages")
    (root / "docs").mkdir()
    (root / "docs" / "minutes.pdf").write_bytes(make_pdf())
    (root / "docs" / "notes.txt").write_text("A text file has no pages. " * 5)
    env = {"QA_ANSWER_WORKERS": "0", "QA_DATA_DIR": str(root / "data")}
    with live_server(root / "docs", root / "index", env=env) as running:
        yield running


def _open(browser: Browser, server: LiveServer) -> Page:
    width, height = VIEWPORTS["desktop"]
    opened = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
    opened.goto(server.url)
    opened.locator("#qa-question").wait_for()
    return opened


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    opened = _open(browser, server)
    yield opened
    opened.close()


def test_thumbs_store_feedback_and_documents_tab_counts_it(page: Page, server: LiveServer) -> None:
    ask(page, SAMPLE)
    before = httpx.get(server.url + "feedback/counts").json()
    page.locator("#qa-chat button[aria-label='Like']").last.click()
    note = page.locator("#qa-feedback-note", has_text="marked as a good answer")
    note.wait_for(timeout=ANSWER_TIMEOUT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "feedback-buttons.png"))
    after = httpx.get(server.url + "feedback/counts").json()
    assert after["up"] == before["up"] + 1 and after["down"] == before["down"]
    page.get_by_role("tab", name="Documents").click()
    page.locator("#qa-refresh").click()  # the tab's list was read when the page loaded
    shown = f"Feedback: {after['up']} 👍 · {after['down']} 👎"
    page.locator(".qa-feedback-counts", has_text=shown).wait_for(timeout=ANSWER_TIMEOUT_MS)


def test_export_downloads_the_conversation_as_markdown(page: Page) -> None:
    export = page.locator("#qa-export")
    assert export.is_disabled()  # nothing to export yet
    ask(page, SAMPLE)
    ask(page, UNANSWERABLE)
    page.wait_for_function(
        "() => !document.querySelector('#qa-export').disabled", timeout=ANSWER_TIMEOUT_MS
    )
    # The button gets its file after the second answer: wait until the export holds both.
    for _ in range(50):
        with page.expect_download(timeout=ANSWER_TIMEOUT_MS) as download:
            export.click()
        text = Path(download.value.path()).read_text(encoding="utf-8")
        if "## 2." in text:
            break
        page.wait_for_timeout(200)
    assert download.value.suggested_filename == "conversation.md"
    assert "## 1. Which borough stayed good in 2019?" in text
    assert "Hammersmith and Fulham" in text and "### Sources" in text
    assert "## 2. What is the airspeed velocity of an unladen swallow?" in text
    assert "**Answer:** Not found in the documents" in text
    assert "> " in text and "2019-10-16" in text  # quoted passages with their dates


def test_source_card_page_link_opens_the_highlighted_pdf_page(
    browser: Browser, pdf_server: LiveServer
) -> None:
    expected = pypdf_page_of(make_pdf(), ANSWER)
    assert expected >= 2  # the answer is past the first page
    page = _open(browser, pdf_server)
    try:
        ask(page, QUESTION)
        assert "Odalys Brennan-Tamm" in page.locator(".qa-answer").last.inner_text()
        card = page.locator("#qa-sources .qa-card-answer")
        assert card.count() == 1 and "minutes.pdf" in card.inner_text()
        link = card.locator("a.qa-page")
        assert link.inner_text() == f"p. {expected}"

        # The link opens a new tab: its response is the page image.
        def is_page_image(response: Response) -> bool:
            return f"/pages/{expected}.png" in response.url

        with (
            page.context.expect_event("response", is_page_image) as responded,
            page.expect_popup() as popped,
        ):
            link.click()
        response, tab = responded.value, popped.value
        tab.wait_for_load_state()
        assert tab.url == response.url and tab.url.startswith(pdf_server.url)
        assert response.status == 200
        assert response.headers["content-type"] == "image/png"
        png = response.body()
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and max(image.size) <= 1400
        # The tab shows that image.
        shown = tab.evaluate("[document.images.length, document.images[0]?.naturalWidth]")
        assert shown == [1, image.width]
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "pdf-page-from-source-card.png"))

        # The same page without the spans of the link: the passage and the answer are marked.
        plain = httpx.get(tab.url.split("?")[0], timeout=60)
        assert plain.status_code == 200 and plain.content != png
        changed, orange = highlighted_pixels(png, plain.content)
        assert changed  # something is highlighted ...
        assert orange  # ... and the answer in its own colour
        tab.close()
    finally:
        page.close()
