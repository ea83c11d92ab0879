"""The OpenAI-compatible endpoint, spoken to by the real ``openai`` package over a real ``qa serve``
process on loopback (one server for the module: nothing here writes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import pytest
from openai import OpenAI, UnprocessableEntityError

from bench.server import LiveServer
from qa.question import MAX_ASK_BODY

pytestmark = pytest.mark.slow

MISSION = "which borough stayed good in 2019"  # the sample question of the README
UNANSWERABLE = "What is the airspeed velocity of an unladen swallow?"


@pytest.fixture(scope="module")
def server(
    serve_seeds: Callable[..., AbstractContextManager[LiveServer]],
) -> Iterator[LiveServer]:
    # One answer worker: answers come back through the worker's JSON, as on a served machine.
    with serve_seeds("openai", {"QA_ANSWER_WORKERS": "1"}) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: LiveServer) -> OpenAI:
    return OpenAI(base_url=server.url + "v1", api_key="unused", max_retries=0)


def test_models_lists_the_one_model(client: OpenAI) -> None:
    assert [model.id for model in client.models.list()] == ["qa"]


def test_the_mission_answer_with_numbered_sources(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="qa", messages=[{"role": "user", "content": MISSION}]
    )
    content = completion.choices[0].message.content or ""
    sentence, _, sources = content.partition("\n\nSources:\n")
    assert "Hammersmith and Fulham" in sentence and sentence.rstrip().endswith("]")
    cited = int(sentence.rstrip()[-2])  # the answer's [n]
    qa = completion.model_extra["qa"] if completion.model_extra else {}
    assert qa["found"] is True and qa["answer"] == sentence
    lines = sources.splitlines()
    assert len(lines) == len(qa["passages"]) >= cited
    passage = qa["passages"][cited - 1]
    assert lines[cited - 1].startswith(f"[{cited}] {passage['title']}, {passage['published']}")
    assert " ".join(passage["text"].split()) in lines[cited - 1]  # the quoted passage, whole


def test_streaming_sends_the_same_message_in_chunks(client: OpenAI) -> None:
    whole = client.chat.completions.create(
        model="qa", messages=[{"role": "user", "content": MISSION}]
    )
    stream = client.chat.completions.create(
        model="qa", messages=[{"role": "user", "content": MISSION}], stream=True
    )
    chunks = list(stream)
    assert len(chunks) > 3 and chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert streamed == whole.choices[0].message.content
    assert "Hammersmith and Fulham" in streamed
    last = chunks[-1].model_extra or {}
    assert last["qa"]["found"] is True


def test_history_makes_a_follow_up_whole(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="qa",
        messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": MISSION},
            {"role": "assistant", "content": "Something earlier [1]"},
            {"role": "user", "content": [{"type": "text", "text": "and in 2016?"}]},
        ],
    )
    qa = completion.model_extra["qa"] if completion.model_extra else {}
    assert qa["resolved_question"] == "which borough stayed good in 2016?"


def test_unanswerable_says_not_found(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="qa", messages=[{"role": "user", "content": UNANSWERABLE}]
    )
    content = completion.choices[0].message.content or ""
    assert content.startswith("Not found in the documents")
    assert "Nearest passages (none answers the question):" in content
    assert completion.model_extra and completion.model_extra["qa"]["found"] is False


@pytest.mark.parametrize(
    ("messages", "why"),
    [
        ([{"role": "assistant", "content": "hi"}], "last message must be the user's question"),
        ([{"role": "user", "content": " \u200b "}], "must not be blank"),
        ([{"role": "user", "content": "x" * 2001}], "over 2000 characters"),
        ([{"role": "robot", "content": "hi"}], "messages.0.role"),
    ],
)
def test_bad_requests_are_422_naming_the_problem(
    client: OpenAI, messages: list[dict[str, object]], why: str
) -> None:
    with pytest.raises(UnprocessableEntityError) as raised:
        client.chat.completions.create(model="qa", messages=messages)  # type: ignore[arg-type]
    assert why in str(raised.value.body)


def test_unknown_model_and_oversized_bodies_are_refused(server: LiveServer) -> None:
    url = server.url + "v1/chat/completions"
    question = [{"role": "user", "content": MISSION}]
    response = httpx.post(url, json={"model": "gpt-4o", "messages": question})
    assert response.status_code == 404 and "the one model is 'qa'" in response.json()["detail"]
    padding = [{"role": "system", "content": "x" * 60_000}] * 5  # over MAX_ASK_BODY
    response = httpx.post(url, json={"messages": padding + question})
    assert response.status_code == 413 and len(str(padding)) > MAX_ASK_BODY
