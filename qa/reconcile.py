"""Keeping the index in step with the docs folder when files change behind the server's back.

The docs folder is the source of truth, but a file can reach it without a build: copied in while
the server was down, or left there by an upload cut short by ``kill -9`` (the file is renamed into
place before the index includes it). A server therefore compares the folder with the served
version at start-up and every ``QA_RECONCILE_EVERY_S`` seconds, and on any difference builds
incrementally through the library (``Library.catch_up``: the write lock, the build lock and an
atomic publish, as an upload does). ``/health`` shows what the last pass found.

``compare`` is shared with ``qa index verify``, which reports the same differences.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from qa.documents import Document, iter_document_paths
from qa.library import Library

log = logging.getLogger(__name__)

SHOWN_NAMES = 20  # names /health lists per kind; the counts are complete


@dataclass
class Drift:
    """Where the docs folder and an index version disagree, by source (path in the folder)."""

    added: list[str] = field(default_factory=list)  # in the folder, not in the index
    changed: list[str] = field(default_factory=list)  # in both, different bytes
    removed: list[str] = field(default_factory=list)  # in the index, gone from the folder
    hashes: dict[str, str] = field(default_factory=dict)  # source -> sha256 of what is there now

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        parts = [
            f"{len(names)} {kind} ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})"
            for kind, names in (
                ("added", self.added),
                ("changed", self.changed),
                ("removed", self.removed),
            )
            if names
        ]
        return ", ".join(parts) or "none"


class FileHashes:
    """sha256 of files, re-read only when a file's size, mtime or inode changed since the last
    pass: a pass over an unchanged folder reads no file's bytes."""

    def __init__(self) -> None:
        self._known: dict[Path, tuple[tuple[int, int, int], str]] = {}

    def of(self, path: Path) -> str:
        status = os.stat(path)
        stamp = (status.st_size, status.st_mtime_ns, status.st_ino)
        known = self._known.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        self._known[path] = (stamp, digest.hexdigest())
        return digest.hexdigest()


def compare(
    docs_dir: Path, documents: Mapping[str, Document], hashes: FileHashes | None = None
) -> Drift:
    """How ``docs_dir`` differs from the documents of an index version (files compared by
    sha256, the revision each document records). A file that vanishes while it is read counts
    as removed."""
    hashes = hashes or FileHashes()
    indexed = {d.source: d.sha256 for d in documents.values()}
    drift = Drift()
    for path in iter_document_paths(docs_dir):
        source = path.relative_to(docs_dir).as_posix()
        try:
            drift.hashes[source] = hashes.of(path)
        except OSError:
            continue
    for source, digest in drift.hashes.items():
        if source not in indexed:
            drift.added.append(source)
        elif indexed[source] != digest:
            drift.changed.append(source)
    drift.removed = sorted(source for source in indexed if source not in drift.hashes)
    return drift


@dataclass
class Reconciliation:
    """What the last pass found and did (``/health``'s ``reconciled``)."""

    at: str | None = None  # when the last pass ended (local time, ISO 8601)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)  # in the folder, unreadable
    version: str | None = None  # the version the pass built, if it built one
    error: str | None = None  # why the pass could not bring the index in step

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "added": len(self.added),
            "changed": len(self.changed),
            "removed": len(self.removed),
            "failed": len(self.failed),
            "sources": {
                "added": self.added[:SHOWN_NAMES],
                "changed": self.changed[:SHOWN_NAMES],
                "removed": self.removed[:SHOWN_NAMES],
                "failed": self.failed[:SHOWN_NAMES],
            },
            "version": self.version,
            "error": self.error,
        }


class Reconciler:
    """Passes over the docs folder for one library: once at start-up, then on a schedule."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.settings = library.settings
        self.last = Reconciliation()
        self._hashes = FileHashes()
        # Files a build could not read, with the content it could not read: not tried again
        # until they change (else every pass would rebuild for them).
        self._unreadable: dict[str, tuple[str, str]] = {}  # source -> (sha256, why)
        self._stop = threading.Event()
        self.first_pass_done = threading.Event()  # for whoever must not race the start-up pass
        self._thread: threading.Thread | None = None

    def start(self, every_s: float) -> None:
        """A pass now, in a background thread, then one every ``every_s`` seconds (0: no more;
        negative: not even the first)."""
        if every_s < 0:
            self.first_pass_done.set()
            return

        def loop() -> None:
            try:
                self.run_pass()
            finally:
                self.first_pass_done.set()
            while every_s > 0 and not self._stop.wait(every_s):
                self.run_pass()

        self._thread = threading.Thread(target=loop, name="qa-reconcile", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """No pass starts after this; one running finishes (its build publishes atomically)."""
        self._stop.set()

    def run_pass(self) -> Reconciliation | None:
        """Compare, and build if the folder moved; None if another write runs (the next pass
        looks again). Never raises: what went wrong is in the result."""
        found: list[Drift] = []

        def drifted() -> bool:
            drift = self._drift()
            found.append(drift)
            return bool(drift)

        try:
            report = self.library.catch_up(drifted)
        except Exception as error:  # a thread nobody waits for: say it in /health and the log
            log.exception("reconciling the docs folder with the index failed")
            result = Reconciliation(error=str(error))
            if found:
                drift = found[0]
                result.added, result.changed = drift.added, drift.changed
                result.removed = drift.removed
            return self._record(result)
        if not found:
            return None  # another write held the lock
        drift = found[0]
        result = Reconciliation(added=drift.added, changed=drift.changed, removed=drift.removed)
        if report is not None:
            result.version = report.version
            for failure in report.failed:
                source = failure["source"]
                if source in drift.hashes:
                    self._unreadable[source] = (drift.hashes[source], failure["error"])
            if drift:
                log.warning("docs folder and index differed: %s; indexed", drift.summary())
        result.failed = [
            {"source": source, "error": why}
            for source, (digest, why) in sorted(self._unreadable.items())
            if drift.hashes.get(source) == digest
        ]
        unread = {failure["source"] for failure in result.failed}
        result.added = [source for source in result.added if source not in unread]
        result.changed = [source for source in result.changed if source not in unread]
        return self._record(result)

    def _drift(self) -> Drift:
        """The folder against the served version, less files known to be unreadable as they are.

        A folder that is missing or empty while the index holds documents is not taken as every
        document removed (an unmounted disk looks like that): ``DocsFolderMissing`` is raised."""
        docs_dir = self.settings.docs_dir
        documents = self.library.service.retriever.data.documents
        if not docs_dir.is_dir():
            raise DocsFolderMissing(f"docs folder {docs_dir} does not exist; index left as it is")
        drift = compare(docs_dir, documents, self._hashes)
        if documents and not drift.hashes:
            raise DocsFolderMissing(
                f"docs folder {docs_dir} holds no document while the index holds "
                f"{len(documents)}; index left as it is (to empty it: qa index build)"
            )
        unreadable = self._unreadable
        for source in list(unreadable):
            if drift.hashes.get(source) != unreadable[source][0]:
                del unreadable[source]  # changed or gone: read it again
        drift.added = [s for s in drift.added if s not in unreadable]
        drift.changed = [s for s in drift.changed if s not in unreadable]
        return drift

    def _record(self, result: Reconciliation) -> Reconciliation:
        result.at = datetime.now().astimezone().isoformat(timespec="milliseconds")
        self.last = result
        return result


class DocsFolderMissing(Exception):
    """The docs folder is gone or empty while the index is not: nothing is removed."""
