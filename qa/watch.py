"""A docs folder that indexes itself: ``qa serve --watch`` (or ``QA_WATCH=1``).

``watchfiles`` reports files created, changed or deleted in the docs folder; a burst of changes
(a copy of many files, an editor's save-and-rename) is debounced into one batch. A batch that
really changes what the index holds (a file whose content differs from the indexed one, a new
file, an indexed file gone) is indexed incrementally through the library (``qa.library``): the
same write lock, build lock and atomic publish as an upload, so a watched change and an upload
never build at once and a reader never sees half an index. Our own uploads and deletes also
show up as events; by the time they arrive the index already agrees with the folder, so they
cost one cheap comparison and no build.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.documents import is_document_name
from qa.library import Library

log = logging.getLogger(__name__)

DEBOUNCE_MS = 500  # changes closer together than this are one batch
STEP_MS = 50  # how often watchfiles looks for more changes within a batch


@dataclass
class WatchStatus:
    """What /health and the Documents tab show about the watch."""

    enabled: bool = False
    folder: str | None = None
    changes_seen: int = 0  # batches that changed what the index holds
    last_change_at: float | None = None  # Unix time the last such batch arrived
    last_indexed_at: float | None = None  # Unix time its build was served
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def is_document(path: Path, docs_dir: Path) -> bool:
    """A file the index would read: a name qa reads (``is_document_name``), not hidden (no part
    starts with "."; uploads write hidden temporary files first)."""
    try:
        relative = path.relative_to(docs_dir)
    except ValueError:
        return False
    hidden = any(part.startswith(".") for part in relative.parts)
    return not hidden and is_document_name(path.name)


class DocsWatch:
    """Watches ``library``'s docs folder in a daemon thread and indexes what changes."""

    def __init__(self, library: Library, enabled: bool) -> None:
        self.library = library
        self.docs_dir = library.settings.docs_dir
        self.status = WatchStatus(enabled=enabled, folder=str(self.docs_dir) if enabled else None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin watching (if enabled); returns at once."""
        if not self.status.enabled or self._thread is not None:
            return
        self.docs_dir.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="qa-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        from watchfiles import watch

        def relevant(_change: Any, path: str) -> bool:
            return is_document(Path(path), self.docs_dir)

        try:
            for changes in watch(
                self.docs_dir,
                watch_filter=relevant,
                debounce=DEBOUNCE_MS,
                step=STEP_MS,
                stop_event=self._stop,
                raise_interrupt=False,
            ):
                self.apply(Path(path) for _, path in changes)
        except Exception as error:  # the folder vanished, inotify ran out: say so, stop
            log.exception("watching %s stopped", self.docs_dir)
            self.status.last_error = f"watching stopped: {error}"

    def apply(self, paths: Iterable[Path]) -> bool:
        """Index the folder if any of ``paths`` changes what the index holds; whether it did."""
        if not self._differs(paths):
            return False
        self.status.changes_seen += 1
        self.status.last_change_at = time.time()
        try:
            self.library.rebuild()  # waits for a running upload or rebuild, then builds
        except Exception as error:  # kept in the status; the next change tries again
            log.exception("indexing watched changes failed")
            self.status.last_error = str(error)
            return False
        self.status.last_indexed_at = time.time()
        self.status.last_error = None
        return True

    def _differs(self, paths: Iterable[Path]) -> bool:
        documents = self.library.service.retriever.data.documents
        indexed = {d.source: d.sha256 for d in documents.values()}
        for path in paths:
            source = path.relative_to(self.docs_dir).as_posix()
            try:
                content = path.read_bytes()
            except FileNotFoundError:
                if source in indexed:
                    return True
                continue
            except OSError:  # unreadable now (being written): the build will say why
                return True
            if indexed.get(source) != hashlib.sha256(content).hexdigest():
                return True
        return False
