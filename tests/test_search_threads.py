"""One question's FAISS search runs on the calling thread alone, and changes no other thread's
OpenMP setting (a build on another thread keeps every core)."""

from __future__ import annotations

import threading

import faiss
import numpy as np

from qa.store import build_faiss_index, search_one_thread


def test_search_one_thread_finds_what_search_finds_and_restores_the_setting() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = build_faiss_index(vectors, "flat", 16)
    before = faiss.omp_get_max_threads()
    for query in vectors[:5]:
        scores, rows = search_one_thread(index, query[None, :], 10)
        expected_scores, expected_rows = index.search(query[None, :], 10)
        assert np.array_equal(rows, expected_rows) and np.allclose(scores, expected_scores)
    assert faiss.omp_get_max_threads() == before


def test_the_openmp_thread_count_is_each_threads_own() -> None:
    """What search_one_thread relies on: setting it in one thread leaves the others alone."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    seen: list[int] = []

    def answering_thread() -> None:
        faiss.omp_set_num_threads(1)
        seen.append(faiss.omp_get_max_threads())

    try:
        worker = threading.Thread(target=answering_thread)
        worker.start()
        worker.join()
        assert seen == [1]
        assert faiss.omp_get_max_threads() == 2
    finally:
        faiss.omp_set_num_threads(before)
