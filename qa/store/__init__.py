"""Where index versions are kept: the ``Store`` interface and its implementations.

- ``base``: the ``Store`` and ``SearchIndex`` protocols everything above the store uses;
- ``records``: what a version holds (documents, passage and sentence spans, vectors);
- ``vectors`` and ``lexical``: the embedded store's FAISS vectors and BM25 index;
- ``versions``: the embedded store's files, written as versions and switched atomically;
- ``embedded``: the embedded store (the default);
- ``milvus``: the Milvus store, for collections past one machine (``pip install '.[scale]'``).

``open_store(settings)`` returns the store the settings choose.
"""

from __future__ import annotations

from qa.config import Settings
from qa.store.base import SearchIndex, Store, check_model, open_newest_intact, version_data
from qa.store.embedded import EmbeddedStore
from qa.store.lexical import bm25_memory_bytes, bm25_scores, build_bm25
from qa.store.records import DocumentSpan, IndexData, Spans
from qa.store.vectors import (
    build_faiss_index,
    dequantize_sentences,
    faiss_memory_bytes,
    quantize_sentences,
    search_one_thread,
)
from qa.store.versions import (
    CURRENT_FILE,
    KEEP_OLD_VERSIONS,
    LoadedIndex,
    current_version,
    load_version,
    verify_version,
)


def open_store(settings: Settings) -> Store:
    """The store ``settings`` choose (``QA_STORE``)."""
    if settings.store == "milvus":
        from qa.store.milvus import MilvusStore  # only with the [scale] extra

        uri = settings.milvus_uri or str(settings.index_dir / "milvus.db")
        return MilvusStore(uri, settings.milvus_token, settings.milvus_prefix)
    return EmbeddedStore(settings.index_dir)


def opens_in_many_processes(settings: Settings) -> bool:
    """Whether several processes can open the store at once: not a Milvus Lite file, which one
    process holds (serve it with ``milvus-lite server`` and use its URL instead)."""
    return settings.store != "milvus" or "://" in settings.milvus_uri


__all__ = [
    "CURRENT_FILE",
    "KEEP_OLD_VERSIONS",
    "DocumentSpan",
    "EmbeddedStore",
    "IndexData",
    "LoadedIndex",
    "SearchIndex",
    "Spans",
    "Store",
    "bm25_memory_bytes",
    "bm25_scores",
    "build_bm25",
    "build_faiss_index",
    "check_model",
    "current_version",
    "dequantize_sentences",
    "faiss_memory_bytes",
    "load_version",
    "open_newest_intact",
    "open_store",
    "opens_in_many_processes",
    "quantize_sentences",
    "search_one_thread",
    "verify_version",
    "version_data",
]
