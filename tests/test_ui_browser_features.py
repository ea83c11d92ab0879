"""The chat's thumbs and its Markdown export, in headless Chromium against a real ``qa serve``
(one server for the module; the thumbs write only to its private data folder).

Screenshots of the feedback buttons go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from bench.server import LiveServer
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


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    width, height = VIEWPORTS["desktop"]
    opened = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
    opened.goto(server.url)
    opened.locator("#qa-question").wait_for()
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
