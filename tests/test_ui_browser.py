"""The web chat in headless Chromium against a real ``qa serve``: ask, read the sources, upload
and delete documents, and make sure hostile document text runs nothing and loads nothing.

Screenshots go to test-artifacts/ (git-ignored) for CI to keep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from bench.server import LiveServer, wait_for_answer_workers
from qa.config import PROJECT_ROOT
from ui.screenshots import ANSWER_TIMEOUT_MS, VIEWPORTS, ask, capture_with

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ServeSeeds = Callable[..., AbstractContextManager[LiveServer]]  # conftest's serve_seeds

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
SAMPLE = "Which borough stayed good in 2019?"
UPLOAD_TIMEOUT_MS = 120_000

XSS_DOCUMENT = """Riverside <img src=x onerror=alert(2)> pumping station report

The Riverside pumping station was renamed the Quillfeather Works in 2021.
<script>alert(1)</script>
<img src=x onerror=alert(1)>
![x](http://127.0.0.1:9/x.png)
The Quillfeather Works pumps water to the Marrowgate district every night.
"""

NEW_DOCUMENT = """Brixton lighthouse library opens

Published: 3 May 2021

The Brixton Lighthouse Library opened its doors on 3 May 2021.
The ribbon was cut by the borough's chief librarian, Zephyrine Okonkwo-Bell.
The library lends telescopes as well as books.
"""


@dataclass
class Watched:
    """A page plus everything it did that a test may want to refuse."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def server(serve_seeds: ServeSeeds) -> Iterator[LiveServer]:
    with serve_seeds("ui-browser") as running:
        wait_for_answer_workers(running)  # the chat's questions reach the workers
        yield running


def _open(browser: Browser, server: LiveServer, viewport: tuple[int, int]) -> Watched:
    width, height = viewport
    page = browser.new_page(viewport={"width": width, "height": height})
    watched = Watched(page)

    def on_dialog(dialog: Any) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.goto(server.url)
    page.locator("#qa-question").wait_for()
    return watched


@pytest.fixture
def desktop(browser: Browser, server: LiveServer) -> Iterator[Watched]:
    watched = _open(browser, server, VIEWPORTS["desktop"])
    yield watched
    watched.page.close()


def _card(page: Page, text: str) -> Any:
    return page.locator("#qa-sources .qa-card", has_text=text)


def _upload(page: Page, paths: list[Path]) -> str:
    """Upload files through the Documents tab; returns what the tab reports."""
    page.get_by_role("tab", name="Documents").click()
    page.locator("#qa-documents table").wait_for()  # the tab is rendered and loaded
    page.locator("#qa-upload input[type=file]").set_input_files([str(p) for p in paths])
    try:
        for path in paths:  # Gradio has stored the file once its name is listed
            # Gradio renders a file's stem and extension in separate elements, so the rendered
            # text of the upload box is checked rather than one element's text.
            page.wait_for_function(
                "stem => (document.querySelector('#qa-upload')?.innerText || '').includes(stem)",
                arg=path.stem,
                timeout=UPLOAD_TIMEOUT_MS,
            )
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "failed-upload.png"), full_page=True)
        raise
    page.locator("#qa-upload-button").click()
    outcome = page.locator("#qa-outcome .qa-message")
    outcome.wait_for(timeout=UPLOAD_TIMEOUT_MS)
    return outcome.inner_text()


def _to_chat(page: Page) -> None:
    page.get_by_role("tab", name="Chat").click()
    page.locator("#qa-question").wait_for()


def test_sample_question_is_answered_with_the_2019_passage(desktop: Watched) -> None:
    page = desktop.page
    ask(page, SAMPLE)

    answer = page.locator(".qa-answer").last
    assert "Hammersmith and Fulham" in answer.inner_text()
    assert answer.locator(".qa-cite").inner_text() == "[1]"
    card = _card(page, 'retained its "good" rating')
    assert card.count() >= 1
    assert "2019-10-16" in card.first.inner_text()
    assert card.first.locator(".qa-passage mark").count() == 1  # the answer is highlighted

    # One click opens the passage in its document.
    card.first.locator("summary", has_text="Show in document").click()
    context = card.first.locator(".qa-context")
    context.wait_for()
    assert "Joe Lepper" in context.inner_text()  # text from outside the passage
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-answer-desktop.png"), full_page=True)
    assert not desktop.dialogs and not desktop.errors


