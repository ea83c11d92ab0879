"""The server's answer workers (``qa.answer_worker``): started with the API, given up to two
questions at a time each, restarted if they die; the server answers itself whenever none can.

Measured on 2 cores at 10,000 passages (docs/benchmarks.md): answering in the server process,
16 concurrent clients got 1.7× one client's requests/s, because the answering threads and the
event loop share one GIL; with two workers holding two questions each, 2.0–2.4×. The event
loop only moves bytes, so /health stays prompt under that load.

Everything here runs on the event loop: no threads, no locks. A worker answers its questions in
the order they were sent, and one reader per worker hands each reply to its question.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import orjson

from qa.answer_worker import ANSWERED, FRAME_HEADER, READY, frame, hello
from qa.config import Settings

log = logging.getLogger(__name__)

_STOP_WAIT_S = 3.0
# A worker that could not start is tried again after these many seconds, doubling up to the
# last: the version it was to load may have been cleaned away by a build meanwhile, and the next
# try loads the one served then.
_RETRY_FIRST_S = 0.5
_RETRY_MAX_S = 30.0
# Questions a worker holds at once: the one it answers and the next, already in its pipe.
QUESTIONS_PER_WORKER = 2


class _WorkerGone(Exception):
    """The worker's pipe closed: it exited, crashed or was killed."""


@dataclass
class _Worker:
    """One worker process and the futures of the questions sent to it, in the order sent (the
    order its replies come back in)."""

    process: asyncio.subprocess.Process
    slot: int
    pending: deque[asyncio.Future[bytes]] = field(default_factory=deque)
    gone: bool = False

    def send(self, payload: bytes) -> asyncio.Future[bytes]:
        """Write one frame now; the future of its reply."""
        assert self.process.stdin is not None
        reply = asyncio.get_running_loop().create_future()
        self.process.stdin.write(frame(payload))
        self.pending.append(reply)
        return reply

    async def read_reply(self) -> bytes:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            (length,) = FRAME_HEADER.unpack(await stdout.readexactly(FRAME_HEADER.size))
            return await stdout.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            raise _WorkerGone(f"answer worker {self.process.pid} has gone") from error


