"""A writer elsewhere: the build lock held by another thread, as another process would hold it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.indexer import build_lock


@contextmanager
def held_elsewhere(index_dir: Path) -> Iterator[None]:
    """The build lock, held by another thread until the block ends (as another writer would)."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with build_lock(index_dir):
            taken.set()
            release.wait(timeout=60)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(timeout=30)
    try:
        yield
    finally:
        release.set()
        holder.join(timeout=30)