def test_example_button_then_follow_up(desktop: Watched) -> None:
    page = desktop.page
    page.locator(".qa-example", has_text=SAMPLE).click()
    page.locator(".qa-sources h3", has_text=SAMPLE).wait_for(timeout=ANSWER_TIMEOUT_MS)
    ask(page, "and in 2016?")

    assert "Read as" in page.locator(".qa-answer").last.inner_text()
    dates = [page.locator("#qa-sources .qa-card .qa-meta").nth(i).inner_text() for i in range(3)]
    assert any("2016" in date for date in dates), dates


def test_unanswerable_question_shows_not_found_and_nearest_passages(desktop: Watched) -> None:
    ask(desktop.page, "What is the capital of Peru?")

    assert (
        "I could not find this in the documents."
        in desktop.page.locator(".qa-answer").last.inner_text()
    )
    assert desktop.page.locator("#qa-sources .qa-card").count() > 0
    assert desktop.page.locator("#qa-sources .qa-card-answer").count() == 0


def test_screenshots_at_desktop_and_phone_width(browser: Browser, server: LiveServer) -> None:
    saved = capture_with(browser, server.url, ARTIFACTS)
    assert [path.name for path in saved] == ["screenshot-desktop.png", "screenshot-phone.png"]
    assert all(path.stat().st_size > 10_000 for path in saved)

    phone = _open(browser, server, VIEWPORTS["phone"])
    ask(phone.page, SAMPLE)
    # Nothing sticks out sideways at phone width: no horizontal scrolling.
    overflow = phone.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    phone.page.close()


def test_uploaded_document_is_cited_then_deleted(desktop: Watched, tmp_path: Path) -> None:
    page = desktop.page
    document = tmp_path / "lighthouse-library.txt"
    document.write_text(NEW_DOCUMENT)

    report = _upload(page, [document])
    assert "added" in report and "lighthouse-library.txt" in report
    assert "Brixton lighthouse library opens" in page.locator("#qa-documents").inner_text()

    _to_chat(page)
    ask(page, "Who cut the ribbon at the Brixton Lighthouse Library?")
    first = page.locator("#qa-sources .qa-card").first
    assert "lighthouse-library.txt" in first.inner_text()
    assert "Zephyrine Okonkwo-Bell" in first.inner_text()
    # The answer is cited from the new document.
    assert "From Brixton lighthouse library opens" in page.locator(".qa-answer").last.inner_text()
    page.screenshot(path=str(ARTIFACTS / "chat-uploaded-document.png"), full_page=True)

    page.get_by_role("tab", name="Documents").click()
    page.locator("#qa-delete-choice input").click()
    page.get_by_role("option", name="Brixton lighthouse library opens").click()
    page.locator("#qa-delete").click()
    page.locator("#qa-outcome .qa-message", has_text="Deleted").wait_for(timeout=UPLOAD_TIMEOUT_MS)
    assert "Brixton lighthouse library" not in page.locator("#qa-documents").inner_text()


def test_a_text_named_with_no_type_is_added_and_a_program_refused_with_its_reason(
    desktop: Watched, tmp_path: Path
) -> None:
    """The picker takes any file; the library decides, file by file, and says why it refuses."""
    page = desktop.page
    notice = tmp_path / "NOTICE"
    notice.write_text("Harbour ferry notice\n\nThe Quayside ferry sails hourly from Pier 9.\n")
    program = tmp_path / "ferry-tool.exe"
    program.write_bytes(b"MZ\x90\x00 machine code")

    report = _upload(page, [notice, program])
    assert "added" in report and "NOTICE" in report
    assert "rejected" in report and "ferry-tool.exe (unsupported file type .exe" in report
    assert "Harbour ferry notice" in page.locator("#qa-documents").inner_text()

    page.locator("#qa-delete-choice input").click()
    page.get_by_role("option", name="Harbour ferry notice").click()
    page.locator("#qa-delete").click()
    page.locator("#qa-outcome .qa-message", has_text="Deleted").wait_for(timeout=UPLOAD_TIMEOUT_MS)


