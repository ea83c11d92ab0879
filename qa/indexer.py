"""Building the index from the docs folder: incremental by default, full when asked or needed.

Only new and changed documents are embedded; unchanged ones reuse their stored vectors. A change
of model or chunking parameters makes every stored vector stale, so it forces a full rebuild.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock
from tqdm import tqdm

from qa.chunking import CHUNKER_VERSION, Chunk, chunk_text, split_sentences
from qa.config import Settings
from qa.documents import Document, iter_document_paths, parse_document
from qa.embedding import Embedder
from qa.errors import IndexCorrupt, IndexMissing, QAError
from qa.layout import heading_text
from qa.reading import reading_text
from qa.store import (
    DocumentSpan,
    IndexData,
    SearchIndex,
    Spans,
    Store,
    open_store,
    quantize_sentences,
)

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]  # (done, total) passages+sentences embedded


@dataclass
class Units:
    """Passages and sentence units of documents: their spans, what the model reads for each, and
    each sentence unit's kind. Rows run document by document, in the order given."""

    passages: list[DocumentSpan] = field(default_factory=list)
    passage_texts: list[str] = field(default_factory=list)
    sentences: list[DocumentSpan] = field(default_factory=list)
    sentence_texts: list[str] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)

    def extend(self, other: Units) -> None:
        self.passages += other.passages
        self.passage_texts += other.passage_texts
        self.sentences += other.sentences
        self.sentence_texts += other.sentence_texts
        self.kinds += other.kinds


@dataclass
class Embedded:
    """Fresh documents chunked and embedded: ``units`` with one vector per passage and per
    sentence unit, in the same row order."""

    units: Units
    passage_vectors: np.ndarray  # float32, (passages, dimension)
    sentence_vectors: np.ndarray  # float32, (sentence units, dimension)


# The seam between a build and where it chunks and embeds: fresh documents -> Embedded. The
# in-process build (``embed_in_process``) and the Ray build (``qa.ray_build``) differ only here.
EmbedDocuments = Callable[[list[Document]], Embedded]


@dataclass
class BuildReport:
    """What a build did; ``qa index build --json`` prints it as one JSON object."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    documents: int = 0
    passages: int = 0
    embedded: int = 0
    seconds: float = 0.0
    full: bool = False
    version: str | None = None
    # Texts (passages and sentence units) embedded by each Ray node id; empty in-process.
    embedded_by: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "documents": self.documents,
            "passages": self.passages,
            "embedded": self.embedded,
            "seconds": round(self.seconds, 3),
            "full": self.full,
            "version": self.version,
            "embedded_by": self.embedded_by,
        }


def build_lock(index_dir: Path) -> FileLock:
    """The one-writer lock shared by the CLI and the server.

    One lock object per path in a process (``is_singleton``), so a thread that holds it can
    build inside (an upload holds it from writing its files until the index includes them);
    another thread or process still waits.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(index_dir / ".build.lock"), is_singleton=True)


def require_docs_folder(docs_dir: Path) -> None:
    """``QAError`` unless ``docs_dir`` is a folder (an index is never built from nothing)."""
    if not docs_dir.is_dir():
        what = "is not a folder" if docs_dir.exists() else "does not exist"
        raise QAError(f"docs folder {docs_dir} {what}")


