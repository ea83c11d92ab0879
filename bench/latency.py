"""In-process query latency: the full answer, retrieval alone, and the floor beneath both.

The floor is what no design can go below: encode the question, one FAISS search. The three are
timed question by question in turn, so load on the machine falls on all of them alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.measure import latency_summary, timed_ms
from qa.service import QAService
from qa.store import search_one_thread


def floor_of(service: QAService) -> Callable[[str], None]:
    """The floor for one question: encode it, one FAISS search, nothing else."""
    embedder = service.embedder
    faiss_index = service.retriever.index.faiss_index

    def floor(question: str) -> None:  # searched as retrieval searches: one thread, no spinning
        search_one_thread(faiss_index, embedder.encode([question]), 5)

    return floor


def in_process_latency(service: QAService, questions: list[str], passes: int = 2) -> dict[str, Any]:
    retriever = service.retriever
    floor = floor_of(service)

    def retrieve(question: str) -> None:
        retriever.search(retriever.prepare(question), 5)

    def ask(question: str) -> None:
        service.ask(question, top_k=5)

    for question in questions[:3]:  # warm caches and lazy paths
        ask(question)
    timings: dict[str, list[float]] = {"floor": [], "retrieve": [], "ask": []}
    for _ in range(passes):
        for question in questions:
            timings["floor"].append(timed_ms(floor, question))
            timings["retrieve"].append(timed_ms(retrieve, question))
            timings["ask"].append(timed_ms(ask, question))
    return {name: latency_summary(values) for name, values in timings.items()}