def test_hostile_document_runs_nothing_and_loads_nothing(
    desktop: Watched, server: LiveServer, tmp_path: Path
) -> None:
    page = desktop.page
    document = tmp_path / "riverside.md"
    document.write_text(XSS_DOCUMENT)
    assert "added" in _upload(page, [document])
    listed = page.locator("#qa-documents").inner_text()
    assert "Riverside <img src=x onerror=alert(2)> pumping station report" in listed

    _to_chat(page)
    question = "Which district does the Quillfeather Works pump water to? <script>alert(3)</script>"
    ask(page, question)
    card = _card(page, "Quillfeather")
    assert card.count() >= 1, "the hostile document was not cited"
    card.first.locator("summary").click()
    page.wait_for_timeout(1000)  # time for any image to load or handler to fire
    page.screenshot(path=str(ARTIFACTS / "chat-hostile-document.png"), full_page=True)

    # The markup is shown as the characters it is ...
    shown = card.first.inner_text()
    assert "<script>alert(1)</script>" in shown
    assert "<img src=x onerror=alert(1)>" in shown
    assert "![x](http://127.0.0.1:9/x.png)" in shown
    assert "<script>alert(3)</script>" in page.locator("#qa-chat").inner_text()
    # ... and none of it became an element, ran, or fetched anything.
    assert desktop.dialogs == []
    handlers = page.evaluate(
        """() => [...document.querySelectorAll('*')]
            .filter(e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on')))
            .map(e => e.outerHTML.slice(0, 120))"""
    )
    assert handlers == []
    assert page.locator("#qa-sources img, #qa-chat img[src='x'], #qa-documents img").count() == 0
    assert page.evaluate("[...document.scripts].some(s => s.text.includes('alert('))") is False
    assert not [url for url in desktop.requests if "//127.0.0.1:9/" in url]
    assert not [url for url in desktop.requests if url.rstrip("/").endswith("/x")]
    foreign = [
        url for url in desktop.requests if not url.startswith((server.url, "data:", "blob:"))
    ]
    assert foreign == []


TOKEN = "browser-token-4711"


@pytest.fixture(scope="module")
def token_server(serve_seeds: ServeSeeds) -> Iterator[LiveServer]:
    env = {"QA_ADMIN_TOKEN": TOKEN, "QA_ANSWER_WORKERS": "0"}
    with serve_seeds("ui-browser-token", env) as running:
        yield running


def test_with_a_token_the_page_uploads_once_the_token_is_given(
    browser: Browser, token_server: LiveServer, tmp_path: Path
) -> None:
    watched = _open(browser, token_server, VIEWPORTS["desktop"])
    page = watched.page
    document = tmp_path / "lighthouse-library.txt"
    document.write_text(NEW_DOCUMENT)
    page.get_by_role("tab", name="Documents").click()
    token = page.locator("#qa-token input")

    token.fill("not-the-token")
    token.press("Tab")  # leaving the field trades the token for an upload session
    outcome = page.locator("#qa-outcome .qa-message")
    outcome.filter(has_text="Wrong admin token").wait_for(timeout=UPLOAD_TIMEOUT_MS)

    token.fill(TOKEN)
    token.press("Tab")
    outcome.filter(has_text="Token accepted").wait_for(timeout=UPLOAD_TIMEOUT_MS)
    _upload(page, [document])  # the tab's outcome still reads "Token accepted" for a moment
    outcome.filter(has_text="lighthouse-library.txt").wait_for(timeout=UPLOAD_TIMEOUT_MS)
    assert "added" in outcome.inner_text()
    page.close()
