"""The default store: index versions as folders on this machine (``qa.store.versions``), searched
in memory with FAISS and BM25."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.documents import Document
from qa.store import versions
from qa.store.records import IndexData
from qa.store.versions import LoadedIndex


class EmbeddedStore:
    """``Store`` over an index folder; every method is the ``versions`` function of that name."""

    kind = "embedded"

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir

    def current_version(self) -> str:
        return versions.current_version(self.index_dir)

    def version_names(self) -> list[str]:
        return versions.version_names(self.index_dir)

    def read_manifest(self, version: str) -> dict[str, Any]:
        return versions.read_manifest(self.index_dir, version)

    def read_documents(self, version: str) -> dict[str, Document]:
        return versions.read_documents(self.index_dir, version)

    def verify(self, version: str | None = None) -> dict[str, Any]:
        return versions.verify_version(self.index_dir, version)

    def open(self, version: str | None = None) -> LoadedIndex:
        return versions.load_version(self.index_dir, version)

    def write(self, data: IndexData, index_type: str, hnsw_m: int, ef_search: int) -> str:
        return versions.write_version(self.index_dir, data, index_type, hnsw_m, ef_search)

    def clean_temp(self) -> None:
        versions.clean_temp_folders(self.index_dir)
