"""The one way to ask: the API's /answer, the chat and ``qa ask`` all hand their questions here.

A question is normalised first (``qa.question``). Then it goes to an answer worker process if
one runs (``qa.answer_pool``: each has its own interpreter, so two cores answer two questions at
once); otherwise, or if the worker fails, it is answered in this process, on a thread that yields
the CPU to the event loop (``qa.priority``), at most ``answer_concurrency`` at a time: answers
beyond one per core would only contend for the cores and the GIL, slowing every answer and the
event loop, so extra requests wait their turn, in order, holding nothing.
"""

from __future__ import annotations

import anyio
import orjson

from qa.answer_pool import AnswerPool
from qa.answering import Answer
from qa.priority import lower_this_thread
from qa.question import DEFAULT_TOP_K, checked_history, checked_question, checked_top_k
from qa.service import QAService


class Asker:
    """Answers questions over ``service``'s served version, through ``pool`` when it can."""

    def __init__(self, service: QAService, pool: AnswerPool | None, concurrency: int) -> None:
        self.service = service
        self.pool = pool
        self._slots = anyio.Semaphore(concurrency)

    @property
    def workers(self) -> int:
        """Answer worker processes running now (0: this process answers)."""
        return self.pool.ready if self.pool is not None else 0

    async def start(self) -> None:
        """Load the index and the model, then start the workers on the version served."""
        await anyio.to_thread.run_sync(self.service.warm_up)
        if self.pool is not None:
            self.pool.start()

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def answer(
        self, question: str, top_k: int = DEFAULT_TOP_K, history: list[str] | None = None
    ) -> Answer:
        """The answer object (for the chat and the CLI)."""
        reply = await self._ask(question, top_k, history, as_json=False)
        return Answer.from_dict(orjson.loads(reply)) if isinstance(reply, bytes) else reply

    async def answer_json(
        self, question: str, top_k: int = DEFAULT_TOP_K, history: list[str] | None = None
    ) -> bytes:
        """The answer as the JSON body of /answer: a worker's reply is passed on as it came."""
        reply = await self._ask(question, top_k, history, as_json=True)
        return reply if isinstance(reply, bytes) else orjson.dumps(reply)

    async def _ask(
        self, question: str, top_k: int, history: list[str] | None, as_json: bool
    ) -> bytes | Answer:
        """Worker first, else this process: the one place that decides."""
        question, top_k = checked_question(question), checked_top_k(top_k)
        history = checked_history(history)
        if self.pool is not None and self.pool.ready:
            version = self.service.retriever.index.version  # the one served now: workers follow
            body = await self.pool.answer(version, question, top_k, history)
            if body is not None:
                return body

        def in_process() -> bytes | Answer:
            lower_this_thread()
            answer = self.service.ask(question, top_k, history)
            # Serialised here, off the event loop: the Answer dataclass straight to JSON (a test
            # and the fuzz suite check it matches AnswerOut), less time holding the GIL there.
            return orjson.dumps(answer) if as_json else answer

        async with self._slots:
            return await anyio.to_thread.run_sync(in_process)
