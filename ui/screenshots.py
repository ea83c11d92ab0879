"""Screenshots of the chat answering the sample question, at laptop and phone width.

``python -m ui.screenshots --url http://127.0.0.1:8000/ --out docs`` against a running
``qa serve`` writes docs/screenshot-desktop.png and docs/screenshot-phone.png (shown in the
README); the browser test calls ``capture`` to keep copies in test-artifacts/. Needs Playwright
(a dev dependency) and Debian's chromium.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

SAMPLE_QUESTION = "Which borough stayed good in 2019?"
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
CHROMIUM = "/usr/bin/chromium"
# Headless Chromium in a container: no sandbox, no GPU, and no traffic of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ANSWER_TIMEOUT_MS = 60_000


def launch_browser(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def ask(page: Any, question: str) -> None:
    """Type a question, press Ask, and wait until the sources of its answer are shown."""
    answers_before = page.locator(".qa-answer").count()
    box = page.locator("#qa-question textarea, #qa-question input").first
    box.fill(question)
    page.locator("#qa-ask").click()
    page.locator(".qa-answer").nth(answers_before).wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.locator(".qa-sources h3", has_text=question).wait_for(timeout=ANSWER_TIMEOUT_MS)


def capture(url: str, out_dir: Path, question: str = SAMPLE_QUESTION) -> list[Path]:
    """Ask ``question`` at each width and save ``screenshot-<width name>.png`` in ``out_dir``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            return capture_with(browser, url, out_dir, question)
        finally:
            browser.close()


def capture_with(
    browser: Any, url: str, out_dir: Path, question: str = SAMPLE_QUESTION
) -> list[Path]:
    """``capture`` with a browser that is already running (the browser test's)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, (width, height) in VIEWPORTS.items():
        page = browser.new_page(viewport={"width": width, "height": height})
        try:
            page.goto(url)
            ask(page, question)
            page.mouse.move(0, 0)  # no hover effect on the Ask button
            page.evaluate("window.scrollTo(0, 0)")
            page.wait_for_timeout(500)
            path = out_dir / f"screenshot-{name}.png"
            page.screenshot(path=str(path))
            saved.append(path)
        finally:
            page.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/")
    parser.add_argument("--out", default="docs", help="folder for the PNG files")
    parser.add_argument("--question", default=SAMPLE_QUESTION)
    args = parser.parse_args(argv)
    for path in capture(args.url, Path(args.out), args.question):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
