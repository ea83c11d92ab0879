"""Writes: adding and deleting documents and rebuilding the index, one writer at a time.

The docs folder is the source of truth and the index follows it: a write changes the folder
(undoably, ``qa.uploads.DocsChange``), builds the index incrementally under the build lock, and
hands the new version to the service (``QAService.serve``); if anything fails, the folder is put
back as it was. The API's write endpoints, the Documents tab and ``qa index build`` use this
object.

A request never waits long for another writer: uploads and deletes wait at most
``QA_WRITE_WAIT_S`` for the locks, then ``WriterBusy`` (409), so waiting requests cannot pile up
holding threads behind a long rebuild. Both folders are tried for writing before anything
changes: a folder that cannot be written is ``StorageUnavailable`` (503) with nothing changed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import Timeout

from qa.documents import Document, parse_document
from qa.errors import (
    BadUpload,
    DocumentNotFound,
    QAError,
    StorageUnavailable,
    UploadTooLarge,
    WriterBusy,
)
from qa.indexer import BuildReport, build_index, build_lock
from qa.service import QAService
from qa.uploads import DocsChange, safe_filename

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

    def as_dict(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "done": self.done,
            "total": self.total,
            "started_at": self.started_at,
            "last_report": self.last_report,
            "last_error": self.last_error,
        }


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


class Library:
    """The documents' one writer in this process, over the service that serves what it builds."""

    def __init__(self, service: QAService) -> None:
        self.service = service
        self.settings = service.settings
        self.status = RebuildStatus()
        self._lock = service.write_lock  # the service leaves versions alone while it is held

    def rebuild(self, full: bool = False) -> BuildReport:
        """Build (incrementally unless ``full``) and swap the new version in once it is complete."""
        with self._lock:
            return self._rebuild_locked(full)

    def catch_up(self, drifted: Callable[[], bool]) -> BuildReport | None:
        """Build incrementally if ``drifted()``, asked under the write lock, says the docs folder
        differs from the served version (``qa.reconcile``). None, with nothing built, if it does
        not, or if another write runs now: the caller looks again later instead of waiting."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if not drifted():
                return None
            return self._rebuild_locked(False)
        finally:
            self._lock.release()

    def start_rebuild(self, full: bool = False) -> bool:
        """Start a rebuild in a background thread and return at once; ``status`` shows progress.

        False if another write (rebuild, upload, delete) is running: it is not queued.
        """
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._check_writable()
        except BaseException:
            self._lock.release()
            raise
        self.status = RebuildStatus(running=True, started_at=time.time())

        def run() -> None:
            try:
                self._rebuild_locked(full)
            except Exception:  # recorded in status.last_error; nobody is waiting to be told
                log.exception("background rebuild failed")
            finally:
                self._lock.release()

        try:
            threading.Thread(target=run, name="qa-rebuild", daemon=True).start()
        except BaseException:
            self.status.running = False
            self._lock.release()
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
        with self._writing():
            stored = self.service.retriever.data.documents
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
                docs_dir = self.settings.docs_dir
                exists = document.doc_id in stored or (docs_dir / document.source).exists()
                entry = {"name": document.source, "doc_id": document.doc_id}
                (report.updated if exists else report.added).append(entry)
                writes.append((document, data))
            if not writes:
                return report
            change = DocsChange(self.settings.docs_dir)
            try:
                # The build lock is held (by _writing) until the index includes the files: no
                # other build sees them half-done.
                for document, data in writes:
                    change.write(document.source, data)
                report.index = self._rebuild_locked(False).as_dict()
            except BaseException as error:
                self._undo(change)
                _raise_unwritable(error)
                raise
            change.commit()
        return report

    def delete_document(self, doc_id: str) -> dict[str, Any]:
        """Remove a document's file and rebuild, so its passages are gone from answers.

        An id the served version does not hold is refused at once, without waiting for a write
        that may be running (only a write of ours could add it, and it serves what it adds)."""
        self._served_document(doc_id)
        with self._writing():
            document = self._served_document(
                doc_id
            )  # a write that ran meanwhile may have removed it
            change = DocsChange(self.settings.docs_dir)
            try:
                change.remove(document.source)
                report = self._rebuild_locked(False)
            except BaseException as error:
                self._undo(change)
                _raise_unwritable(error)
                raise
            change.commit()
        return {"doc_id": doc_id, "source": document.source, "index": report.as_dict()}

    def _served_document(self, doc_id: str) -> Document:
        document = self.service.retriever.data.documents.get(doc_id)
        if document is None:
            raise DocumentNotFound(f"no document with doc_id {doc_id!r}")
        return document

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold this process's write lock and the build lock (other processes' builds), each
        waited for at most ``write_wait_s``; both folders are tried for writing first."""
        wait = self.settings.write_wait_s
        busy = (
            f"another write (a rebuild, an upload or a delete) is running; nothing was changed. "
            f"Try again when GET /health shows rebuild.running false (waited {wait:g} s; "
            "QA_WRITE_WAIT_S)"
        )
        if not self._lock.acquire(timeout=wait):
            raise WriterBusy(busy)
        try:
            try:
                lock = build_lock(self.settings.index_dir)
                lock.acquire(timeout=wait)
            except Timeout:
                raise WriterBusy(busy) from None
            except OSError as error:
                raise _unwritable("index", self.settings.index_dir, error) from error
            try:
                self._check_writable()
                yield
            finally:
                lock.release()
        finally:
            self._lock.release()

    def _check_writable(self) -> None:
        """``StorageUnavailable`` unless both folders take a new entry now, tried the way a
        write makes them (a staging folder in the index folder, a hidden file in the docs
        folder) and removed at once: a write then never fails half-way for want of permission."""
        index_dir, docs_dir = self.settings.index_dir, self.settings.docs_dir
        probe = index_dir / f".tmp-probe-{uuid.uuid4().hex[:12]}"
        try:
            probe.mkdir(parents=True)
            probe.rmdir()
        except OSError as error:
            raise _unwritable("index", index_dir, error) from error
        probe = docs_dir / f".qa-upload-probe-{uuid.uuid4().hex[:12]}"
        try:
            descriptor = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(descriptor)
            probe.unlink()
        except OSError as error:
            raise _unwritable("docs", docs_dir, error) from error

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
        """The rebuild itself; the caller holds the write lock."""
        self.status = RebuildStatus(running=True, started_at=time.time())
        try:
            report = build_index(self.settings, self.service.embedder, full, self._progress)
            if self.service.loaded:  # else nothing is served yet: the first read loads CURRENT
                self.service.serve(self.service.open())
            self.status.last_report = report.as_dict()
            return report
        except Exception as error:
            self.status.last_error = str(error)
            raise
        finally:
            self.status.running = False

    def _progress(self, done: int, total: int) -> None:
        self.status.done, self.status.total = done, total


def _unwritable(kind: str, folder: Path, error: OSError) -> StorageUnavailable:
    reason = error.strerror or type(error).__name__
    return StorageUnavailable(
        f"the {kind} folder {folder} cannot be written ({reason}); nothing was changed"
    )


def _raise_unwritable(error: BaseException) -> None:
    """A write that failed on the file system (permissions, a full disk) was undone: say so as
    ``StorageUnavailable`` rather than an internal error."""
    if isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        raise StorageUnavailable(
            f"a write to{where or ' the index or docs folder'} failed "
            f"({error.strerror or type(error).__name__}); the docs folder was put back and "
            "nothing was changed"
        ) from error
