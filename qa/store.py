"""The persisted index: FAISS + BM25 + metadata + manifest, written as versions and switched atomically.

Vectors are held compactly and once: passage vectors live only in the FAISS index (float32 in the
exact index of small corpora; 8-bit codes with a fixed range in the HNSW index of large ones), and
sentence vectors are int8 codes with a fixed scale, dequantised only for the rows a query scores.
Fixed (not data-dependent) scales mean an incremental build that reuses stored vectors re-encodes
them to the very same codes: nothing drifts however many builds reuse them.

Layout under the index folder: ``CURRENT`` names the version in use; each ``v-*`` folder holds one
complete version. A build writes a ``.tmp-*`` folder, fsyncs it, renames it to ``v-*`` and then
replaces ``CURRENT`` in one atomic rename, so a reader never sees a half-written index.
No pickle anywhere: JSON for metadata, ``.npy`` (without pickle) for arrays.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, overload

import bm25s
import faiss
import numpy as np

from qa.config import DEFAULT_EF_SEARCH
from qa.documents import Document
from qa.embedding import sha256_of
from qa.errors import IndexCorrupt, IndexMissing
from qa.text import bm25_tokenize

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG, which would print build details on every CLI run.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# 2: the manifest carries a checksum of itself. 3: passage vectors only in vectors.faiss (no
# passages.npy; HNSW stores 8-bit codes), sentence vectors as int8 codes in sentences.npy.
# 4: each sentence-level unit's kind in sentence_kinds.npy.
FORMAT_VERSION = 4
CURRENT_FILE = "CURRENT"
MANIFEST = "manifest.json"
MANIFEST_CHECKSUM = "manifest_sha256"
_VERSION_NAME = re.compile(r"v-[0-9A-Za-z-]{1,64}")
KEEP_OLD_VERSIONS = 1  # the previous version stays, so a reader mid-request keeps its files


@dataclass(frozen=True)
class DocumentSpan:
    """Where a passage or a sentence lies: ``documents[doc_id].text[start:end]``."""

    doc_id: str
    start: int
    end: int


# --- compact vectors ------------------------------------------------------------------------

# Every component of a unit-length sentence-transformer vector lies in [-1, 1]; in practice those of
# all-MiniLM-L6-v2 stay within about +-0.26 (the largest seen in the 2,000-passage bench corpus:
# 0.253 over passages, 0.238 over sentences, 0.236 over questions). Codes cover +-CODE_RANGE; a
# rare larger component is clipped to it (an error of the order of one step). The range is a
# constant, never fitted to the data, so a code decoded and encoded again is the same code.
# At 1M bench vectors, exact search over such 8-bit codes finds 0.98 of the float32 top 10 with
# +-0.25, 0.97 with +-0.3 and 0.95 with +-0.5.
CODE_RANGE = 0.25
SENTENCE_SCALE = 127.0 / CODE_RANGE  # int8 sentence code = round(x * scale), in [-127, 127]


def quantize_sentences(vectors: np.ndarray) -> np.ndarray:
    """float vectors -> int8 codes with the fixed scale (round to nearest, clip)."""
    scaled = np.rint(np.asarray(vectors, dtype=np.float32) * np.float32(SENTENCE_SCALE))
    return np.clip(scaled, -127, 127).astype(np.int8)


def dequantize_sentences(codes: np.ndarray) -> np.ndarray:
    """int8 codes -> float32 vectors (what a query is compared with)."""
    return codes.astype(np.float32) * np.float32(1.0 / SENTENCE_SCALE)


class Spans(Sequence[DocumentSpan]):
    """``(doc_id, start, end)`` records in three int32 arrays and a list of document ids.

    About 12 bytes a record instead of ~200 for a list of Python objects; indexing and iterating
    give ``DocumentSpan`` objects made on demand."""

    def __init__(self, doc_ids: list[str], doc: np.ndarray, start: np.ndarray, end: np.ndarray):
        self.doc_ids = doc_ids
        self.doc = np.ascontiguousarray(doc, dtype=np.int32)
        self.start = np.ascontiguousarray(start, dtype=np.int32)
        self.end = np.ascontiguousarray(end, dtype=np.int32)

    @classmethod
    def of(cls, records: Iterable[DocumentSpan | list[Any] | tuple[Any, ...]]) -> Spans:
        doc_ids: list[str] = []
        number: dict[str, int] = {}
        doc: list[int] = []
        start: list[int] = []
        end: list[int] = []
        for record in records:
            doc_id, begin, finish = (
                (record.doc_id, record.start, record.end)
                if isinstance(record, DocumentSpan)
                else record
            )
            if doc_id not in number:
                number[doc_id] = len(doc_ids)
                doc_ids.append(doc_id)
            doc.append(number[doc_id])
            start.append(begin)
            end.append(finish)
        return cls(doc_ids, np.array(doc), np.array(start), np.array(end))

    def __len__(self) -> int:
        return len(self.start)

    @overload
    def __getitem__(self, i: int) -> DocumentSpan: ...
    @overload
    def __getitem__(self, i: slice) -> Spans: ...
    def __getitem__(self, i: int | slice) -> DocumentSpan | Spans:
        if isinstance(i, slice):
            return Spans(self.doc_ids, self.doc[i], self.start[i], self.end[i])
        return DocumentSpan(self.doc_ids[self.doc[i]], int(self.start[i]), int(self.end[i]))

    def doc_id(self, i: int) -> str:
        """The document of record ``i``, without building the record."""
        return self.doc_ids[self.doc[i]]

    def __iter__(self) -> Iterator[DocumentSpan]:
        doc_ids = self.doc_ids
        for doc, start, end in zip(
            self.doc.tolist(), self.start.tolist(), self.end.tolist(), strict=True
        ):
            yield DocumentSpan(doc_ids[doc], start, end)

    def as_lists(self) -> list[list[Any]]:
        """The JSON form: ``[[doc_id, start, end], ...]``."""
        return [[r.doc_id, r.start, r.end] for r in self]

    def nbytes(self) -> int:
        """Bytes held by the arrays and the id list (the ids' strings are shared with documents)."""
        return self.doc.nbytes + self.start.nbytes + self.end.nbytes + 8 * len(self.doc_ids)


@dataclass
class IndexData:
    """Everything one index version holds, in memory.

    ``passage_store`` is the float32 matrix while a build assembles it, and the FAISS index once
    loaded (it holds the only copy of the passage vectors). ``sentence_codes`` are int8 codes
    (``quantize_sentences``); ``sentence_rows`` dequantises the rows asked for.
    """

    documents: dict[str, Document]
    passages: Spans
    passage_store: np.ndarray | faiss.Index
    sentences: Spans
    sentence_codes: np.ndarray
    # What each sentence-level unit is (``qa.layout.Kind``: prose, heading, list item, table
    # row, code): an answer is chosen among prose and list items only.
    sentence_kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    manifest: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.passages, Spans):
            self.passages = Spans.of(self.passages)
        if not isinstance(self.sentences, Spans):
            self.sentences = Spans.of(self.sentences)
        if len(self.sentence_kinds) != len(self.sentences):  # built by a tool that sets none
            self.sentence_kinds = np.zeros(len(self.sentences), np.int8)

    @property
    def dimension(self) -> int:
        store = self.passage_store
        return int(store.shape[1]) if isinstance(store, np.ndarray) else int(store.d)

    def passage_rows(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """float32 vectors of the given passage rows (as FAISS scores them)."""
        store = self.passage_store
        index = np.asarray(rows, dtype=np.int64)
        if isinstance(store, np.ndarray):
            return np.asarray(store[index], dtype=np.float32)
        if isinstance(store, faiss.IndexFlat):  # fancy indexing copies out of FAISS's memory
            view = faiss.rev_swig_ptr(store.get_xb(), store.ntotal * store.d)
            return view.reshape(store.ntotal, store.d)[index]
        if not len(index):
            return np.zeros((0, store.d), np.float32)
        return np.asarray(store.reconstruct_batch(index), dtype=np.float32)

    @property
    def passage_vectors(self) -> np.ndarray:
        """All passage vectors as one float32 matrix: a copy (decoded, for an HNSW index) that
        outlives the index; for building, benchmarks and tools, not for serving."""
        store = self.passage_store
        if isinstance(store, np.ndarray):
            return store
        return np.asarray(store.reconstruct_n(0, store.ntotal), dtype=np.float32).reshape(
            store.ntotal, store.d
        )

    def sentence_rows(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """float32 (dequantised) vectors of the given sentence rows."""
        return dequantize_sentences(self.sentence_codes[np.asarray(rows, dtype=np.int64)])

    def nbytes(self) -> dict[str, int]:
        """Bytes this version holds in memory apart from the text: vectors and positions."""
        store = self.passage_store
        return {
            "passage_vectors": int(store.nbytes)
            if isinstance(store, np.ndarray)
            else faiss_memory_bytes(store),
            "sentence_vectors": int(self.sentence_codes.nbytes),
            "positions": self.passages.nbytes() + self.sentences.nbytes(),
        }

    def passage_text(self, i: int) -> str:
        record = self.passages[i]
        return self.documents[record.doc_id].text[record.start : record.end]

    def sentence_text(self, i: int) -> str:
        record = self.sentences[i]
        return self.documents[record.doc_id].text[record.start : record.end]


@dataclass
class LoadedIndex:
    """A version ready to search: its data plus the FAISS and BM25 structures."""

    data: IndexData
    faiss_index: faiss.Index
    bm25: bm25s.BM25
    version: str
    built_at: str


# --- writing -------------------------------------------------------------------------------


HNSW_EF_CONSTRUCTION = 160  # 80 before: at 200k, recall@10 0.9715 -> 0.977 at efSearch 512


def build_faiss_index(
    vectors: np.ndarray, index_type: str, hnsw_m: int, ef_search: int = DEFAULT_EF_SEARCH
) -> faiss.Index:
    """Exact inner product (cosine on normalised vectors) or HNSW for large corpora.

    The HNSW index stores each vector as 8-bit codes over the fixed range +-CODE_RANGE (an
    ``IndexHNSWSQ`` whose quantiser is set, not trained), about 530 bytes a vector with M=16
    instead of 1.8 KB for float32. efSearch is saved with the index (FAISS writes it), so setting
    it here is what every later search uses; ``load_version`` sets it again from the manifest.
    """
    dimension = vectors.shape[1]
    index: faiss.Index
    if index_type == "hnsw":
        eight_bits: Any = faiss.ScalarQuantizer.QT_8bit_uniform
        index = faiss.IndexHNSWSQ(dimension, eight_bits, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        storage: Any = faiss.downcast_index(index.storage)
        fixed = np.array([-CODE_RANGE, 2 * CODE_RANGE], dtype=np.float32)  # (min, width)
        faiss.copy_array_to_vector(fixed, storage.sq.trained)
        storage.is_trained = index.is_trained = True
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = ef_search
    else:
        index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def search_one_thread(
    index: faiss.Index, vectors: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """``index.search`` for a question at a time, run on the calling thread alone.

    By default FAISS splits even one query's scan over every core, and the OpenMP helper then
    busy-waits for more work: at 10,000 passages one search took 1.9 ms and 3.8 ms of CPU that
    way, against 1.2 ms and 1.3 ms on one thread, and the spinning took the second core from the
    other requests in flight. The thread count is the calling thread's own OpenMP setting,
    restored afterwards, so a build on another thread still uses every core."""
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(vectors, k)  # type: ignore[no-any-return]
    finally:
        faiss.omp_set_num_threads(previous)


def faiss_memory_bytes(index: faiss.Index) -> int:
    """Bytes a FAISS index holds in memory: its vectors or codes, and an HNSW graph's links,
    levels and offsets (the arrays FAISS allocates; small fixed overheads left out)."""
    if isinstance(index, faiss.IndexFlat):
        return int(index.ntotal) * int(index.code_size)
    if hasattr(index, "hnsw"):
        graph_index: Any = index
        hnsw = graph_index.hnsw
        graph = 4 * (hnsw.neighbors.size() + hnsw.levels.size())
        graph += 8 * hnsw.offsets.size() + 8 * hnsw.assign_probas.size()
        graph += 4 * hnsw.cum_nneighbor_per_level.size()
        return int(graph) + faiss_memory_bytes(faiss.downcast_index(graph_index.storage))
    return int(index.ntotal) * int(getattr(index, "code_size", 4 * index.d))


def build_bm25(texts: list[str]) -> bm25s.BM25:
    """BM25 over stemmed, lower-cased words; our own tokenizer so queries match identically.

    Each (word, passage) score is kept as float16: half the memory of float32 (about 100 bytes a
    passage), off by at most 0.06% of the top score; ``bm25_scores`` sums them in float64."""
    retriever = bm25s.BM25(dtype="float16")
    retriever.index([bm25_tokenize(t) for t in texts] or [["_"]], show_progress=False)
    return retriever


def bm25_memory_bytes(bm25: bm25s.BM25) -> int:
    """Bytes of a BM25 index's postings: a score and a passage number per (word, passage), and a
    pointer per word. Its vocabulary (a dict of words) grows far slower than the passages and is
    not counted."""
    return sum(int(bm25.scores[part].nbytes) for part in ("data", "indices", "indptr"))


def bm25_scores(bm25: bm25s.BM25, tokens: list[str]) -> np.ndarray:
    """Every passage's BM25 score for ``tokens``, as ``bm25.get_scores`` gives it, faster.

    The same sum of the stored (word, passage) scores, a word counted as often as the query
    repeats it; but one ``np.bincount``, in float64, instead of bm25s's ``np.add.at`` (without
    numba), which took 1.03 ms a question at 10,000 passages against 0.09."""
    vocabulary, scores = bm25.vocab_dict, bm25.scores
    ids = np.array([vocabulary[t] for t in tokens if t in vocabulary], dtype=np.int64)
    indptr = scores["indptr"]
    spans = [slice(int(a), int(b)) for a, b in zip(indptr[ids], indptr[ids + 1], strict=True)]
    if not spans:
        return np.zeros(int(scores["num_docs"]), dtype=np.float64)
    rows = np.concatenate([scores["indices"][span] for span in spans])
    weights = np.concatenate([scores["data"][span] for span in spans]).astype(np.float64)
    return np.bincount(rows, weights=weights, minlength=int(scores["num_docs"]))


def write_version(
    index_dir: Path,
    data: IndexData,
    index_type: str,
    hnsw_m: int,
    ef_search: int = DEFAULT_EF_SEARCH,
) -> str:
    """Write ``data`` as a new version and make it current; returns the version name."""
    index_dir.mkdir(parents=True, exist_ok=True)
    version = _new_version_name()
    staging = index_dir / f".tmp-{version}"
    staging.mkdir()
    try:
        texts = [data.passage_text(i) for i in range(len(data.passages))]
        _write_json(staging / "documents.json", [asdict(d) for d in data.documents.values()])
        _write_json(staging / "passages.json", data.passages.as_lists())
        _write_json(staging / "sentences.json", data.sentences.as_lists())
        codes = np.ascontiguousarray(data.sentence_codes, dtype=np.int8)
        np.save(staging / "sentences.npy", codes, allow_pickle=False)
        kinds = np.ascontiguousarray(data.sentence_kinds, dtype=np.int8)
        np.save(staging / "sentence_kinds.npy", kinds, allow_pickle=False)
        faiss.write_index(
            build_faiss_index(data.passage_vectors, index_type, hnsw_m, ef_search),
            str(staging / "vectors.faiss"),
        )
        build_bm25(texts).save(str(staging / "bm25"))
        manifest = dict(data.manifest)
        manifest.update(
            format_version=FORMAT_VERSION,
            version=version,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            index_type=index_type,
            ef_search=ef_search if index_type == "hnsw" else None,
            counts={
                "documents": len(data.documents),
                "passages": len(data.passages),
                "sentences": len(data.sentences),
            },
            files={name: sha256_of(staging / name) for name in _files_of(staging)},
        )
        manifest[MANIFEST_CHECKSUM] = _manifest_checksum(manifest)
        _write_json(staging / MANIFEST, manifest)
        _fsync_tree(staging)
        os.rename(staging, index_dir / version)
        _fsync_dir(index_dir)
        _point_current_at(index_dir, version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    remove_old_versions(index_dir, keep=version)
    return version


def _new_version_name() -> str:
    """``v-<local time to the microsecond>-<random>``: names sort in the order they were built,
    even for builds within one second (which is newest decides fallbacks and clean-ups)."""
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(now))
    return f"v-{stamp}-{int(now * 1_000_000) % 1_000_000:06d}-{uuid.uuid4().hex[:6]}"


def _point_current_at(index_dir: Path, version: str) -> None:
    pointer = index_dir / f".{CURRENT_FILE}.{uuid.uuid4().hex[:6]}"
    with pointer.open("w") as handle:
        handle.write(version + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer, index_dir / CURRENT_FILE)
    _fsync_dir(index_dir)


def remove_old_versions(index_dir: Path, keep: str) -> None:
    """Delete all but the newest previous version, and temp folders left by crashed builds."""
    versions = sorted(p for p in index_dir.glob("v-*") if p.is_dir() and p.name != keep)
    for old in versions[: max(0, len(versions) - KEEP_OLD_VERSIONS)]:
        shutil.rmtree(old, ignore_errors=True)
    clean_temp_folders(index_dir)


def clean_temp_folders(index_dir: Path) -> None:
    """Remove what crashed builds left: staging folders and half-made pointers.

    Only a holder of the build lock may call this: a live build's staging folder looks the same.
    """
    for temp in index_dir.glob(".tmp-*"):
        shutil.rmtree(temp, ignore_errors=True)
    for pointer in index_dir.glob(f".{CURRENT_FILE}.*"):
        pointer.unlink(missing_ok=True)


# --- reading and verifying -----------------------------------------------------------------


def current_version(index_dir: Path) -> str:
    """Name of the version in use, or ``IndexMissing``."""
    pointer = index_dir / CURRENT_FILE
    if not pointer.is_file():
        raise IndexMissing(f"no index in {index_dir}; run: qa index build")
    try:
        name = pointer.read_text(errors="replace").strip()
    except OSError as error:
        raise IndexCorrupt(f"{CURRENT_FILE} is unreadable ({error})") from None
    if not _VERSION_NAME.fullmatch(name):  # empty, garbled, or a path: never followed
        raise IndexCorrupt(f"{CURRENT_FILE} names no version ({name[:40]!r})")
    return name


def read_manifest(index_dir: Path, version: str | None = None) -> dict[str, Any]:
    folder = index_dir / (version or current_version(index_dir))
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise IndexCorrupt(f"{folder.name}: unreadable manifest ({error})") from None
    if not isinstance(manifest, dict):
        raise IndexCorrupt(f"{folder.name}: the manifest is not a JSON object")
    return manifest


def version_names(index_dir: Path) -> list[str]:
    """The version folders present, newest first (names sort in build order)."""
    names = (
        p.name for p in index_dir.glob("v-*") if p.is_dir() and _VERSION_NAME.fullmatch(p.name)
    )
    return sorted(names, reverse=True)


def read_documents(index_dir: Path, version: str) -> dict[str, Document]:
    """One version's documents (texts included) without loading its vectors; ``IndexCorrupt``
    if documents.json does not match the checksum its manifest records."""
    manifest = read_manifest(index_dir, version)
    path = index_dir / version / "documents.json"
    try:
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != manifest.get("files", {}).get("documents.json"):
            raise IndexCorrupt(f"{version}: documents.json does not match its checksum")
        return {d["doc_id"]: Document(**d) for d in json.loads(raw)}
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise IndexCorrupt(f"{version}: {error}") from None


def verify_version(index_dir: Path, version: str | None = None) -> dict[str, Any]:
    """Check a version's files against its manifest; return the manifest or raise ``IndexCorrupt``."""
    version = version or current_version(index_dir)
    folder = index_dir / version
    if not folder.is_dir():
        raise IndexCorrupt(f"CURRENT names {version}, which does not exist")
    manifest = read_manifest(index_dir, version)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(
            f"{version}: format version {manifest.get('format_version')} unsupported "
            f"(this qa reads {FORMAT_VERSION}); rebuild: qa index build --full"
        )
    # Without this, a flipped byte in a field nothing else checks (a count, a date) would pass.
    if manifest.get(MANIFEST_CHECKSUM) != _manifest_checksum(manifest):
        raise IndexCorrupt(f"{version}: {MANIFEST} does not match its checksum")
    for name, expected in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            raise IndexCorrupt(f"{version}: {name} is missing")
        if sha256_of(path) != expected:
            raise IndexCorrupt(f"{version}: {name} does not match its checksum")
    if not manifest.get("files"):
        raise IndexCorrupt(f"{version}: manifest lists no files")
    return manifest


def load_version(index_dir: Path, version: str | None = None) -> LoadedIndex:
    """Load and verify a version; a corrupt one raises ``IndexCorrupt`` and is never served."""
    version = version or current_version(index_dir)
    manifest = verify_version(index_dir, version)
    folder = index_dir / version
    try:
        documents = {
            d["doc_id"]: Document(**d) for d in json.loads((folder / "documents.json").read_text())
        }
        passages = Spans.of(json.loads((folder / "passages.json").read_text()))
        sentences = Spans.of(json.loads((folder / "sentences.json").read_text()))
        faiss_index = faiss.read_index(str(folder / "vectors.faiss"))
        if hasattr(faiss_index, "hnsw") and isinstance(manifest.get("ef_search"), int):
            faiss_index.hnsw.efSearch = manifest["ef_search"]
        data = IndexData(
            documents=documents,
            passages=passages,
            passage_store=faiss_index,  # the one copy of the passage vectors
            sentences=sentences,
            sentence_codes=np.load(folder / "sentences.npy", allow_pickle=False),
            sentence_kinds=np.load(folder / "sentence_kinds.npy", allow_pickle=False),
            manifest=manifest,
        )
        bm25 = bm25s.BM25.load(str(folder / "bm25"))
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as error:
        raise IndexCorrupt(f"{version}: {error}") from None
    _check_consistent(version, data, faiss_index)
    return LoadedIndex(data, faiss_index, bm25, version, manifest.get("built_at", ""))


def _check_consistent(version: str, data: IndexData, faiss_index: faiss.Index) -> None:
    """Counts, dimensions and offsets agree: checksums prove the files are as written, this proves
    what was written can be served (every cited span lies inside its document)."""
    counts = data.manifest.get("counts", {})
    passages, sentences = len(data.passages), len(data.sentences)
    if faiss_index.ntotal != passages or counts.get("passages") != passages:
        raise IndexCorrupt(
            f"{version}: FAISS holds {faiss_index.ntotal} vectors for {passages} passages"
        )
    if (counts.get("documents"), counts.get("sentences")) != (len(data.documents), sentences):
        raise IndexCorrupt(f"{version}: document or sentence counts do not match the manifest")
    codes, kinds = data.sentence_codes, data.sentence_kinds
    if kinds.dtype != np.int8 or kinds.shape != (sentences,):
        raise IndexCorrupt(f"{version}: sentence kinds do not match the metadata")
    if codes.dtype != np.int8 or codes.ndim != 2 or len(codes) != sentences:
        raise IndexCorrupt(f"{version}: sentence vectors do not match the metadata")
    if sentences and codes.shape[1] != faiss_index.d:
        raise IndexCorrupt(f"{version}: FAISS dimension {faiss_index.d} differs from the vectors'")
    for kind, spans in (("passage", data.passages), ("sentence", data.sentences)):
        lengths = np.array(
            [len(data.documents[d].text) if d in data.documents else -1 for d in spans.doc_ids],
            dtype=np.int64,
        )
        length = lengths[spans.doc] if len(spans) else np.zeros(0, np.int64)
        bad = (length < 0) | (spans.start < 0) | (spans.start >= spans.end) | (spans.end > length)
        if bad.any():
            doc_id = spans[int(np.argmax(bad))].doc_id
            raise IndexCorrupt(f"{version}: a {kind} lies outside its document {doc_id}")


def check_model(manifest: dict[str, Any], model: str, checksum: str) -> None:
    """``IndexCorrupt`` unless the version's vectors came from this model: a question embedded by
    another model would be compared with vectors it does not share a space with."""
    built_with = str(manifest.get("model_sha256"))
    if built_with != checksum:
        raise IndexCorrupt(
            f"{manifest.get('version')}: built with model {manifest.get('model')} "
            f"({built_with[:12]}), not the configured {model} ({checksum[:12]}); "
            "rebuild: qa index build --full"
        )


def load_newest_intact(index_dir: Path) -> tuple[LoadedIndex, str | None]:
    """The current version if it verifies, else the newest older version that does.

    Returns the loaded index and, when it is not the current one, why (for logs and /health).
    Raises ``IndexMissing`` when there is no index, ``IndexCorrupt`` when no version is intact.
    Leftover temp folders are not touched here: only a holder of the build lock may remove them.
    """
    try:
        return load_version(index_dir), None
    except IndexCorrupt as error:
        reason = str(error)
    try:
        current = current_version(index_dir)
    except IndexCorrupt:
        current = ""  # a garbled pointer: every version is a candidate
    for older in sorted((p.name for p in index_dir.glob("v-*") if p.is_dir()), reverse=True):
        if older == current:
            continue
        try:
            loaded = load_version(index_dir, older)
        except IndexCorrupt:
            continue
        log.error("current index is corrupt (%s); serving the previous version %s", reason, older)
        return loaded, (
            f"current index corrupt ({reason}); serving previous version {older} "
            "until the next rebuild"
        )
    raise IndexCorrupt(reason)


# --- helpers -------------------------------------------------------------------------------


def _manifest_checksum(manifest: dict[str, Any]) -> str:
    body = {key: value for key, value in manifest.items() if key != MANIFEST_CHECKSUM}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False))


def _files_of(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    for sub in [folder, *[p for p in folder.rglob("*") if p.is_dir()]]:
        _fsync_dir(sub)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
