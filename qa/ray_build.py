"""Index builds on Ray Data: ``qa index build --ray [ADDRESS]``.

The build is the in-process one (``qa.indexer.build_index``: the same lock, the same reuse of
unchanged documents' vectors, the same assembly, write and report) with its one seam,
``EmbedDocuments``, run as a Ray Dataset: new and changed documents are chunked in Ray tasks
(``flat_map``) and their passages and sentence units embedded by a pool of actors
(``map_batches`` with ``ActorPoolStrategy``), each of which loads the model once. Files are read,
hashed and parsed on the driver: it decides from the hashes what changed, and the index keeps
every document's text, so each document crosses to the cluster once, already parsed.

Ray is optional (``pip install '.[scale]'``) and imported only when a Ray build runs.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from functools import partial
from types import ModuleType
from typing import Any

import numpy as np
from tqdm import tqdm

from qa.config import Settings
from qa.documents import Document
from qa.embedding import Embedder
from qa.errors import QAError, RayUnavailable
from qa.indexer import (
    BuildReport,
    Embedded,
    ProgressCallback,
    Units,
    build_index,
    document_units,
    require_docs_folder,
)
from qa.store import DocumentSpan

log = logging.getLogger(__name__)

_PASSAGE, _SENTENCE = 0, 1  # the "kind" column of a unit row
_LINE_EVERY_S = 5.0  # progress lines on a stderr that is not a terminal


def require_ray() -> ModuleType:
    """The ``ray`` module with Ray Data, or ``RayUnavailable`` saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (ray without the [data] extra lacks pyarrow)
    except ImportError as error:
        raise RayUnavailable(
            f"--ray needs Ray Data, which is not installed ({error}); "
            "install it with: pip install '.[scale]'"
        ) from None
    return ray


@contextmanager
def ray_cluster(address: str | None) -> Iterator[ModuleType]:
    """Ray for this process: the cluster at ``address``, or with none a local Ray with this
    machine's cores. A Ray started here is shut down on the way out; one already running in the
    process (a caller's) is used as it is and left running."""
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:  # "local": never an existing cluster found on this machine by chance
            ray.init(
                address="local",
                num_cpus=os.cpu_count() or 1,
                include_dashboard=False,
                log_to_driver=False,
            )
    except (ConnectionError, ValueError, RuntimeError) as error:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise RayUnavailable(f"could not start or join {where}: {error}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def build_on_ray(
    settings: Settings,
    embedder: Embedder,
    address: str | None = None,
    full: bool = False,
    progress: ProgressCallback | None = None,
) -> BuildReport:
    """``build_index`` with chunking and embedding on Ray; the report says which Ray node
    embedded how many texts (``embedded_by``). Nothing is created unless Ray is installed and
    the docs folder exists."""
    require_ray()
    require_docs_folder(settings.docs_dir)
    with ray_cluster(address) as ray:
        embedding = RayEmbedding(settings, embedder, progress)
        try:
            report = build_index(settings, embedder, full, embed=embedding)
        except ray.exceptions.RayError as error:  # a task or actor failed: one line, no traceback
            raise QAError(f"the Ray build failed: {str(error).strip().splitlines()[-1]}") from None
    report.embedded_by = dict(embedding.embedded_by)
    return report


