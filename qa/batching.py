"""Micro-batching: concurrent small encode calls (one question each) share one model call.

On a 2-core CPU, sixteen threads each running the model on one question fight over the cores;
one run over sixteen questions costs little more than a run over one. The first caller to find
the model idle runs everything queued so far; callers arriving meanwhile wait for the next run.
A lone caller waits for nobody, so sequential latency is unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class _Job:
    texts: list[str]
    vectors: np.ndarray | None = None
    error: BaseException | None = None
    finished: bool = False


class MicroBatcher:
    """Wraps ``encode(texts) -> vectors`` so that concurrent calls are grouped, in arrival order."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_texts: int = 64) -> None:
        self._encode = encode
        self._max_texts = max_texts
        self._queue: list[_Job] = []
        self._busy = False
        self._changed = threading.Condition()

    def __call__(self, texts: list[str]) -> np.ndarray:
        job = _Job(list(texts))
        with self._changed:
            self._queue.append(job)
        while True:
            with self._changed:
                while self._busy and not job.finished:
                    self._changed.wait()
                if job.finished:
                    break
                self._busy = True
                batch = self._take()
            try:
                self._run(batch)
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()
        if job.error is not None:
            raise job.error
        assert job.vectors is not None
        return job.vectors

    def _take(self) -> list[_Job]:
        """The oldest jobs, up to ``max_texts`` texts in all (at least one job)."""
        count, taken = 0, 0
        for job in self._queue:
            if taken and count + len(job.texts) > self._max_texts:
                break
            count += len(job.texts)
            taken += 1
        batch, self._queue = self._queue[:taken], self._queue[taken:]
        return batch

    def _run(self, batch: list[_Job]) -> None:
        vectors: np.ndarray | None = None
        error: BaseException | None = None
        try:
            vectors = self._encode([text for job in batch for text in job.texts])
        except BaseException as raised:  # handed to every caller in the batch, then re-raised
            error = raised
        with self._changed:
            start = 0
            for job in batch:
                if vectors is not None:
                    job.vectors = vectors[start : start + len(job.texts)]
                    start += len(job.texts)
                job.error, job.finished = error, True
        if error is not None and not isinstance(error, Exception):
            raise error
