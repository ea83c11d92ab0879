"""The persisted index: FAISS + BM25 + metadata + manifest, written as versions and switched atomically.

Layout under the index folder: ``CURRENT`` names the version in use; each ``v-*`` folder holds one
complete version. A build writes a ``.tmp-*`` folder, fsyncs it, renames it to ``v-*`` and then
replaces ``CURRENT`` in one atomic rename, so a reader never sees a half-written index.
No pickle anywhere: JSON for metadata, ``.npy`` (without pickle) for arrays.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from qa.documents import Document
from qa.embedding import sha256_of
from qa.errors import IndexCorrupt, IndexMissing
from qa.text import bm25_tokenize

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT_FILE = "CURRENT"
MANIFEST = "manifest.json"
KEEP_OLD_VERSIONS = 1  # the previous version stays, so a reader mid-request keeps its files


@dataclass(frozen=True)
class PassageRecord:
    """Where a passage lies: ``documents[doc_id].text[start:end]``."""

    doc_id: str
    start: int
    end: int


@dataclass
class IndexData:
    """Everything one index version holds, in memory."""

    documents: dict[str, Document]
    passages: list[PassageRecord]
    passage_vectors: np.ndarray
    sentences: list[PassageRecord]
    sentence_vectors: np.ndarray
    manifest: dict[str, Any] = field(default_factory=dict)

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


def build_faiss_index(vectors: np.ndarray, index_type: str, hnsw_m: int) -> faiss.Index:
    """Exact inner product (cosine on normalised vectors) or HNSW for large corpora."""
    dimension = vectors.shape[1]
    index: faiss.Index
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    else:
        index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(vectors)
    return index


def build_bm25(texts: list[str]) -> bm25s.BM25:
    """BM25 over stemmed, lower-cased words; our own tokenizer so queries match identically."""
    retriever = bm25s.BM25()
    retriever.index([bm25_tokenize(t) for t in texts] or [["_"]], show_progress=False)
    return retriever


def write_version(index_dir: Path, data: IndexData, index_type: str, hnsw_m: int) -> str:
    """Write ``data`` as a new version and make it current; returns the version name."""
    index_dir.mkdir(parents=True, exist_ok=True)
    version = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    staging = index_dir / f".tmp-{version}"
    staging.mkdir()
    try:
        texts = [data.passage_text(i) for i in range(len(data.passages))]
        _write_json(staging / "documents.json", [asdict(d) for d in data.documents.values()])
        _write_json(staging / "passages.json", [[p.doc_id, p.start, p.end] for p in data.passages])
        _write_json(
            staging / "sentences.json", [[s.doc_id, s.start, s.end] for s in data.sentences]
        )
        np.save(staging / "passages.npy", data.passage_vectors, allow_pickle=False)
        np.save(staging / "sentences.npy", data.sentence_vectors, allow_pickle=False)
        faiss.write_index(
            build_faiss_index(data.passage_vectors, index_type, hnsw_m),
            str(staging / "vectors.faiss"),
        )
        build_bm25(texts).save(str(staging / "bm25"))
        manifest = dict(data.manifest)
        manifest.update(
            format_version=FORMAT_VERSION,
            version=version,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            index_type=index_type,
            counts={
                "documents": len(data.documents),
                "passages": len(data.passages),
                "sentences": len(data.sentences),
            },
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
    return pointer.read_text().strip()


def read_manifest(index_dir: Path, version: str | None = None) -> dict[str, Any]:
    folder = index_dir / (version or current_version(index_dir))
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise IndexCorrupt(f"{folder.name}: unreadable manifest ({error})") from None


def verify_version(index_dir: Path, version: str | None = None) -> dict[str, Any]:
    """Check a version's files against its manifest; return the manifest or raise ``IndexCorrupt``."""
    version = version or current_version(index_dir)
    folder = index_dir / version
    if not folder.is_dir():
        raise IndexCorrupt(f"CURRENT names {version}, which does not exist")
    manifest = read_manifest(index_dir, version)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(
            f"{version}: format version {manifest.get('format_version')} unsupported"
        )
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
        passages = [PassageRecord(*p) for p in json.loads((folder / "passages.json").read_text())]
        sentences = [PassageRecord(*s) for s in json.loads((folder / "sentences.json").read_text())]
        data = IndexData(
            documents=documents,
            passages=passages,
            passage_vectors=np.load(folder / "passages.npy", allow_pickle=False),
            sentences=sentences,
            sentence_vectors=np.load(folder / "sentences.npy", allow_pickle=False),
            manifest=manifest,
        )
        faiss_index = faiss.read_index(str(folder / "vectors.faiss"))
        bm25 = bm25s.BM25.load(str(folder / "bm25"))
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as error:
        raise IndexCorrupt(f"{version}: {error}") from None
    counts = manifest["counts"]
    if faiss_index.ntotal != len(passages) or counts["passages"] != len(passages):
        raise IndexCorrupt(
            f"{version}: FAISS holds {faiss_index.ntotal} vectors for {len(passages)} passages"
        )
    if len(data.passage_vectors) != len(passages) or len(data.sentence_vectors) != len(sentences):
        raise IndexCorrupt(f"{version}: embedding counts do not match the metadata")
    return LoadedIndex(data, faiss_index, bm25, version, manifest.get("built_at", ""))


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
    current = (
        (index_dir / CURRENT_FILE).read_text().strip()
        if (index_dir / CURRENT_FILE).is_file()
        else ""
    )
    for older in sorted((p.name for p in index_dir.glob("v-*") if p.is_dir()), reverse=True):
        if older == current:
            continue
        try:
            loaded = load_version(index_dir, older)
        except IndexCorrupt:
            continue
        log.error("current index is corrupt (%s); serving the previous version %s", reason, older)
        return loaded, f"current index corrupt ({reason}); serving previous version {older}"
    raise IndexCorrupt(reason)


# --- helpers -------------------------------------------------------------------------------


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