class RayEmbedding:
    """``EmbedDocuments`` on Ray Data, in the Ray this process has joined.

    After a call, ``embedded_by`` holds the number of texts each Ray node (by node id) embedded.
    The actor pool has one actor per CPU of the cluster, one CPU (and one model thread) each.
    """

    def __init__(
        self, settings: Settings, embedder: Embedder, progress: ProgressCallback | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder  # on the driver only for the dimension when nothing is fresh
        self.progress = progress
        self.embedded_by: dict[str, int] = {}

    def __call__(self, fresh: list[Document]) -> Embedded:
        import ray

        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the progress is ours, below: texts embedded
        documents = ray.data.from_items(
            [{"position": i, "document": json.dumps(asdict(doc))} for i, doc in enumerate(fresh)]
        )
        units = documents.flat_map(partial(_unit_rows, settings=self.settings))
        units = units.materialize()  # chunked before embedding: the total is known up front
        total = units.count()
        if total == 0:
            empty = np.zeros((0, self.embedder.dimension), np.float32)
            return Embedded(Units(), empty, empty.copy())
        actors = max(1, int(ray.cluster_resources().get("CPU", 1)))
        vectors = units.map_batches(
            _EmbedActor,
            fn_constructor_kwargs={"settings": self.settings},
            batch_size=self.settings.embed_batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=1,
        )
        print(
            f"ray: embedding {total} passages and sentence units of {len(fresh)} documents "
            f"on {actors} actors",
            file=sys.stderr,
        )
        batches = []
        with _Progress(total, self.progress) as shown:
            for batch in vectors.iter_batches(batch_size=None, batch_format="numpy"):
                batches.append(batch)
                shown.update(len(batch["vector"]))
        rows = {key: np.concatenate([b[key] for b in batches]) for key in batches[0]}
        nodes, counts = np.unique(rows["node"], return_counts=True)
        self.embedded_by = {str(n): int(c) for n, c in zip(nodes, counts, strict=True)}
        return _embedded(fresh, rows)


def _unit_rows(row: dict[str, Any], settings: Settings) -> list[dict[str, Any]]:
    """One document's passages and sentence units as rows (in a Ray task)."""
    doc = Document(**json.loads(row["document"]))
    units = document_units(doc, settings)
    rows = [
        {"position": row["position"], "kind": _PASSAGE, "unit": i, "start": span.start,
         "end": span.end, "unit_kind": 0, "text": text}
        for i, (span, text) in enumerate(zip(units.passages, units.passage_texts, strict=True))
    ]  # fmt: skip
    rows += [
        {"position": row["position"], "kind": _SENTENCE, "unit": i, "start": span.start,
         "end": span.end, "unit_kind": kind, "text": text}
        for i, (span, text, kind) in enumerate(
            zip(units.sentences, units.sentence_texts, units.kinds, strict=True)
        )
    ]  # fmt: skip
    return rows


class _EmbedActor:
    """One actor of the pool: loads the model once, then embeds batch after batch."""

    def __init__(self, settings: Settings) -> None:
        import ray

        self.batch_size = settings.embed_batch_size
        self.embedder = Embedder.from_settings(settings)
        # One CPU per actor, so one thread: more would fight the other actors on the node.
        if self.embedder.backend == "onnx":
            self.embedder.onnx.workers = 1
        else:
            import torch

            torch.set_num_threads(1)
        self.embedder.encode(["load the model now"])  # not in the first batch's time
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(text) for text in batch["text"]]
        vectors = self.embedder.encode(texts, batch_size=self.batch_size)
        return {**batch, "vector": vectors, "node": np.full(len(texts), self.node)}


def _embedded(fresh: list[Document], rows: dict[str, np.ndarray]) -> Embedded:
    """The rows back in the in-process order: passages document by document, then sentence
    units document by document, each document's in text order."""
    order = np.lexsort((rows["unit"], rows["position"], rows["kind"]))
    units = Units()
    passage_rows: list[int] = []
    sentence_rows: list[int] = []
    for i in order.tolist():
        span = DocumentSpan(
            fresh[int(rows["position"][i])].doc_id, int(rows["start"][i]), int(rows["end"][i])
        )
        if rows["kind"][i] == _PASSAGE:
            units.passages.append(span)
            units.passage_texts.append(str(rows["text"][i]))
            passage_rows.append(i)
        else:
            units.sentences.append(span)
            units.sentence_texts.append(str(rows["text"][i]))
            units.kinds.append(int(rows["unit_kind"][i]))
            sentence_rows.append(i)
    vectors = np.asarray(rows["vector"], dtype=np.float32)
    return Embedded(
        units,
        np.ascontiguousarray(vectors[passage_rows]),
        np.ascontiguousarray(vectors[sentence_rows]),
    )


class _Progress:
    """Texts embedded of the total, on stderr: a bar on a terminal, else a line every few
    seconds; and to ``callback`` (the API's) after every batch."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total, self.done, self.callback = total, 0, callback
        self.bar = tqdm(total=total, desc="embedding on ray", unit="text", file=sys.stderr)
        self.bar.disable = not sys.stderr.isatty()
        self.began = self.shown_at = time.monotonic()

    def __enter__(self) -> _Progress:
        return self

    def update(self, count: int) -> None:
        self.done += count
        self.bar.update(count)
        if self.callback:
            self.callback(self.done, self.total)
        now = time.monotonic()
        if self.bar.disable and (now - self.shown_at >= _LINE_EVERY_S or self.done == self.total):
            self.shown_at = now
            print(
                f"ray: embedded {self.done}/{self.total} texts ({now - self.began:.1f}s)",
                file=sys.stderr,
            )

    def __exit__(self, *exc: object) -> None:
        self.bar.close()
