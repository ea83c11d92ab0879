"""Document revisions: the text a citation points into, for as long as an index version keeps it.

A document is re-read whenever its file changes, but its doc_id (from its name) stays, so
offsets cited from one revision are wrong in the next. Every cited passage therefore names its
revision: the sha256 of the file's bytes its text was read from (``Document.sha256``). This
module finds that revision again: in the served version (memory), else in the versions still on
disk (the current one and those ``store.remove_old_versions`` keeps), read through their manifests
(which list every document's sha256) and, for the one that holds it, its documents alone.

None means no retained version holds it any more (the API answers 410 Gone).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

from qa.documents import Document
from qa.errors import QAError
from qa.store import IndexData, Store

log = logging.getLogger(__name__)

CACHED_REVISIONS = 32  # earlier revisions kept in memory, most recently asked for last


class RevisionLookup:
    """Finds ``(doc_id, revision)`` in the served version or a retained one on disk."""

    def __init__(self, store: Store, served: Callable[[], IndexData]) -> None:
        self.store = store
        self._served = served
        # (doc_id, revision) -> (the version it was read from, the document); a hit counts only
        # while that version is still retained.
        self._cache: OrderedDict[tuple[str, str], tuple[str, Document]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def find(self, doc_id: str, revision: str) -> Document | None:
        """The document as it was at ``revision``; None if no retained version holds it.

        A version's folder may be removed by a build while it is read: it then counts as not
        holding the revision. The served version is looked at first, without touching the disk.
        """
        current = self._served().documents.get(doc_id)
        if current is not None and current.sha256 == revision:
            return current
        key = (doc_id, revision)
        with self._cache_lock:
            cached = self._cache.pop(key, None)
        if cached is not None and cached[0] in self.store.version_names():
            found: tuple[str, Document] | None = cached
        else:
            found = self._from_disk(doc_id, revision)
        if found is None:
            return None
        with self._cache_lock:
            self._cache[key] = found
            while len(self._cache) > CACHED_REVISIONS:
                self._cache.popitem(last=False)
        return found[1]

    def texts(self, cited: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The text of each ``(doc_id, revision)`` still held (the chat's "Show in document")."""
        found = {}
        for key in set(cited):
            document = self.find(*key)
            if document is not None:
                found[key] = document.text
        return found

    def _from_disk(self, doc_id: str, revision: str) -> tuple[str, Document] | None:
        """The newest retained version holding the revision, and the document read from it."""
        for version in self.store.version_names():
            try:
                listed = self.store.read_manifest(version).get("documents", {})
                entry = listed.get(doc_id) if isinstance(listed, dict) else None
                if not isinstance(entry, dict) or entry.get("sha256") != revision:
                    continue
                document = self.store.read_documents(version).get(doc_id)
            except QAError as error:  # removed meanwhile, or damaged: not a holder
                log.info("revision look-up skipped %s: %s", version, error)
                continue
            if document is not None and document.sha256 == revision:
                return version, document
        return None
