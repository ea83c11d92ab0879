"""Reads: the one object that holds the model and the served index version, answers questions
and lists documents. Writes (uploads, deletes, rebuilds) live in ``qa.library``; the faces get
both, and the one way to ask (``qa.asking``), from the composition root (``qa.app``).

A new version is swapped in only once it is completely built: by the library after its own
writes, or by ``qa.version_watch`` when another process (``qa index build``) published it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from filelock import Timeout

from qa.answering import Answer, answer_question
from qa.config import Settings
from qa.documents import Document
from qa.embedding import Embedder
from qa.errors import DocumentNotFound, IndexCorrupt, IndexMissing, QAError
from qa.indexer import build_index, build_lock
from qa.retrieval import Components, Retriever, open_retriever
from qa.store import check_model, open_newest_intact, open_store
from qa.uploads import remove_leftovers
from qa.version_watch import PublishedVersionWatch, current_name

log = logging.getLogger(__name__)

_LEFTOVER_LOCK_WAIT = 0.5  # seconds; a writer holding the lock longer owns its leftovers


class QAService:
    """The served index version and everything read from it; ``embedder`` is shared, never built
    here (the composition root builds one per process)."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.notice: str | None = None  # why the served index is not the newest, if it is not
        self._retriever: Retriever | None = None
        self._swap_lock = threading.Lock()
        # Held by the one writer of this process (qa.library) while it changes the documents and
        # the index; the build's file lock keeps out other processes. A plain Lock (not RLock):
        # a background rebuild's thread releases what the caller acquired.
        self.write_lock = threading.Lock()
        # A version published by another process (a build run in a terminal) is swapped in.
        self.store = open_store(settings)
        self._published = PublishedVersionWatch(self.store, self._swap_in_published)

    @property
    def docs_dir(self) -> Path:
        return self.settings.docs_dir

    @property
    def retriever(self) -> Retriever:
        """The current version's retriever; loads (building first if there is no index) on first use."""
        current = self._retriever
        if current is None:
            with self._swap_lock:
                if self._retriever is None:
                    self._retriever = self._load_or_build()
                current = self._retriever
        else:
            self._published.check(current.index.version)
        return current

    @property
    def loaded(self) -> bool:
        """Whether an index is in memory (so reading it cannot block on a load or a build)."""
        return self._retriever is not None

    def open(self, version: str | None = None) -> Retriever:
        """A retriever over ``version`` (CURRENT's by default), verified and made by our model."""
        return open_retriever(self.settings, self.embedder, version, self.store)

    def serve(self, fresh: Retriever) -> None:
        """Answer from ``fresh`` from now on; readers holding the old retriever finish with it."""
        with self._swap_lock:
            self._retriever = fresh
        self.notice = None

    def _swap_in_published(self, name: str) -> bool:
        """Load, verify and serve a version another process published; False if it is unusable."""
        if self.write_lock.locked():  # a write of ours is running: it swaps its own version in
            return True
        try:
            fresh = self.open(name)
        except Exception as error:  # a thread nobody waits for: say why, keep serving
            self.notice = f"index version {name} was not loaded ({error}); serving the previous one"
            log.error(
                "not serving index version %s: %s",
                name,
                error,
                exc_info=not isinstance(error, QAError),
            )
            return False
        with self._swap_lock:
            # Only if it is still the newest: a write of ours may have published since.
            if self.write_lock.locked() or current_name(self.store) != name:
                return True
            self._retriever = fresh
        self.notice = None
        log.warning("now serving index version %s, published by another process", name)
        return True

    def _load_or_build(self) -> Retriever:
        """The newest intact index version made with this model, else one built from the documents.

        A corrupt current version is never served: the previous one is, if it is intact, and
        ``notice`` (shown by /health) says why. With no version intact, or vectors from another
        model, the index is rebuilt in full from the docs folder, which is the source of truth.
        """
        index_dir = self.settings.index_dir
        if self._clean_leftovers():
            build_index(self.settings, self.embedder)  # a crashed upload or delete: catch up
        try:
            loaded, self.notice = open_newest_intact(self.store)
            named = current_name(self.store)
            if named != loaded.version:  # CURRENT's own version is damaged
                self._published.refuse(named)
            check_model(loaded.data.manifest, self.embedder.name, self.embedder.checksum)
        except IndexMissing:
            log.info("no index yet in %s: building it from %s", index_dir, self.docs_dir)
            build_index(self.settings, self.embedder)
            loaded = self.store.open()
        except IndexCorrupt as error:
            log.error("index unusable (%s): rebuilding it from the documents", error)
            build_index(self.settings, self.embedder, full=True)
            loaded = self.store.open()
            self.notice = f"index unusable ({error}); rebuilt from the documents"
        return Retriever(loaded, self.embedder, self.settings)

    def _clean_leftovers(self) -> bool:
        """Remove what crashed writers left (index staging folders, hidden docs-folder files), only
        while holding the build lock: a writer in another process may be using them right now.

        True if the docs folder had leftovers, i.e. a change was cut short and the index may lag.
        With no index folder there is nothing to clean (and taking the lock would create it).
        """
        if not self.settings.index_dir.is_dir():
            return False
        lock = build_lock(self.settings.index_dir)
        try:
            lock.acquire(timeout=_LEFTOVER_LOCK_WAIT)
        except Timeout:
            log.info("another writer holds the build lock: leftovers stay until the next start")
            return False
        try:
            self.store.clean_temp()
            removed = remove_leftovers(self.docs_dir) if self.docs_dir.is_dir() else []
        finally:
            lock.release()
        for path in removed:
            log.warning("removed %s, left by an interrupted upload or delete", path)
        return bool(removed)

    def warm_up(self) -> None:
        """Load the index and the model now, so the first question is not the slow one."""
        _ = self.retriever
        self.embedder.encode(["warm up"])

    def ask(
        self,
        question: str,
        top_k: int = 5,
        history: list[str] | None = None,
        components: Components = Components(),
    ) -> Answer:
        """The answer from the served version, in this thread. The faces ask through
        ``qa.asking.Asker`` instead, which normalises the question and uses the answer workers;
        evaluation and benchmarks call this directly (``components`` switches parts off)."""
        return answer_question(self.retriever, question, top_k, history, components)

    def documents(self) -> list[dict[str, Any]]:
        retriever = self.retriever
        counts: dict[str, int] = {}
        for passage in retriever.data.passages:
            counts[passage.doc_id] = counts.get(passage.doc_id, 0) + 1
        return [_listed(d, counts.get(d.doc_id, 0)) for d in retriever.data.documents.values()]

    def document(self, doc_id: str) -> dict[str, Any]:
        data = self.retriever.data  # one version throughout, even if a swap happens meanwhile
        doc = data.documents.get(doc_id)
        if doc is None:
            raise DocumentNotFound(f"no document with doc_id {doc_id!r}")
        passages = sum(1 for p in data.passages if p.doc_id == doc_id)
        return {**_listed(doc, passages), "text": doc.text}

    def earlier_revision(self, doc: Document) -> dict[str, Any]:
        """``doc`` as ``document`` shows one: a revision found by ``qa.revisions`` (its passages
        are counted only when it is the served revision)."""
        data = self.retriever.data
        served = data.documents.get(doc.doc_id)
        passages = None
        if served is not None and served.sha256 == doc.sha256:
            passages = sum(1 for p in data.passages if p.doc_id == doc.doc_id)
        return {**_listed(doc, passages), "text": doc.text}

    def health(self) -> dict[str, Any]:
        """What is served: model, counts, version; the library adds the writer's progress."""
        retriever = self.retriever
        return {
            "status": "ok",
            "model": self.embedder.name,
            "documents": len(retriever.data.documents),
            "passages": len(retriever.data.passages),
            "index_version": retriever.index.version,
            "index_built_at": retriever.index.built_at,
            "store": self.store.kind,
            "notice": self.notice,
        }


def _listed(doc: Document, passages: int | None) -> dict[str, Any]:
    """A document as ``GET /documents`` lists it (everything but its text)."""
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "source": doc.source,
        "published": doc.published,
        "passages": passages,
        "sha256": doc.sha256,
        "encoding": doc.encoding,
    }
