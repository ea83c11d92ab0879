"""The one object the faces (CLI, API, UI, bench) share: it holds the model and the current index
version, answers questions, and swaps in a new version only once it is completely built."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.answering import Answer, answer_question
from qa.config import Settings
from qa.embedding import Embedder
from qa.errors import DocumentNotFound, IndexCorrupt, IndexMissing
from qa.indexer import BuildReport, build_index
from qa.retrieval import Components, Retriever
from qa.store import load_version

log = logging.getLogger(__name__)


@dataclass
class RebuildStatus:
    """What /health shows about the writer."""

    running: bool = False
    done: int = 0
    total: int = 0
    last_report: dict[str, Any] | None = None
    last_error: str | None = None
    started_at: float | None = None


@dataclass
class QAService:
    settings: Settings
    embedder: Embedder = field(default=None)  # type: ignore[assignment]
    status: RebuildStatus = field(default_factory=RebuildStatus)
    notice: str | None = None  # why the served index is not the newest, if it is not

    def __post_init__(self) -> None:
        if self.embedder is None:
            self.embedder = Embedder(self.settings.model, self.settings.cache_dir)
        self._retriever: Retriever | None = None
        self._swap_lock = threading.Lock()
        self._write_lock = threading.Lock()

    # --- reading -------------------------------------------------------------------------

    @property
    def retriever(self) -> Retriever:
        """The current version's retriever; loads (building first if there is no index) on first use."""
        current = self._retriever
        if current is None:
            with self._swap_lock:
                if self._retriever is None:
                    self._retriever = self._load_or_build()
                current = self._retriever
        return current

    def _load_or_build(self) -> Retriever:
        try:
            loaded = load_version(self.settings.index_dir)
        except IndexMissing:
            log.info(
                "no index yet in %s: building it from %s",
                self.settings.index_dir,
                self.settings.docs_dir,
            )
            build_index(self.settings, self.embedder)
            loaded = load_version(self.settings.index_dir)
        except IndexCorrupt as error:
            log.error("index is corrupt (%s): rebuilding from the documents", error)
            self.notice = f"index was corrupt ({error}); rebuilt from the documents"
            build_index(self.settings, self.embedder, full=True)
            loaded = load_version(self.settings.index_dir)
        return Retriever(loaded, self.embedder, self.settings)

    def ask(
        self,
        question: str,
        top_k: int = 5,
        history: list[str] | None = None,
        components: Components = Components(),
    ) -> Answer:
        return answer_question(self.retriever, question, top_k, history, components)

    def documents(self) -> list[dict[str, Any]]:
        retriever = self.retriever
        counts: dict[str, int] = {}
        for passage in retriever.data.passages:
            counts[passage.doc_id] = counts.get(passage.doc_id, 0) + 1
        return [
            {
                "doc_id": d.doc_id,
                "title": d.title,
                "source": d.source,
                "published": d.published,
                "passages": counts.get(d.doc_id, 0),
                "sha256": d.sha256,
            }
            for d in retriever.data.documents.values()
        ]

    def document(self, doc_id: str) -> dict[str, Any]:
        for entry in self.documents():
            if entry["doc_id"] == doc_id:
                return {**entry, "text": self.retriever.data.documents[doc_id].text}
        raise DocumentNotFound(f"no document with doc_id {doc_id!r}")

    def health(self) -> dict[str, Any]:
        retriever = self.retriever
        status = self.status
        return {
            "status": "ok",
            "model": self.embedder.name,
            "documents": len(retriever.data.documents),
            "passages": len(retriever.data.passages),
            "index_version": retriever.index.version,
            "index_built_at": retriever.index.built_at,
            "rebuild": {
                "running": status.running,
                "done": status.done,
                "total": status.total,
                "last_report": status.last_report,
                "last_error": status.last_error,
            },
            "notice": self.notice,
        }

    # --- writing -------------------------------------------------------------------------

    def rebuild(self, full: bool = False) -> BuildReport:
        """Build (incrementally unless ``full``) and swap the new version in once it is complete."""
        with self._write_lock:
            self.status = RebuildStatus(running=True, started_at=time.time())
            try:
                report = build_index(self.settings, self.embedder, full, self._progress)
                loaded = load_version(self.settings.index_dir)
                fresh = Retriever(loaded, self.embedder, self.settings)
                with self._swap_lock:
                    self._retriever = fresh  # readers holding the old one finish with it
                self.notice = None
                self.status.last_report = report.as_dict()
                return report
            except Exception as error:
                self.status.last_error = str(error)
                raise
            finally:
                self.status.running = False

    def _progress(self, done: int, total: int) -> None:
        self.status.done, self.status.total = done, total

    @property
    def docs_dir(self) -> Path:
        return self.settings.docs_dir
