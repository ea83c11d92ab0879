"""The build lock: re-entrant for the thread that holds it (an upload builds while holding it),
exclusive against other threads and processes, and held by an upload from its first write until
the index includes the files."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from filelock import Timeout
from lock_holder import held_elsewhere

from qa.app import compose
from qa.config import Settings
from qa.embedding import Embedder
from qa.indexer import build_lock

NOTE = b"Lock note\n\nThe Varrowby ferry crossing reopened in 1987 after the floods.\n"


def test_the_holding_thread_may_take_it_again_and_no_other_thread_may(tmp_path: Path) -> None:
    with build_lock(tmp_path):
        again = build_lock(tmp_path)
        again.acquire(timeout=5)  # re-entrant: a build inside an upload does not wait for itself
        again.release()
    with held_elsewhere(tmp_path), pytest.raises(Timeout):
        build_lock(tmp_path).acquire(blocking=False)


def test_an_upload_writes_nothing_until_it_holds_the_lock(
    settings: Settings, seeds_index: Settings, embedder: Embedder
) -> None:
    shutil.copytree(seeds_index.index_dir, settings.index_dir)
    qa = compose(settings, embedder)
    qa.service.warm_up()
    outcome: dict[str, object] = {}

    def upload() -> None:
        outcome["report"] = qa.library.add_documents([("lock-note.txt", NOTE)])

    with held_elsewhere(settings.index_dir):
        uploader = threading.Thread(target=upload)
        uploader.start()
        uploader.join(timeout=1.0)
        assert uploader.is_alive(), "the upload went ahead while another writer held the lock"
        assert not (settings.docs_dir / "lock-note.txt").exists()
    uploader.join(timeout=120)
    assert not uploader.is_alive()
    assert (settings.docs_dir / "lock-note.txt").read_bytes() == NOTE
    answer = qa.service.ask("When did the Varrowby ferry crossing reopen?")
    assert answer.passages[0].source == "lock-note.txt"
