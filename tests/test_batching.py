"""Micro-batching: concurrent calls share model runs, each caller gets its own rows, errors reach
every caller. The grouping logic is tested with a counting function; the real model once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from qa.batching import MicroBatcher
from qa.embedding import Embedder


class CountingEncoder:
    """Rows that encode each text's length, and a record of how texts were grouped."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.calls: list[list[str]] = []
        self.lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self.lock:
            self.calls.append(list(texts))
        time.sleep(self.delay)  # the model's run, during which other callers queue up
        return np.array([[len(t), i] for i, t in enumerate(texts)], dtype=np.float32)


def test_concurrent_calls_are_grouped_and_each_gets_its_own_rows() -> None:
    encoder = CountingEncoder()
    batcher = MicroBatcher(encoder)
    texts = [["x" * n] for n in range(1, 17)]
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(batcher, texts))
    assert [int(r[0, 0]) for r in results] == list(range(1, 17))
    assert sum(len(call) for call in encoder.calls) == 16
    assert len(encoder.calls) < 16  # grouped: the first run goes alone, the rest wait and share


def test_a_lone_caller_runs_at_once_and_batches_respect_the_size_limit() -> None:
    encoder = CountingEncoder(delay=0.0)
    batcher = MicroBatcher(encoder, max_texts=3)
    assert batcher(["a", "bb"]).shape == (2, 2)
    assert encoder.calls == [["a", "bb"]]
    slow = CountingEncoder()
    limited = MicroBatcher(slow, max_texts=3)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(limited, [["q"]] * 8))
    assert max(len(call) for call in slow.calls) <= 3


def test_an_error_reaches_every_caller_in_the_batch_and_the_batcher_recovers() -> None:
    failing = True

    def encode(texts: list[str]) -> np.ndarray:
        time.sleep(0.02)
        if failing:
            raise RuntimeError("model failed")
        return np.zeros((len(texts), 2), dtype=np.float32)

    batcher = MicroBatcher(encode)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(batcher, ["q"]) for _ in range(4)]
        for future in futures:
            with pytest.raises(RuntimeError, match="model failed"):
                future.result()
    failing = False
    assert batcher(["q"]).shape == (1, 2)


def test_concurrent_questions_get_the_vectors_they_would_get_alone(embedder: Embedder) -> None:
    questions = [
        "which borough stayed good in 2019",
        "Who was Ofsted's chief inspector?",
        "Which council was rated good rather than outstanding in 2016?",
        "Ofsted",
    ] * 3
    alone = np.vstack([embedder.encode([q]) for q in questions])
    with ThreadPoolExecutor(len(questions)) as pool:
        together = np.vstack(list(pool.map(lambda q: embedder.encode([q]), questions)))
    assert np.allclose(np.sum(alone * together, axis=1), 1.0, atol=1e-4)
