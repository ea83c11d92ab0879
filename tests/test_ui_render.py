"""ui.render and ui.access: every piece of text escaped, offsets highlighted exactly, and the
write rule the same as the API's. Pure functions, so small hand-made inputs."""

from __future__ import annotations

import re

import pytest

from qa.access import NO_TOKEN_REMOTE, WRONG_TOKEN, is_loopback, write_refusal, writes_possible
from qa.answering import Answer, CitedPassage
from qa.config import Settings
from ui import render

HOSTILE = '<script>alert(1)</script> <img src=x onerror=alert(1)> ![x](http://127.0.0.1:9/x.png) "'
DOC = "Heading\n\n\nFirst sentence here.   Second <b>bold</b> sentence.\n\nThird one."


def _passage(**overrides: object) -> CitedPassage:
    start = DOC.index("First")
    values: dict[str, object] = {
        "rank": 1,
        "score": 0.5,
        "text": DOC[start : len(DOC)],
        "doc_id": "d1",
        "title": "Title",
        "source": "a.txt",
        "published": "2019-10-16",
        "start": start,
        "end": len(DOC),
        "revision": "ab" * 32,
    }
    values.update(overrides)
    return CitedPassage(**values)  # type: ignore[arg-type]


def _answer(passages: list[CitedPassage], text: str | None, **overrides: object) -> Answer:
    values: dict[str, object] = {
        "question": "q?",
        "answer": text,
        "found": text is not None,
        "confidence": 0.5,
        "took_ms": 1.0,
        "passages": passages,
    }
    values.update(overrides)
    return Answer(**values)  # type: ignore[arg-type]


def _tags(html: str) -> set[str]:
    return {tag.lower() for tag in re.findall(r"<\s*([a-zA-Z][\w-]*)", html)}


ALLOWED_TAGS = {"div", "p", "span", "b", "mark", "article", "header", "details", "summary"}
ALLOWED_TAGS |= {"section", "h3", "table", "thead", "tbody", "tr", "th", "td", "progress"}
ALLOWED_TAGS |= {"br", "ul", "li"}


def test_hostile_text_never_becomes_markup_anywhere() -> None:
    passage = _passage(title=HOSTILE, source=HOSTILE, published=HOSTILE, text=HOSTILE)
    answer = _answer([passage], HOSTILE + " [1]", question=HOSTILE, resolved_question=HOSTILE)
    pieces = [
        render.question_html(HOSTILE),
        render.answer_html(answer),
        render.sources_html(answer, {("d1", "ab" * 32): HOSTILE * 3}),
        render.source_card(_passage(start=0, end=len(HOSTILE), text=HOSTILE), HOSTILE),
        render.documents_html(
            [{"title": HOSTILE, "source": HOSTILE, "published": HOSTILE, "encoding": HOSTILE}]
        ),
        render.message_html(HOSTILE, HOSTILE),
        render.upload_report_html({"rejected": [{"name": HOSTILE, "reason": HOSTILE}]}),
        render.status_html(
            {"documents": 1, "passages": 2, "model": HOSTILE, "notice": HOSTILE, "rebuild": {}}
        ),
    ]
    for html in pieces:
        assert _tags(html) <= ALLOWED_TAGS, html
        assert "<script" not in html and "<img" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text


def test_answer_sentence_is_highlighted_at_its_offsets() -> None:
    start = DOC.index("Second")
    end = DOC.index("Third") - 2
    html = render.source_card(_passage(answer_start=start, answer_end=end), DOC)
    marked = re.search(r"<mark>(.*?)</mark>", html)
    assert marked is not None
    assert marked.group(1) == "Second &lt;b&gt;bold&lt;/b&gt; sentence."
    assert 'qa-card qa-card-answer"' in html
    assert "Show in document" in html


def test_blank_lines_and_runs_of_spaces_are_squeezed() -> None:
    assert render.prose("a\n\n\n  b   c\t d") == "a\nb c d"


def test_context_shows_text_around_the_passage() -> None:
    long_doc = "before " * 300 + "THE PASSAGE." + " after" * 300
    start = long_doc.index("THE")
    passage = _passage(start=start, end=start + 12, text="THE PASSAGE.")
    html = render.context_html(long_doc, passage)
    assert '<span class="qa-in-doc">THE PASSAGE.</span>' in html
    assert html.count("before") > 50 and html.count("after") > 50
    assert "… before" in html and "after …" in html  # cut at word boundaries, marked as cut


def test_card_falls_back_to_cited_text_when_the_document_changed() -> None:
    html = render.source_card(_passage(), "a different document now")
    assert "First sentence here." in html and "Show in document" not in html


def test_not_found_answer() -> None:
    html = render.answer_html(_answer([_passage()], None))
    assert render.NOT_FOUND in html and "nearest passages" in html


def test_found_answer_names_its_source_and_marker() -> None:
    html = render.answer_html(_answer([_passage()], "First sentence here. [1]"))
    assert '<span class="qa-cite">[1]</span>' in html
    assert "From <b>Title</b>, 2019-10-16" in html


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True)]
    + [("localhost", True), ("0.0.0.0", False), ("192.168.1.4", False), ("example.org", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_write_rule_matches_the_api() -> None:
    assert write_refusal(Settings(host="127.0.0.1", admin_token=None), None) is None
    assert write_refusal(Settings(host="0.0.0.0", admin_token=None), None) == NO_TOKEN_REMOTE
    assert not writes_possible(Settings(host="0.0.0.0", admin_token=None))
    with_token = Settings(host="0.0.0.0", admin_token="s3cret")
    assert writes_possible(with_token)
    assert write_refusal(with_token, "s3cret") is None
    assert write_refusal(with_token, " s3cret ") is None  # pasted with spaces
    assert write_refusal(with_token, "wrong") == WRONG_TOKEN
    assert write_refusal(with_token, "") == WRONG_TOKEN
    assert write_refusal(with_token, "ünïcode") == WRONG_TOKEN
    # A token is required even on loopback once one is set.
    assert write_refusal(Settings(host="127.0.0.1", admin_token="s3cret"), None) == WRONG_TOKEN
