"""The conversation export: real answers from the seeds index written as Markdown, with document
text that tries to be markup shown as the characters it is."""

from __future__ import annotations

import re
from pathlib import Path

from qa.answering import Answer, CitedPassage
from qa.config import Settings
from qa.embedding import Embedder
from qa.service import QAService
from ui.export import EXPORT_NAME, conversation_markdown, escaped, write_export


def test_a_conversation_with_questions_answers_and_sources(
    seeds_index: Settings, embedder: Embedder
) -> None:
    service = QAService(seeds_index, embedder)
    found = service.ask("which borough stayed good in 2019")
    missing = service.ask("What is the airspeed velocity of an unladen swallow?")
    markdown = conversation_markdown([found, missing])
    assert "## 1. which borough stayed good in 2019" in markdown
    assert f"**Answer:** {escaped(found.answer or '')}" in markdown
    assert "**Answer:** Not found in the documents" in markdown
    assert (
        "### Sources" in markdown and "### Nearest passages (none answers the question)" in markdown
    )
    for passage in found.passages:
        assert f"**{escaped(passage.title)} · {passage.published}**" in markdown
        assert f"> {escaped(' '.join(passage.text.split()))}" in markdown


def test_document_markup_is_escaped() -> None:
    passage = CitedPassage(
        rank=1, score=1.0, text="See ![x](http://127.0.0.1:9/x.png) <img src=x onerror=alert(1)>",
        doc_id="d", title="*Bold* [link](http://x)", source="a`b.txt", published=None,
        start=0, end=10, revision="0" * 64,
    )  # fmt: skip
    answer = Answer("q <b>", None, False, 0.0, 1.0, [passage])
    markdown = conversation_markdown([answer])
    for markup in ("![", "](", "<img", "<b>", "*Bold*", "[link]"):  # each only escaped
        assert re.search(r"(?<!\\)" + re.escape(markup), markdown) is None, markup
    assert "\\!\\[x\\](http://127.0.0.1:9/x.png)" in markdown and "\\<img" in markdown
    assert "\\*Bold\\* \\[link\\](http://x) · undated" in markdown and "`ab.txt`" in markdown


def test_write_export_makes_a_fresh_file(seeds_index: Settings, embedder: Embedder) -> None:
    assert write_export([]) is None
    answer = QAService(seeds_index, embedder).ask("which borough stayed good in 2019")
    first, second = write_export([answer]), write_export([answer, answer])
    assert isinstance(first, Path) and isinstance(second, Path) and first != second
    assert first.name == EXPORT_NAME and second.read_text().count("\n## ") == 2
