"""Noticing an index version that another process published (``qa index build`` run in a
terminal, or another server over the same Milvus), so that it is served without a restart.

The store's published version is read at most once a second, on the path of a request (no timer thread); a new version
is loaded in a background thread, one at a time, while the old one keeps answering. A version
that fails to load is not tried again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from qa.errors import QAError
from qa.store import Store

CHECK_EVERY_S = 1.0  # one small file read a second at most


def current_name(store: Store) -> str | None:
    """The published version's name, or None if there is none or its pointer is garbled."""
    try:
        return store.current_version()
    except QAError:
        return None


class PublishedVersionWatch:
    """Calls ``swap_in(name)`` in a background thread when CURRENT names a version not served.

    ``swap_in`` returns False when the version is unusable; it is then refused for good."""

    def __init__(
        self, store: Store, swap_in: Callable[[str], bool], every_s: float = CHECK_EVERY_S
    ) -> None:
        self.store = store
        self._swap_in = swap_in
        self._every_s = every_s
        self._next_check = 0.0
        self._busy = threading.Lock()  # held while checking CURRENT or loading what it names
        self._refused: set[str] = set()

    def refuse(self, name: str | None) -> None:
        """Never load ``name`` (found damaged already, e.g. at start-up)."""
        if name is not None:
            self._refused.add(name)

    def check(self, serving: str) -> None:
        """Start loading CURRENT's version if it is neither ``serving`` nor refused; cheap."""
        now = time.monotonic()
        if now < self._next_check or not self._busy.acquire(blocking=False):
            return
        loading = False
        try:
            self._next_check = now + self._every_s
            name = current_name(self.store)
            if name is None or name == serving or name in self._refused:
                return
            threading.Thread(target=self._load, args=(name,), name="qa-follow", daemon=True).start()
            loading = True
        finally:
            if not loading:
                self._busy.release()

    def _load(self, name: str) -> None:
        try:
            if not self._swap_in(name):
                self._refused.add(name)
        finally:
            self._busy.release()
