"""The embedded store's files: index versions written as folders and switched atomically.

Layout under the index folder: ``CURRENT`` names the version in use; each ``v-*`` folder holds one
complete version (documents, spans, FAISS vectors, int8 sentence codes, BM25, a manifest with the
checksum of every file). A build writes a ``.tmp-*`` folder, fsyncs it, renames it to ``v-*`` and
then replaces ``CURRENT`` in one atomic rename, so a reader never sees a half-written index.
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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from qa.config import DEFAULT_EF_SEARCH
from qa.documents import Document
from qa.embedding import sha256_of
from qa.errors import IndexCorrupt, IndexMissing
from qa.store.lexical import bm25_memory_bytes, bm25_scores, bm25_top, build_bm25, term_presence
from qa.store.records import IndexData, Spans
from qa.store.vectors import build_faiss_index, search_one_thread

log = logging.getLogger(__name__)

# 2: the manifest carries a checksum of itself. 3: passage vectors only in vectors.faiss (no
# passages.npy; HNSW stores 8-bit codes), sentence vectors as int8 codes in sentences.npy.
# 4: each sentence-level unit's kind in sentence_kinds.npy.
FORMAT_VERSION = 4
CURRENT_FILE = "CURRENT"
MANIFEST = "manifest.json"
MANIFEST_CHECKSUM = "manifest_sha256"
_VERSION_NAME = re.compile(r"v-[0-9A-Za-z-]{1,64}")
KEEP_OLD_VERSIONS = 1  # the previous version stays, so a reader mid-request keeps its files


@dataclass
class LoadedIndex:
    """An embedded version ready to search (the embedded store's ``SearchIndex``): its data
    plus the FAISS and BM25 structures, all in this process's memory."""

    data: IndexData
    faiss_index: faiss.Index
    bm25: bm25s.BM25
    version: str
    built_at: str

    def dense_search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, found = search_one_thread(self.faiss_index, vector[None, :], k)
        keep = found[0] >= 0
        return found[0][keep].astype(np.int64), scores[0][keep].astype(np.float64)

    def lexical_search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        return bm25_top(self.bm25, tokens, k)

    def lexical_scores(self, tokens: list[str], rows: np.ndarray) -> np.ndarray:
        return bm25_scores(self.bm25, tokens)[rows]

    def term_presence(self, tokens: list[str], rows: np.ndarray) -> dict[str, np.ndarray]:
        return term_presence(self.bm25, tokens, rows)

    def passage_vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.data.passage_rows(rows)

    def sentence_vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.data.sentence_rows(rows)

    def memory_bytes(self) -> dict[str, int]:
        return {**self.data.nbytes(), "bm25": bm25_memory_bytes(self.bm25)}


# --- writing -------------------------------------------------------------------------------


def write_version(
    index_dir: Path,
    data: IndexData,
    index_type: str,
    hnsw_m: int,
    ef_search: int = DEFAULT_EF_SEARCH,
) -> str:
    """Write ``data`` as a new version and make it current; returns the version name."""
    index_dir.mkdir(parents=True, exist_ok=True)
    version = new_version_name()
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
        manifest = sealed_manifest(
            data,
            version,
            index_type,
            ef_search,
            files={name: sha256_of(staging / name) for name in _files_of(staging)},
        )
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


def sealed_manifest(
    data: IndexData, version: str, index_type: str, ef_search: int, **extra: Any
) -> dict[str, Any]:
    """A version's manifest, whichever store writes it: the build's parameters
    (``data.manifest``), what was written, the store's own ``extra`` entries, and a checksum of
    all of it (without which a flipped byte in a field nothing else checks would pass)."""
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
        **extra,
    )
    manifest[MANIFEST_CHECKSUM] = manifest_checksum(manifest)
    return manifest


def new_version_name() -> str:
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
    if manifest.get(MANIFEST_CHECKSUM) != manifest_checksum(manifest):
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
    """FAISS holds a vector per passage, of the sentence vectors' dimension; and ``check_spans``."""
    passages, sentences = len(data.passages), len(data.sentences)
    if faiss_index.ntotal != passages:
        raise IndexCorrupt(
            f"{version}: FAISS holds {faiss_index.ntotal} vectors for {passages} passages"
        )
    if (
        sentences
        and data.sentence_codes.ndim == 2
        and data.sentence_codes.shape[1] != faiss_index.d
    ):
        raise IndexCorrupt(f"{version}: FAISS dimension {faiss_index.d} differs from the vectors'")
    check_spans(version, data)


def check_spans(version: str, data: IndexData) -> None:
    """Counts and offsets agree, whichever store read them: checksums prove the data is as
    written, this proves what was written can be served (every cited span lies inside its
    document)."""
    counts = data.manifest.get("counts", {})
    passages, sentences = len(data.passages), len(data.sentences)
    expected = (counts.get("documents"), counts.get("passages"), counts.get("sentences"))
    if expected != (len(data.documents), passages, sentences):
        raise IndexCorrupt(f"{version}: document, passage or sentence counts do not match")
    codes, kinds = data.sentence_codes, data.sentence_kinds
    if kinds.dtype != np.int8 or kinds.shape != (sentences,):
        raise IndexCorrupt(f"{version}: sentence kinds do not match the metadata")
    if codes.dtype != np.int8 or codes.ndim != 2 or len(codes) != sentences:
        raise IndexCorrupt(f"{version}: sentence vectors do not match the metadata")
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


# --- helpers -------------------------------------------------------------------------------


def manifest_checksum(manifest: dict[str, Any]) -> str:
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
