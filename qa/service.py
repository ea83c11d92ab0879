"""The one object the faces (CLI, API, UI, bench) share: it holds the model and the current index
version, answers questions, and swaps in a new version only once it is completely built."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import Timeout

from qa.answering import Answer, answer_question
from qa.config import Settings
from qa.documents import Document, parse_document
from qa.embedding import Embedder
from qa.errors import (
    BadUpload,
    DocumentNotFound,
    IndexCorrupt,
    IndexMissing,
    QAError,
    UploadTooLarge,
)
from qa.indexer import BuildReport, build_index, build_lock
from qa.retrieval import Components, Retriever, open_retriever
from qa.store import check_model, clean_temp_folders, load_newest_intact, load_version
from qa.uploads import DocsChange, remove_leftovers, safe_filename
from qa.version_watch import PublishedVersionWatch, current_name

log = logging.getLogger(__name__)

_LEFTOVER_LOCK_WAIT = 0.5  # seconds; a writer holding the lock longer owns its leftovers


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
class UploadReport:
    """What ``add_documents`` did with each file, and the build that followed."""

    added: list[dict[str, str]] = field(default_factory=list)
    updated: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # same content already stored
    rejections: list[tuple[str, QAError]] = field(default_factory=list)  # (name given, why)
    index: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "skipped": self.skipped,
            "rejected": [
                {"name": name[:200], "reason": str(error), "error": type(error).__name__}
                for name, error in self.rejections
            ],
            "index": self.index,
        }


@dataclass
class QAService:
    settings: Settings
    embedder: Embedder = field(default=None)  # type: ignore[assignment]
    status: RebuildStatus = field(default_factory=RebuildStatus)
    notice: str | None = None  # why the served index is not the newest, if it is not

    def __post_init__(self) -> None:
        if self.embedder is None:
            self.embedder = Embedder.from_settings(self.settings)
        self._retriever: Retriever | None = None
        self._swap_lock = threading.Lock()
        # One writer at a time in this process; the build's file lock keeps out other processes.
        # A plain Lock (not RLock): start_rebuild's thread releases what the caller acquired.
        self._write_lock = threading.Lock()
        # A version published by another process (a build run in a terminal) is swapped in.
        self._published = PublishedVersionWatch(self.settings.index_dir, self._swap_in_published)

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
        else:
            self._published.check(current.index.version)
        return current

    def _swap_in_published(self, name: str) -> bool:
        """Load, verify and serve a version another process published; False if it is unusable."""
        if self._write_lock.locked():  # a write of ours is running: it swaps its own version in
            return True
        try:
            fresh = self._open(name)
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
            if self._write_lock.locked() or current_name(self.settings.index_dir) != name:
                return True
            self._retriever = fresh
        self.notice = None
        log.warning("now serving index version %s, published by another process", name)
        return True

    def _open(self, version: str | None = None) -> Retriever:
        """A retriever over ``version`` (CURRENT's by default), verified and made by our model."""
        return open_retriever(self.settings, self.embedder, version)

    @property
    def loaded(self) -> bool:
        """Whether an index is in memory (so reading it cannot block on a load or a build)."""
        return self._retriever is not None

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
            loaded, self.notice = load_newest_intact(index_dir)
            named = current_name(index_dir)
            if named != loaded.version:  # CURRENT's own version is damaged
                self._published.refuse(named)
            check_model(loaded.data.manifest, self.embedder.name, self.embedder.checksum)
        except IndexMissing:
            log.info("no index yet in %s: building it from %s", index_dir, self.docs_dir)
            build_index(self.settings, self.embedder)
            loaded = load_version(index_dir)
        except IndexCorrupt as error:
            log.error("index unusable (%s): rebuilding it from the documents", error)
            build_index(self.settings, self.embedder, full=True)
            loaded = load_version(index_dir)
            self.notice = f"index unusable ({error}); rebuilt from the documents"
        return Retriever(loaded, self.embedder, self.settings)

    def _clean_leftovers(self) -> bool:
        """Remove what crashed writers left (index staging folders, hidden docs-folder files), only
        while holding the build lock: a writer in another process may be using them right now.

        True if the docs folder had leftovers, i.e. a change was cut short and the index may lag.
        """
        lock = build_lock(self.settings.index_dir)
        try:
            lock.acquire(timeout=_LEFTOVER_LOCK_WAIT)
        except Timeout:
            log.info("another writer holds the build lock: leftovers stay until the next start")
            return False
        try:
            clean_temp_folders(self.settings.index_dir)
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

    def document_texts(self, doc_ids: list[str]) -> dict[str, str]:
        """The full text of each of these documents that is still indexed (a dictionary look-up
        each, so an event loop may call it)."""
        documents = self.retriever.data.documents
        return {d: documents[d].text for d in doc_ids if d in documents}

    def document(self, doc_id: str) -> dict[str, Any]:
        data = self.retriever.data  # one version throughout, even if a swap happens meanwhile
        doc = data.documents.get(doc_id)
        if doc is None:
            raise DocumentNotFound(f"no document with doc_id {doc_id!r}")
        return {
            "doc_id": doc.doc_id,
            "title": doc.title,
            "source": doc.source,
            "published": doc.published,
            "passages": sum(1 for p in data.passages if p.doc_id == doc_id),
            "sha256": doc.sha256,
            "text": doc.text,
        }

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
                "started_at": status.started_at,
                "last_report": status.last_report,
                "last_error": status.last_error,
            },
            "notice": self.notice,
        }

    # --- writing -------------------------------------------------------------------------

    def rebuild(self, full: bool = False) -> BuildReport:
        """Build (incrementally unless ``full``) and swap the new version in once it is complete."""
        with self._write_lock:
            return self._rebuild_locked(full)

    def start_rebuild(self, full: bool = False) -> bool:
        """Start a rebuild in a background thread and return at once; ``health()`` shows progress.

        False if another write (rebuild, upload, delete) is running: it is not queued.
        """
        if not self._write_lock.acquire(blocking=False):
            return False
        self.status = RebuildStatus(running=True, started_at=time.time())

        def run() -> None:
            try:
                self._rebuild_locked(full)
            except Exception:  # recorded in status.last_error; nobody is waiting to be told
                log.exception("background rebuild failed")
            finally:
                self._write_lock.release()

        try:
            threading.Thread(target=run, name="qa-rebuild", daemon=True).start()
        except BaseException:
            self.status.running = False
            self._write_lock.release()
            raise
        return True

    def add_documents(self, files: list[tuple[str, bytes]]) -> dict[str, Any]:
        """Store files in the docs folder under safe names, then index them incrementally.

        Each file is checked (name, size, type by content) before anything is written; a file
        whose content is already stored is skipped; same name with new content is an update.
        If writing or the build fails, the docs folder is put back as it was.
        Returns ``UploadReport.as_dict()``: added, updated, skipped, rejected (with reasons), index.
        """
        return self._add_documents(files).as_dict()

    def _add_documents(self, files: list[tuple[str, bytes]]) -> UploadReport:
        report = UploadReport()
        checked: list[tuple[Document, bytes]] = []
        names: set[str] = set()
        for given, data in files:
            try:
                document = self._check_upload(given, data, names)
            except QAError as error:
                report.rejections.append((given or "", error))
                continue
            names.add(document.source)
            checked.append((document, data))
        if not checked:
            return report
        with self._write_lock:
            stored = self.retriever.data.documents
            by_content = {d.sha256: d for d in stored.values()}
            writes: list[tuple[Document, bytes]] = []
            for document, data in checked:
                twin = by_content.get(document.sha256)
                if twin is not None:
                    same = twin.source == document.source
                    reason = "already stored" if same else f"same content as {twin.source}"
                    entry = {"name": document.source, "doc_id": twin.doc_id, "reason": reason}
                    report.skipped.append(entry)
                    continue
                by_content[document.sha256] = document  # a twin later in this upload is skipped
                exists = document.doc_id in stored or (self.docs_dir / document.source).exists()
                entry = {"name": document.source, "doc_id": document.doc_id}
                (report.updated if exists else report.added).append(entry)
                writes.append((document, data))
            if not writes:
                return report
            change = DocsChange(self.docs_dir)
            try:
                # Held until the index includes the files: no other build sees them half-done.
                with build_lock(self.settings.index_dir):
                    for document, data in writes:
                        change.write(document.source, data)
                    report.index = self._rebuild_locked(False).as_dict()
            except BaseException:
                self._undo(change)
                raise
            change.commit()
        return report

    def delete_document(self, doc_id: str) -> dict[str, Any]:
        """Remove a document's file and rebuild, so its passages are gone from answers."""
        with self._write_lock:
            document = self.retriever.data.documents.get(doc_id)
            if document is None:
                raise DocumentNotFound(f"no document with doc_id {doc_id!r}")
            change = DocsChange(self.docs_dir)
            try:
                with build_lock(self.settings.index_dir):
                    change.remove(document.source)
                    report = self._rebuild_locked(False)
            except BaseException:
                self._undo(change)
                raise
            change.commit()
        return {"doc_id": doc_id, "source": document.source, "index": report.as_dict()}

    def _check_upload(self, given: str, data: bytes, names: set[str]) -> Document:
        """The parsed document for an upload, or the QAError that refuses it. Writes nothing."""
        name = safe_filename(given)
        limit_mb = self.settings.max_upload_mb
        if len(data) > limit_mb * 1024 * 1024:
            raise UploadTooLarge(f"{len(data)} bytes is over the {limit_mb:g} MB limit")
        if name in names:
            raise BadUpload(f"another file in this upload is also stored as {name!r}")
        return parse_document(data, name)

    def _undo(self, change: DocsChange) -> None:
        """Put the docs folder back after a failed write or build (under the build lock if we can)."""
        if not change.changed:
            return
        try:
            with build_lock(self.settings.index_dir):
                change.rollback()
        except OSError:
            log.exception("while restoring the docs folder after a failed write")
            if change.changed:  # the lock itself was unavailable: undoing matters more
                change.rollback()

    def _rebuild_locked(self, full: bool) -> BuildReport:
        """The rebuild itself; the caller holds ``_write_lock``."""
        self.status = RebuildStatus(running=True, started_at=time.time())
        try:
            report = build_index(self.settings, self.embedder, full, self._progress)
            fresh = self._open()
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
