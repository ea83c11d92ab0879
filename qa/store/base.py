"""The interface every store implements: the embedded one (files on this machine) and Milvus.

Retrieval, answering and the writers see only these two protocols, so a store is chosen by a
setting (``QA_STORE``) and nothing above it changes. A ``Store`` keeps published versions and
writes new ones; a ``SearchIndex`` is one version opened for questions. Ranking (fusion, dates,
aliases, answer choice, abstention) runs on what a ``SearchIndex`` returns, the same for every
store, which is why the answers are the same.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from qa.documents import Document
from qa.errors import IndexCorrupt
from qa.store.records import IndexData

log = logging.getLogger(__name__)

Rows = Sequence[int] | np.ndarray


class SearchIndex(Protocol):
    """One published version, opened for questions.

    ``data`` holds the documents and where each passage and sentence lies in them (what a
    citation needs); rows number passages and sentences in ``data``'s order. Vectors and the
    lexical index may live elsewhere (in Milvus): they are reached only through the methods."""

    version: str
    built_at: str
    data: IndexData

    def dense_search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` passages nearest ``vector`` (inner product of unit vectors) and their
        cosines, best first."""
        ...

    def lexical_search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``k`` passages with the highest BM25 score for the stemmed ``tokens`` (only
        those holding at least one), in row order, and their scores."""
        ...

    def lexical_scores(self, tokens: list[str], rows: np.ndarray) -> np.ndarray:
        """BM25 scores of the given passages for ``tokens`` (0 for a passage holding none)."""
        ...

    def term_presence(self, tokens: list[str], rows: np.ndarray) -> dict[str, np.ndarray]:
        """For each token, a boolean per row of ``rows``: does that passage hold it."""
        ...

    def passage_vectors(self, rows: Rows) -> np.ndarray:
        """float32 vectors of the given passages, as dense search scores them."""
        ...

    def sentence_vectors(self, rows: Rows) -> np.ndarray:
        """float32 vectors of the given sentence-level units."""
        ...

    def memory_bytes(self) -> dict[str, int]:
        """Bytes this version holds in this process's memory, by part (for ``qa bench``)."""
        ...


class Store(Protocol):
    """Published versions and the writing of new ones.

    ``write`` publishes a complete version at once (a reader sees all of it or none of it) and
    leaves the previous one readable for requests still using it. Writers hold the build lock
    (``qa.indexer.build_lock``); readers never wait for it."""

    kind: str  # "embedded" or "milvus": what /health and the manifest report

    def current_version(self) -> str:
        """The name of the published version; ``IndexMissing`` if none, ``IndexCorrupt`` if the
        pointer to it is damaged."""
        ...

    def version_names(self) -> list[str]:
        """Versions that can still be read, newest first."""
        ...

    def read_manifest(self, version: str) -> dict[str, Any]: ...

    def read_documents(self, version: str) -> dict[str, Document]:
        """One version's documents, texts included, without opening its vectors."""
        ...

    def verify(self, version: str | None = None) -> dict[str, Any]:
        """Check a version is intact; its manifest, or ``IndexCorrupt`` saying what is wrong."""
        ...

    def open(self, version: str | None = None) -> SearchIndex:
        """A verified version (the published one by default), ready for questions."""
        ...

    def write(self, data: IndexData, index_type: str, hnsw_m: int, ef_search: int) -> str:
        """Write ``data`` (vectors included) as a new version and publish it; its name."""
        ...

    def clean_temp(self) -> None:
        """Remove what crashed writes left. Only a holder of the build lock may call it."""
        ...


def open_newest_intact(store: Store) -> tuple[SearchIndex, str | None]:
    """The published version if it verifies, else the newest other version that does.

    Returns the opened version and, when it is not the published one, why (for logs and
    /health). Raises ``IndexMissing`` when there is no index, ``IndexCorrupt`` when no version
    is intact. Leftovers are not touched here: only a holder of the build lock may remove them.
    """
    try:
        return store.open(), None
    except IndexCorrupt as error:
        reason = str(error)
    try:
        current = store.current_version()
    except IndexCorrupt:
        current = ""  # a garbled pointer: every version is a candidate
    for other in store.version_names():
        if other == current:
            continue
        try:
            opened = store.open(other)
        except IndexCorrupt:
            continue
        log.error("current index is corrupt (%s); serving the previous version %s", reason, other)
        return opened, (
            f"current index corrupt ({reason}); serving previous version {other} "
            "until the next rebuild"
        )
    raise IndexCorrupt(reason)


def version_data(index: SearchIndex) -> IndexData:
    """An opened version's data with all its vectors, ready to be written again (into the same
    store or another one) without embedding anything."""
    data = index.data
    return IndexData(
        documents=data.documents,
        passages=data.passages,
        passage_store=index.passage_vectors(np.arange(len(data.passages))),
        sentences=data.sentences,
        sentence_codes=data.sentence_codes,
        sentence_kinds=data.sentence_kinds,
        manifest={k: v for k, v in data.manifest.items() if k not in ("files", "counts")},
    )


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
