"""Answer worker processes (qa.answer_pool, qa.answer_worker) with the real model and index:
they answer exactly as the server process does, follow the version they are given, and a worker
that fails, dies or cannot start never loses a question: the caller gets None and answers itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from qa.answer_pool import AnswerPool
from qa.app import compose
from qa.asking import Asker
from qa.config import Settings
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.service import QAService
from qa.store import current_version

pytestmark = pytest.mark.slow  # each test starts worker processes that load the model

START_TIMEOUT = 120.0  # a worker loads the model and the index
SCENARIO_TIMEOUT = 300.0
QUESTIONS = [
    "which borough stayed good in 2019",
    "What did Ofsted say about Kensington and Chelsea?",
    "Who was the director of children's services?",
]


def run(scenario: Callable[[AnswerPool], Awaitable[None]], settings: Settings, count: int) -> None:
    """Run ``scenario`` on an event loop with a started pool of ``count`` workers; stop them after
    and check that every worker process has exited."""

    async def main() -> None:
        pool = AnswerPool(settings, count, lambda: current_version(settings.index_dir))
        pool.start()
        try:
            await until(lambda: pool.ready == count, "the workers did not start")
            await asyncio.wait_for(scenario(pool), SCENARIO_TIMEOUT)  # a hang is a failure
        finally:
            pids = pool.pids
            await pool.close()
        assert not [pid for pid in pids if alive(pid)], "a worker outlived close()"

    asyncio.run(main())


async def until(
    condition: Callable[[], bool], failure: str, timeout: float = START_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failure
        await asyncio.sleep(0.05)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def without_timing(body: bytes | dict[str, Any]) -> dict[str, Any]:
    answer = orjson.loads(body) if isinstance(body, bytes) else dict(body)
    answer.pop("took_ms")
    return answer


def test_a_worker_answers_exactly_as_the_server_process_does(
    seeds_index: Settings, embedder: Embedder
) -> None:
    service = QAService(seeds_index, embedder)
    version = service.retriever.index.version

    async def scenario(pool: AnswerPool) -> None:
        for question in QUESTIONS:
            body = await pool.answer(version, question, 3, None)
            assert body is not None
            assert without_timing(body) == without_timing(service.ask(question, 3).as_dict())
        history = ["which borough stayed good"]
        body = await pool.answer(version, "and in 2016?", 2, history)
        assert body is not None
        expected = service.ask("and in 2016?", 2, history).as_dict()
        assert without_timing(body) == without_timing(expected)

    run(scenario, seeds_index, 1)


def test_a_worker_answers_over_the_version_it_is_given(
    settings: Settings, embedder: Embedder
) -> None:
    build_index(settings, embedder)
    first = current_version(settings.index_dir)
    question = "Which council did inspectors rate inadequate for fostering in 2021?"
    new_doc = settings.docs_dir / "zz-fostering.txt"

    async def scenario(pool: AnswerPool) -> None:
        new_doc.write_text(
            "Title: Fostering inspection\nDate: 2021-03-01\n\n"
            "Inspectors rated Wessex County Council inadequate for fostering in 2021. "
            "The council must publish an improvement plan within seventy working days."
        )
        await asyncio.to_thread(build_index, settings, embedder)
        second = current_version(settings.index_dir)
        assert second != first
        for version, has_new_doc in ((second, True), (first, False), (second, True)):
            body = await pool.answer(version, question, 5, None)
            assert body is not None
            cited = " ".join(p["text"] for p in orjson.loads(body)["passages"])
            assert ("Wessex County Council" in cited) is has_new_doc, version

    run(scenario, settings, 1)


def test_questions_asked_at_once_each_get_their_own_answer(seeds_index: Settings) -> None:
    """More questions than slots: they queue, and each reply reaches the question it answers."""
    version = current_version(seeds_index.index_dir)

    async def scenario(pool: AnswerPool) -> None:
        asked = [QUESTIONS[i % len(QUESTIONS)] + "?" * i for i in range(7)]
        bodies = await asyncio.gather(*(pool.answer(version, q, 3, None) for q in asked))
        assert [orjson.loads(b)["question"] if b else None for b in bodies] == asked
        assert pool.answered == len(asked)

    run(scenario, seeds_index, 1)


def test_a_failed_question_falls_back_and_the_worker_keeps_answering(
    seeds_index: Settings,
) -> None:
    version = current_version(seeds_index.index_dir)

    async def scenario(pool: AnswerPool) -> None:
        (pid,) = pool.pids
        assert await pool.answer("v-that-does-not-exist", QUESTIONS[0], 3, None) is None
        assert pool.ready == 1 and pool.pids == [pid]
        assert await pool.answer(version, QUESTIONS[0], 3, None) is not None

    run(scenario, seeds_index, 1)


def test_a_killed_worker_is_replaced(seeds_index: Settings) -> None:
    version = current_version(seeds_index.index_dir)

    async def scenario(pool: AnswerPool) -> None:
        (pid,) = pool.pids
        os.kill(pid, signal.SIGKILL)
        await until(lambda: not alive(pid), "the worker did not die", 10)
        await until(lambda: pool.ready == 0, "the pool did not notice", 10)
        # While the replacement starts, the caller answers (it is not sent to the dead one)...
        assert await pool.answer(version, QUESTIONS[0], 3, None) is None
        # ...and then the replacement does.
        await until(lambda: pool.ready == 1, "no worker replaced the dead one")
        assert pool.pids != [pid]
        answered = pool.answered
        assert await pool.answer(version, QUESTIONS[0], 3, None) is not None
        assert pool.answered == answered + 1

    run(scenario, seeds_index, 1)


def test_a_cancelled_request_does_not_shift_the_replies(seeds_index: Settings) -> None:
    """Its exchange finishes anyway, so the next question gets its own answer, not that one."""
    version = current_version(seeds_index.index_dir)

    async def scenario(pool: AnswerPool) -> None:
        first = asyncio.ensure_future(pool.answer(version, QUESTIONS[0], 3, None))
        await asyncio.sleep(0)  # the question is on its way to the worker
        first.cancel()
        body = await asyncio.wait_for(pool.answer(version, QUESTIONS[1], 3, None), 60)
        assert body is not None
        assert orjson.loads(body)["question"] == QUESTIONS[1]

    run(scenario, seeds_index, 1)


def test_with_no_worker_left_every_waiting_question_comes_back(
    seeds_index: Settings, tmp_path: Path
) -> None:
    """The worker dies and its replacement cannot start: nobody waits for a worker forever."""
    index = Path(shutil.copytree(seeds_index.index_dir, tmp_path / "index"))
    settings = seeds_index.model_copy(update={"index_dir": index})
    version = current_version(index)

    async def scenario(pool: AnswerPool) -> None:
        shutil.rmtree(index / version)  # a replacement cannot load it
        (pid,) = pool.pids
        os.kill(pid, signal.SIGKILL)
        await until(lambda: not alive(pid), "the worker did not die", 10)
        asked = [pool.answer(version, question, 3, None) for question in QUESTIONS]
        replies = await asyncio.wait_for(asyncio.gather(*asked), START_TIMEOUT)
        assert replies == [None, None, None]
        assert pool.ready == 0
        assert await pool.answer(version, QUESTIONS[0], 3, None) is None

    run(scenario, settings, 1)


def _without_timing(reply: tuple[Any, ...]) -> tuple[Any, ...]:
    """A chat reply with its answers' ``took_ms`` set aside: the rest must be equal."""
    chat, sources, conversation, text = reply
    answers = [dataclasses.replace(a, took_ms=0.0) for a in conversation.answers]
    return chat, sources, conversation.messages, conversation.asked, answers, text


def test_the_chat_answers_through_a_worker_as_it_would_itself(
    seeds_index: Settings, embedder: Embedder
) -> None:
    from ui.app import ChatActions

    qa = compose(seeds_index, embedder)  # no workers in these settings: answers in-process
    alone = ChatActions(qa)

    async def scenario(pool: AnswerPool) -> None:
        asker = Asker(qa.service, pool, seeds_index.answer_concurrency)
        with_worker = ChatActions(dataclasses.replace(qa, asker=asker))
        conversation = None
        for question in (QUESTIONS[0], "and in 2016?"):
            expected = await alone.ask(question, conversation)
            answered = pool.answered
            got = await with_worker.ask(question, conversation)
            assert pool.answered == answered + 1  # by the worker, not by the fallback
            assert _without_timing(got) == _without_timing(expected)
            conversation = got[2]

    run(scenario, seeds_index, 1)
