"""The chat through Gradio's own HTTP API (gradio_client), against a real ``qa serve`` process:
the same event the Ask button fires, the same server a user runs, the real model."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from bench.server import LiveServer, live_server, wait_for_answer_workers
from qa.config import Settings

pytestmark = pytest.mark.slow

SAMPLE = "Which borough stayed good in 2019?"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, copy_seeds_index: Callable[[Path], Settings]
) -> Iterator[LiveServer]:
    copied = copy_seeds_index(tmp_path_factory.mktemp("ui-client"))
    with live_server(copied.docs_dir, copied.index_dir) as running:
        wait_for_answer_workers(running)  # the chat's questions reach the workers
        yield running


@pytest.fixture
def client(server: LiveServer) -> Iterator[Client]:
    """A fresh Gradio session: its own conversation history."""
    session = Client(server.url, verbose=False)
    yield session
    session.close()  # its heartbeat connection would otherwise hold up the server's shutdown


def _plain(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _bubble(chat: list[dict[str, Any]], index: int) -> str:
    content = chat[index]["content"]
    return "".join(part["text"] for part in content) if isinstance(content, list) else content


def test_ask_returns_the_cited_answer_and_its_sources(client: Client) -> None:
    chat, sources, question_box = client.predict(SAMPLE, api_name="/ask")

    assert [message["role"] for message in chat] == ["user", "assistant"]
    assert _plain(_bubble(chat, 0)) == SAMPLE
    answer = _plain(_bubble(chat, 1))
    assert "Hammersmith and Fulham" in answer
    assert re.search(r"\[\d\]", answer), answer  # the [n] marker of the cited passage
    assert question_box == ""

    # The cited passage is a source card, with the answer sentence highlighted in it.
    cards = re.findall(r'<article class="qa-card.*?</article>', sources, re.S)
    assert 1 <= len(cards) <= 5
    retained = [card for card in cards if 'retained its "good" rating' in unescape(card)]
    assert retained, "no source card shows the 2019 passage"
    assert "2019-10-16" in retained[0]
    assert "<mark>" in sources
    assert "Show in document" in sources


def test_follow_up_uses_the_conversation(client: Client) -> None:
    chat, _, _ = client.predict(SAMPLE, api_name="/ask")
    chat, sources, _ = client.predict("and in 2016?", api_name="/ask")

    assert len(chat) == 4
    assert "Read as" in _bubble(chat, 3)  # the follow-up was merged with the first question
    dates = re.findall(r"<span>(\d{4})-\d\d-\d\d</span>", sources)
    assert "2016" in dates[:3], dates


def test_unanswerable_question_says_so_and_shows_nearest_passages(client: Client) -> None:
    chat, sources, _ = client.predict("What is the capital of Peru?", api_name="/ask")

    assert "I could not find this in the documents." in _bubble(chat, 1)
    assert "Nearest passages" in sources
    assert "qa-card-answer" not in sources  # nothing is highlighted as the answer


def test_question_markup_is_shown_as_text(client: Client) -> None:
    chat, sources, _ = client.predict('<img src=x onerror="alert(1)"> good?', api_name="/ask")

    assert "<img" not in _bubble(chat, 0) and "<img" not in sources
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in _bubble(chat, 0)


def test_api_and_chat_share_one_server(server: LiveServer) -> None:
    answer = httpx.post(server.url + "answer", json={"question": SAMPLE}, timeout=60)
    assert answer.status_code == 200
    assert any('retained its "good" rating' in p["text"] for p in answer.json()["passages"][:3])
    assert httpx.get(server.url + "docs", timeout=10).status_code == 200
    page = httpx.get(server.url, timeout=10)
    assert page.status_code == 200 and "gradio" in page.text.lower()


def test_server_log_has_no_traceback(server: LiveServer, client: Client) -> None:
    client.predict(SAMPLE, api_name="/ask")
    assert "Traceback" not in Path(server.log).read_text(errors="replace")


def test_blank_question_is_refused_with_a_message(client: Client) -> None:
    with pytest.raises(AppError, match="Type a question first"):
        client.predict("   ", api_name="/ask")
