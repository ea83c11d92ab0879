"""Adapting the embedding model to one collection, without labels (``qa index adapt``).

all-MiniLM-L6-v2 learnt what matches what from web text. A collection of manuals or legal text
words things its own way, and the questions asked of it rarely use the text's words. Inverse
cloze teaches the model the collection's own way with nothing but the collection: each sentence
of a passage is a query, the rest of its passage the positive, and the other passages of the
batch the negatives. Measured in docs/quality.md ("Adapting the model to a collection without
labels"): on six collections, with scorers refitted on adapted cosines, more questions gain
than lose held out, both in the first passage and in the answer.

The result is an ordinary sentence-transformers folder, used like any other model through
``QA_MODEL=FOLDER``: the index records its checksum, so passages and questions are always
encoded by the same adapted model. Adapting is opt-in and costs minutes of CPU (one epoch over
at most ``pairs`` pairs); the shipped configuration stays the unadapted model.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qa.errors import AdaptationError
from qa.layout import Kind
from qa.sentence_map import SentenceMap
from qa.store.records import IndexData

log = logging.getLogger(__name__)

QUERY_CHARS = (30, 300)  # sentences shorter say too little to be a query, longer are passages
KEEP_WHOLE = 0.1  # share of pairs whose positive keeps the query: text still matches itself
MIN_POSITIVE_CHARS = 40
_ANSWER_KINDS = (Kind.PROSE, Kind.LIST_ITEM)
PROVENANCE_FILE = "qa_adaptation.json"

Progress = Callable[[int, int, float], None]  # step, steps, loss


def stderr_progress(label: str, every: int = 10) -> Progress:
    """A progress callback that prints the first step, every ``every``-th and the last to
    stderr (stdout carries only results)."""

    def progress(step: int, steps: int, loss: float) -> None:
        if step == 1 or step % every == 0 or step == steps:
            print(f"{label}: step {step}/{steps}, loss {loss:.3f}", file=sys.stderr, flush=True)

    return progress


@dataclass(frozen=True)
class AdaptReport:
    base_model: str
    base_weights_sha256: str
    index_version: str
    passages: int
    pairs: int
    steps: int
    seconds: float
    output: str


def cloze_pairs(
    data: IndexData, limit: int, rng: random.Random, keep_whole: float = KEEP_WHOLE
) -> list[tuple[str, str]]:
    """(query, positive) pairs from the index's own units: every prose or list-item sentence of
    a passage (of query length) against its passage without it. At most ``limit``, shuffled."""
    sentence_map = SentenceMap(data)
    pairs: list[tuple[str, str]] = []
    for row in range(len(data.passages)):
        passage = data.passages[row]
        text = data.documents[passage.doc_id].text
        for sentence_row in sentence_map.of(row):
            if data.sentence_kinds[sentence_row] not in _ANSWER_KINDS:
                continue
            sentence = data.sentences[sentence_row]
            query = text[sentence.start : sentence.end]
            if not QUERY_CHARS[0] <= len(query) <= QUERY_CHARS[1]:
                continue
            if rng.random() < keep_whole:
                positive = text[passage.start : passage.end]
            else:
                before = text[passage.start : sentence.start].strip()
                after = text[sentence.end : passage.end].strip()
                positive = f"{before} {after}".strip()
            if len(positive) >= MIN_POSITIVE_CHARS:
                pairs.append((query, positive))
    rng.shuffle(pairs)
    return pairs[:limit]


def fine_tune(
    model: Any,
    pairs: list[tuple[str, str]],
    batch: int,
    learning_rate: float,
    progress: Progress | None = None,
) -> int:
    """One epoch of in-batch-negatives contrastive loss (sentence-transformers'
    MultipleNegativesRankingLoss, scale 20) with a linear warm-up over the first tenth of the
    steps and a linear decay after. Returns the number of steps."""
    import torch

    steps = (len(pairs) + batch - 1) // batch
    warm = max(1, steps // 10)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda k: (k + 1) / warm if k < warm else (steps - k) / max(1, steps - warm)
    )

    def embed(texts: list[str]) -> torch.Tensor:
        features = model.preprocess(texts)
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    model.train()
    for step in range(steps):
        chunk = pairs[step * batch : (step + 1) * batch]
        queries = embed([query for query, _ in chunk])
        positives = embed([positive for _, positive in chunk])
        loss = torch.nn.functional.cross_entropy(
            20.0 * queries @ positives.T, torch.arange(len(chunk))
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if progress is not None:
            progress(step + 1, steps, float(loss.item()))
    model.eval()
    return steps


def adapt_model(
    data: IndexData,
    index_version: str,
    base_path: Path,
    base_weights_sha256: str,
    output: Path,
    pairs: int = 3000,
    batch: int = 32,
    learning_rate: float = 2e-5,
    seed: int = 0,
    progress: Progress | None = None,
) -> AdaptReport:
    """Fine-tune a copy of the model at ``base_path`` on the index's passages and save it in
    ``output``, which must not exist yet (its parents are made). The folder appears whole or not
    at all: the model is written beside it first and renamed into place."""
    if output.exists():
        raise AdaptationError(f"{output} already exists: choose a new folder for the model")
    # Checked before minutes of training: the nearest existing folder above must take the model.
    existing = next(folder for folder in output.absolute().parents if folder.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise AdaptationError(f"cannot create {output}: {existing} is not a writable folder")
    if pairs < batch:
        raise AdaptationError(f"pairs must be at least one batch ({batch}), not {pairs}")
    chosen = cloze_pairs(data, pairs, random.Random(seed))
    if len(chosen) < batch:
        raise AdaptationError(
            f"the index holds {len(chosen)} sentences to learn from, fewer than one batch "
            f"({batch}): add documents first"
        )

    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(seed)
    model = SentenceTransformer(str(base_path), device="cpu")
    started = time.perf_counter()
    steps = fine_tune(model, chosen, batch, learning_rate, progress)
    report = AdaptReport(
        base_model=str(base_path),
        base_weights_sha256=base_weights_sha256,
        index_version=index_version,
        passages=len(data.passages),
        pairs=len(chosen),
        steps=steps,
        seconds=round(time.perf_counter() - started, 1),
        output=str(output),
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        model.save(str(partial))
        provenance = asdict(report) | {"batch": batch, "learning_rate": learning_rate}
        (partial / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=1) + "\n")
        partial.rename(output)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    log.info("adapted model saved in %s after %d steps", output, steps)
    return report