def index_parameters(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    """What stored vectors depend on; if any of it changes, everything is re-embedded."""
    return {
        "model": embedder.name,
        "model_sha256": embedder.checksum,
        "chunking": {
            "version": CHUNKER_VERSION,
            "max_chars": settings.max_chars,
            "overlap_sentences": settings.overlap_sentences,
        },
        "embed_title": settings.embed_title,
    }


def resolve_index_type(settings: Settings, passages: int) -> str:
    if settings.index_type != "auto":
        return settings.index_type
    return "hnsw" if passages >= settings.hnsw_threshold else "flat"


def build_index(
    settings: Settings,
    embedder: Embedder,
    full: bool = False,
    progress: ProgressCallback | None = None,
    embed: EmbedDocuments | None = None,
) -> BuildReport:
    """Bring the index in line with the docs folder, holding the writer lock throughout.

    ``embed`` chunks and embeds the new and changed documents; by default in this process with
    ``embedder`` (``qa.ray_build`` passes its Ray pipeline). A missing docs folder is refused
    before the lock is taken: taking it creates the index folder, and a failed command must
    leave nothing behind."""
    require_docs_folder(settings.docs_dir)
    embed = embed or embed_in_process(settings, embedder, progress)
    with build_lock(settings.index_dir):
        return _build_locked(settings, embedder, full, embed)


def _build_locked(
    settings: Settings, embedder: Embedder, full: bool, embed: EmbedDocuments
) -> BuildReport:
    began = time.perf_counter()
    report = BuildReport()
    require_docs_folder(settings.docs_dir)
    parameters = index_parameters(settings, embedder)
    store = open_store(settings)
    previous = None if full else _previous_version(store, parameters)
    report.full = previous is None
    old_docs = previous.data.documents if previous else {}
    old_by_source = {d.source: d for d in old_docs.values()}

    kept: list[Document] = []
    fresh: list[Document] = []
    for path in iter_document_paths(settings.docs_dir):
        source = path.relative_to(settings.docs_dir).as_posix()
        try:
            content = path.read_bytes()
            old = old_by_source.get(source)
            if old is not None and old.sha256 == hashlib.sha256(content).hexdigest():
                kept.append(old)
                continue
            fresh.append(parse_document(content, source))
            if old is None:
                report.added += 1
            else:
                report.updated += 1
        except (QAError, OSError) as error:
            report.failed.append({"source": source, "error": str(error)})
            log.warning("skipped %s: %s", source, error)
    seen = {d.source for d in kept} | {d.source for d in fresh}
    report.removed = sum(1 for d in old_docs.values() if d.source not in seen)
    report.unchanged = len(kept)

    if previous is not None and not fresh and report.removed == 0:
        report.documents, report.passages = len(kept), len(previous.data.passages)
        report.seconds = time.perf_counter() - began
        report.version = previous.version
        return report

    data = _assemble(previous, kept, fresh, embed, report)
    data.manifest = {
        **parameters,
        # What ``qa index verify`` compares the index with when no --docs is given.
        "docs_dir": str(settings.docs_dir.resolve()),
        "documents": {
            d.doc_id: {"source": d.source, "sha256": d.sha256} for d in data.documents.values()
        },
    }
    index_type = resolve_index_type(settings, len(data.passages))
    report.version = store.write(data, index_type, settings.hnsw_m, settings.hnsw_ef_search)
    report.documents, report.passages = len(data.documents), len(data.passages)
    report.seconds = time.perf_counter() - began
    return report


def _previous_version(store: Store, parameters: dict[str, Any]) -> SearchIndex | None:
    """The current version if it is intact and built with the same parameters."""
    try:
        previous = store.open()
    except IndexMissing:
        return None
    except IndexCorrupt as error:
        log.warning("current index is corrupt (%s); rebuilding in full", error)
        return None
    stored = {key: previous.data.manifest.get(key) for key in parameters}
    if stored != parameters:
        log.info("model or chunking parameters changed; rebuilding in full")
        return None
    return previous


def _assemble(
    previous: SearchIndex | None,
    kept: list[Document],
    fresh: list[Document],
    embed: EmbedDocuments,
    report: BuildReport,
) -> IndexData:
    """Reuse stored rows for kept documents; chunk and embed the fresh ones; order by source.

    Reused vectors are read back from the store and, being on the fixed code grids, encode to the
    very same codes (int8 sentence codes, and the 8-bit passage codes of an HNSW index).
    """
    embedded = embed(fresh)
    new = embedded.units
    dimension = embedded.passage_vectors.shape[1]
    passages: list[DocumentSpan] = []
    sentences: list[DocumentSpan] = []
    passage_vectors: list[np.ndarray] = []
    sentence_codes: list[np.ndarray] = []
    sentence_kinds: list[np.ndarray] = []

    if previous is not None and kept:
        kept_ids = {d.doc_id for d in kept}
        stored = previous.data
        rows = [i for i, p in enumerate(stored.passages) if p.doc_id in kept_ids]
        passages += [stored.passages[i] for i in rows]
        passage_vectors.append(previous.passage_vectors(rows))
        chosen = np.asarray(
            [i for i, s in enumerate(stored.sentences) if s.doc_id in kept_ids], dtype=np.int64
        )
        sentences += [stored.sentences[i] for i in chosen.tolist()]
        sentence_codes.append(quantize_sentences(previous.sentence_vectors(chosen)))
        sentence_kinds.append(stored.sentence_kinds[chosen])

    passages += new.passages
    sentences += new.sentences
    passage_vectors.append(embedded.passage_vectors)
    sentence_codes.append(quantize_sentences(embedded.sentence_vectors))
    sentence_kinds.append(np.asarray(new.kinds, dtype=np.int8))
    report.embedded = len(new.passages)

    documents = {d.doc_id: d for d in sorted(kept + fresh, key=lambda d: d.source)}
    order = {doc_id: rank for rank, doc_id in enumerate(documents)}
    passage_order = _document_order(passages, order)
    sentence_order = _document_order(sentences, order)
    return IndexData(
        documents=documents,
        passages=Spans.of([passages[i] for i in passage_order]),
        passage_store=_stacked(passage_vectors, passage_order, (0, dimension), np.float32),
        sentences=Spans.of([sentences[i] for i in sentence_order]),
        sentence_codes=_stacked(sentence_codes, sentence_order, (0, dimension), np.int8),
        sentence_kinds=_stacked(sentence_kinds, sentence_order, (0,), np.int8),
    )


def document_units(doc: Document, settings: Settings) -> Units:
    """A document's passages and sentence units, with what the model reads for each."""
    units = Units()
    for chunk in chunk_text(doc.text, settings.max_chars, settings.overlap_sentences):
        units.passages.append(DocumentSpan(doc.doc_id, chunk.start, chunk.end))
        units.passage_texts.append(passage_embedding_text(doc, chunk, settings.embed_title))
    for unit in split_sentences(doc.text, settings.max_chars):
        units.sentences.append(DocumentSpan(doc.doc_id, unit.start, unit.end))
        units.sentence_texts.append(reading_text(doc.text[unit.start : unit.end]))
        units.kinds.append(int(unit.kind))
    return units


def embed_in_process(
    settings: Settings, embedder: Embedder, progress: ProgressCallback | None = None
) -> EmbedDocuments:
    """The default ``EmbedDocuments``: chunk, then embed passages and sentence units in batches."""

    def embed(fresh: list[Document]) -> Embedded:
        units = Units()
        for doc in fresh:
            units.extend(document_units(doc, settings))
        texts = units.passage_texts + units.sentence_texts
        vectors = _embed_with_progress(embedder, texts, settings, progress)
        split = len(units.passage_texts)
        return Embedded(units, vectors[:split], vectors[split:])

    return embed


def passage_embedding_text(doc: Document, chunk: Chunk, with_title: bool) -> str:
    """What the model reads for a passage: its text as read (see ``reading_text``), after the
    nearest heading before it, since a passage deep in a section often never names its topic (a
    passage that opens with its own heading is read after the one before, which may be its
    chapter's or a sibling's: leaving it out made no difference held out, docs/quality.md).

    A definition-list entry's passage (an option and its description) is also read after the
    document's title, whatever ``with_title`` says: the option's flags never say whose option
    they are, the title ("GREP(1) User Commands") does (docs/quality.md, "An entry read with
    its document's title")."""
    in_entry = chunk.sentences[0].entry >= 0
    context = [doc.title] if with_title or in_entry else []
    if chunk.heading is not None:
        context.append(heading_text(doc.text[chunk.heading.start : chunk.heading.end]))
    body = reading_text(doc.text[chunk.start : chunk.end])
    return "\n".join([*(reading_text(c) for c in context), body])


def _document_order(records: list[DocumentSpan], order: dict[str, int]) -> list[int]:
    """Row order by (document, start), so a document's rows are contiguous."""
    return sorted(range(len(records)), key=lambda i: (order[records[i].doc_id], records[i].start))


def _stacked(
    parts: list[np.ndarray], permutation: list[int], empty: tuple[int, ...], dtype: type[np.generic]
) -> np.ndarray:
    """The parts stacked in one array, rows in ``permutation`` order."""
    stacked = np.concatenate(parts) if parts else np.zeros(empty, dtype)
    if not permutation:
        return np.zeros(empty, dtype)
    return np.ascontiguousarray(stacked[permutation], dtype=dtype)


def _embed_with_progress(
    embedder: Embedder, texts: list[str], settings: Settings, progress: ProgressCallback | None
) -> np.ndarray:
    """Embed in batches, with a progress bar on a terminal and an optional callback (the API's)."""
    if not texts:
        return np.zeros((0, embedder.dimension), np.float32)
    batch = settings.embed_batch_size
    parts = []
    with tqdm(
        total=len(texts),
        desc="embedding",
        unit="text",
        disable=not sys.stderr.isatty(),
        file=sys.stderr,
    ) as bar:
        for begin in range(0, len(texts), batch):
            parts.append(embedder.encode(texts[begin : begin + batch], batch_size=batch))
            bar.update(len(parts[-1]))
            if progress:
                progress(begin + len(parts[-1]), len(texts))
    return np.vstack(parts)