class AnswerPool:
    """``count`` worker processes; ``answer`` gives a question to the next free slot of one.

    ``served`` names the index version served now. Every worker, the first ones and each
    replacement, starts on what it names at that moment: the version served at start-up is gone
    after two builds (``store.KEEP_OLD_VERSIONS``), so a replacement started on it would fail.

    Each worker has QUESTIONS_PER_WORKER slots, so under load its next question is already in its
    pipe when it finishes one, instead of waiting for the event loop to send it. The slot queue
    holds a worker once per free slot, or ``None`` once no worker can ever answer again: whoever
    takes that ``None`` puts it back, so every waiting request learns it and answers in-process.
    """

    def __init__(self, settings: Settings, count: int, served: Callable[[], str]) -> None:
        self.settings = settings
        self.count = count
        self._served = served
        self.ready = 0  # workers started and not lost
        self.answered = 0  # questions the workers answered (for tests and monitoring)
        self._slots: asyncio.Queue[_Worker | None] = asyncio.Queue()
        self._processes: dict[int, asyncio.subprocess.Process] = {}  # slot -> its process
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._none_queued = False  # the slot queue holds the None that releases waiters

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids, started or starting (for tests and monitoring)."""
        return [process.pid for process in self._processes.values()]

    def start(self) -> None:
        """Start the workers in the background; until one is ready, the server answers itself."""
        for slot in range(self.count):
            self._in_background(self._start_worker(slot))

    async def answer(
        self, version: str, question: str, top_k: int, history: list[str] | None
    ) -> bytes | None:
        """The /answer body for the question over ``version``, from a worker.

        None if no worker answered (none running, or it failed or died meanwhile): the caller then
        answers in its own process, which also reports a bad question the usual way. A request
        cancelled meanwhile leaves its reply to be read and dropped, so replies never shift.
        """
        if self.ready == 0 or self._closing:
            return None
        worker = await self._slots.get()
        while worker is not None and worker.gone:  # a slot of a worker lost since: dropped
            worker = await self._slots.get()
        if worker is None:
            self._slots.put_nowait(None)
            return None
        request = {"version": version, "question": question, "top_k": top_k, "history": history}
        try:
            reply = await worker.send(orjson.dumps(request))
        except _WorkerGone:
            return None
        if not reply.startswith(ANSWERED):
            log.info("answer worker failed (%s); answering in the server", reply[1:].decode())
            return None
        self.answered += 1
        return reply[len(ANSWERED) :]

    async def close(self) -> None:
        """Stop every worker: stdin closed (a worker's signal to exit), killed if it lingers."""
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        processes = list(self._processes.values())
        self._processes.clear()
        for process in processes:
            if process.stdin is not None:
                process.stdin.close()
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), _STOP_WAIT_S)
            except TimeoutError:
                process.kill()
                await process.wait()
        self.ready = 0

    # --- inside ---------------------------------------------------------------------------

    async def _read_replies(self, worker: _Worker) -> None:
        """Hand each reply to the question it answers and free its slot; if the worker goes,
        fail its questions (their callers answer them) and start another."""
        try:
            while True:
                reply = await worker.read_reply()
                question = worker.pending.popleft()
                if not question.done():  # not cancelled
                    question.set_result(reply)
                self._slots.put_nowait(worker)
        except _WorkerGone as error:
            worker.gone = True
            for question in worker.pending:
                if not question.done():
                    question.set_exception(_WorkerGone(str(error)))
            worker.pending.clear()
            self._lose(worker)
            if not self._closing:  # a replacement that cannot start releases the waiting
                log.error("%s; starting another", error)
                self._in_background(self._start_worker(worker.slot))

    async def _start_worker(self, slot: int, retry_in: float = _RETRY_FIRST_S) -> None:
        """Start the worker of ``slot`` on the version served now; if it cannot start, release
        whoever waits for a worker and try again later (on the version served then)."""
        if not await self._started(slot):
            self._none_left()
            if not self._closing:
                await asyncio.sleep(retry_in)
                self._in_background(self._start_worker(slot, min(2 * retry_in, _RETRY_MAX_S)))

    async def _started(self, slot: int) -> bool:
        """Start one worker process on the version served now; True once it is ready."""
        try:
            version = self._served()
        except Exception as error:  # nothing served (the index is being rebuilt): try later
            log.error("no index version to start an answer worker on (%s)", error)
            return False
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "qa.answer_worker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        except OSError as error:
            log.error("could not start an answer worker (%s); the server answers without it", error)
            return False
        self._processes[slot] = process
        worker = _Worker(process, slot)
        assert process.stdin is not None
        process.stdin.write(frame(hello(self.settings, version)))
        try:
            started = await worker.read_reply()
        except _WorkerGone:
            started = b""
        if started != READY:
            log.error(
                "answer worker %d did not start (exit code %s; its error is in the log above); "
                "the server answers without it",
                process.pid,
                await process.wait(),
            )
            self._processes.pop(slot, None)
            return False
        if self._closing:  # close() ran while it started: it did not see this process
            process.kill()
            await process.wait()
            return False
        self.ready += 1
        self._forget_none_left()
        for _ in range(QUESTIONS_PER_WORKER):
            self._slots.put_nowait(worker)
        self._in_background(self._read_replies(worker))
        log.info("answer worker %d ready on %s (pid %d)", slot, version, process.pid)
        return True

    def _none_left(self) -> None:
        """If no worker runs or is starting, release whoever waits for one (see the class)."""
        if self.ready == 0 and not self._processes and not self._none_queued:
            self._none_queued = True
            self._slots.put_nowait(None)

    def _forget_none_left(self) -> None:
        """Take back the ``None`` that told waiters no worker runs: one does again."""
        if not self._none_queued:
            return
        self._none_queued = False
        kept = [self._slots.get_nowait() for _ in range(self._slots.qsize())]
        for entry in kept:
            if entry is not None:
                self._slots.put_nowait(entry)

    def _lose(self, worker: _Worker) -> None:
        self.ready -= 1
        self._processes.pop(worker.slot, None)
        if worker.process.returncode is None:
            worker.process.kill()

    def _in_background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` as a task held here until it ends (the loop keeps only weak ones)."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
