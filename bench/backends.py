"""Embedding backends compared: throughput on corpus passages and dev-set hit@1 of each.

Rounds alternate between backends and the best round of each counts, so a burst of load on a
shared machine slows one round, not one backend.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench.measure import progress
from qa.chunking import chunk_text, split_sentences
from qa.config import Settings
from qa.embedding import Embedder
from qa.evaluation import evaluate, load_questions
from qa.service import QAService

# label -> (backend, quantize); "onnx" is the configured ONNX variant, the one a user gets.
VARIANTS = {"torch": ("torch", False), "onnx_fp32": ("onnx", False), "onnx_int8": ("onnx", True)}


def load_embedders(settings: Settings) -> dict[str, Embedder]:
    """One loaded embedder per variant (the ONNX files are exported on first use)."""
    embedders = {}
    for label, (backend, quantize) in VARIANTS.items():
        began = time.perf_counter()
        embedder = Embedder(settings.model, settings.cache_dir, backend, quantize)
        embedder.encode(["warm up"])
        embedders[label] = embedder
        progress(f"loaded {label} embedder in {time.perf_counter() - began:.1f}s")
    return embedders


def build_workload(
    documents: list[tuple[str, str]], passages: int, settings: Settings
) -> tuple[list[str], int]:
    """What a build embeds for the first documents holding ``passages`` passages: their
    passages, then their sentences (as the indexer orders them); and the passage count."""
    passage_texts: list[str] = []
    sentence_texts: list[str] = []
    for _, text in documents:
        if len(passage_texts) >= passages:
            break
        chunks = chunk_text(text, settings.max_chars, settings.overlap_sentences)
        passage_texts += [text[c.start : c.end] for c in chunks]
        sentence_texts += [text[s.start : s.end] for s in split_sentences(text, settings.max_chars)]
    return passage_texts + sentence_texts, len(passage_texts)


def throughput(
    embedders: dict[str, Embedder], texts: list[str], passages: int, rounds: int, batch_size: int
) -> dict[str, float]:
    """Passages per second of each embedder over a build's work (``texts``, fed in the indexer's
    batches): best of ``rounds`` interleaved rounds."""
    best = dict.fromkeys(embedders, float("inf"))
    for round_number in range(rounds):
        for label, embedder in embedders.items():
            began = time.perf_counter()
            for start in range(0, len(texts), batch_size):
                embedder.encode(texts[start : start + batch_size], batch_size=batch_size)
            best[label] = min(best[label], time.perf_counter() - began)
        progress(
            f"embedding round {round_number + 1}/{rounds}: "
            + ", ".join(f"{k} {passages / v:.1f} passages/s" for k, v in best.items())
        )
    return {label: round(passages / seconds, 2) for label, seconds in best.items()}


def dev_hit_at_1(
    embedder: Embedder, base: Settings, dev_set: Path, seeds_dir: Path, work: Path, label: str
) -> dict[str, float]:
    """hit@1 and answer accuracy on the dev questions, over the seeds, with this embedder."""
    docs = work / f"dev-docs-{label}"
    shutil.copytree(seeds_dir, docs, dirs_exist_ok=True)
    settings = base.model_copy(update={"docs_dir": docs, "index_dir": work / f"dev-index-{label}"})
    service = QAService(settings, embedder=embedder)
    report = evaluate(load_questions(dev_set), lambda q: service.ask(q, top_k=5))
    return {
        "hit_at_1": round(report.hit_at_1, 3),
        "mrr_at_5": round(report.mrr_at_5, 3),
        "answer_accuracy": round(report.answer_accuracy, 3),
    }
