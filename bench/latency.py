"""In-process query latency: the full answer, retrieval alone, and the floor beneath both.

The floor is what no design can go below: encode the question, one FAISS search. The three are
timed question by question in turn, so load on the machine falls on all of them alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.measure import latency_summary, timed_ms
from qa.service import QAService


def floor_of(service: QAService) -> Callable[[str], None]:
    """The floor for one question: encode it, one dense search in the store, nothing else."""
    embedder = service.embedder
    index = service.retriever.index

    def floor(question: str) -> None:  # searched as retrieval searches (one thread, embedded)
        index.dense_search(embedder.encode([question])[0], 5)

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
