"""Does adapting the embedding model to a collection, without labels, help retrieval on it?

Inverse cloze: a sentence of a passage is the query, the rest of its passage the positive (the
whole passage one time in ten, so the model still matches text to itself), and the other
passages of the batch the negatives. The pairs come from the collection's own passages only,
never from its questions, so the questions stay held out. The script fine-tunes a copy of the
model for one epoch and prints dense-only hit@1 / hit@3 / MRR@5 before and after, and how many
questions moved up or down; with ``--save`` it keeps the adapted model, which ``QA_MODEL`` can
then point ``qa eval`` at (with its own ``QA_CACHE_DIR``) to score the whole system.

    python -m bench.inverse_cloze ../shared/eval/python_howto_qa.jsonl --save /tmp/howto-model
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import torch

from bench.fit_data import open_collection
from qa.adaptation import cloze_pairs, fine_tune, stderr_progress
from qa.config import Settings, get_settings
from qa.embedding import Embedder
from qa.evaluation import Collection, EvalQuestion, is_relevant, load_questions
from qa.store.records import IndexData

_TOP = 5


def open_passages(
    spec: str, settings: Settings, embedder: Embedder
) -> tuple[IndexData, list[str], list[EvalQuestion]]:
    """The collection's eval index (built if missing), its passage texts and its answerable
    questions."""
    collection = Collection.parse(spec)
    data = open_collection(settings, embedder, collection, settings.cache_dir).data
    texts = [data.passage_text(i) for i in range(len(data.passages))]
    questions = [q for q in load_questions(collection.questions) if not q.unanswerable]
    return data, texts, questions


def first_relevant_ranks(model, passages: list[str], questions: list[EvalQuestion]) -> np.ndarray:
    """Rank (1.._TOP, or _TOP + 1 for a miss) of each question's first relevant passage by
    cosine alone."""
    vectors = model.encode(passages, normalize_embeddings=True, batch_size=64)
    asked = model.encode([q.question for q in questions], normalize_embeddings=True)
    ranks = []
    for question, vector in zip(questions, asked, strict=True):
        order = np.argsort(-(vectors @ vector))[:_TOP]
        hits = [k for k, row in enumerate(order, 1) if is_relevant(passages[row], question.gold)]
        ranks.append(hits[0] if hits else _TOP + 1)
    return np.array(ranks)


def scores(ranks: np.ndarray) -> dict[str, float]:
    reciprocal = np.where(ranks <= _TOP, 1.0 / ranks, 0.0)
    return {
        "hit@1": round(float((ranks == 1).mean()), 3),
        "hit@3": round(float((ranks <= 3).mean()), 3),
        "mrr@5": round(float(reciprocal.mean()), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inverse_cloze", description=__doc__)
    parser.add_argument("collection", help="QUESTIONS.jsonl[=DOCS], as for qa eval")
    parser.add_argument("--pairs", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--save", type=Path, help="keep the adapted model in this folder")
    args = parser.parse_args(argv)

    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    settings = get_settings()
    embedder = Embedder.from_settings(settings)
    data, passages, questions = open_passages(args.collection, settings, embedder)
    model = SentenceTransformer(str(embedder.path), device="cpu")
    before = first_relevant_ranks(model, passages, questions)
    pairs = cloze_pairs(data, args.pairs, random.Random(0))
    started = time.perf_counter()
    fine_tune(model, pairs, args.batch, args.lr, stderr_progress("fine-tuning"))
    seconds = time.perf_counter() - started
    after = first_relevant_ranks(model, passages, questions)
    if args.save:
        model.save(str(args.save))
    report = {
        "passages": len(passages),
        "questions": len(questions),
        "pairs": len(pairs),
        "train_s": round(seconds),
        "before": scores(before),
        "after": scores(after),
        "better": int((after < before).sum()),
        "worse": int((after > before).sum()),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
