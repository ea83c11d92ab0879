"""The server keeps the index in step with the docs folder when files change behind its back:
at start-up (a file copied in while it was down, or left by an upload cut short by kill -9) and
on a schedule while it serves. Real model, real index, real ``qa serve`` process."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.server import LiveServer, live_server
from qa.app import compose
from qa.config import Settings
from qa.embedding import Embedder

FERRIES = "Brisk river ferries ran every hour between Quillmarsh and Ottery until 1931.\n"
KILNS = "The Ottery brick kilns fired four batches a week in 1902, each of nine thousand bricks.\n"


def reconciled_after(server: LiveServer, after: str | None) -> dict[str, Any]:
    """/health once a pass has ended after ``after`` (a pass's ``at``; None: any pass)."""
    deadline = time.monotonic() + 180  # a hang guard, not a speed figure
    while True:
        health = httpx.get(server.url + "health", timeout=30).json()
        at = health["reconciled"]["at"]
        if at is not None and at != after and not health["rebuild"]["running"]:
            return dict(health)
        assert time.monotonic() < deadline, health["reconciled"]
        time.sleep(0.2)


def top_source(server: LiveServer, question: str) -> str:
    answer = httpx.post(server.url + "answer", json={"question": question}, timeout=120)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["passages"][0]["source"])


@pytest.mark.slow
def test_files_changed_while_down_and_while_serving_are_indexed(
    tmp_path: Path, copy_seeds_index: Callable[[Path], Settings]
) -> None:
    """Issue 17, Why-6: a file in the docs folder that the index never took (the server was
    down, or killed mid-upload) stayed out of the answers, and /health said nothing."""
    copied = copy_seeds_index(tmp_path)
    (copied.docs_dir / "ferries.txt").write_text(FERRIES)  # while no server runs
    removed = sorted(copied.docs_dir.glob("*.txt"))[0]
    removed.unlink()
    environment = {"QA_RECONCILE_EVERY_S": "1", "QA_ANSWER_WORKERS": "0"}
    with live_server(copied.docs_dir, copied.index_dir, env=environment) as server:
        health = reconciled_after(server, None)
        found = health["reconciled"]
        assert (found["added"], found["changed"], found["removed"]) == (1, 0, 1), found
        assert found["sources"]["added"] == ["ferries.txt"]
        assert found["sources"]["removed"] == [removed.name]
        assert found["version"] == health["index_version"] and found["error"] is None
        assert top_source(server, "How often did the river ferries run?") == "ferries.txt"
        sources = {d["source"] for d in httpx.get(server.url + "documents").json()}
        assert "ferries.txt" in sources and removed.name not in sources

        (copied.docs_dir / "kilns.txt").write_text(KILNS)  # while it serves
        (copied.docs_dir / "unreadable.txt").write_bytes(b"\x00\x01\x02" * 100)
        health = reconciled_after(server, found["at"])
        while health["reconciled"]["added"] == 0:  # a pass may have ended just before the write
            health = reconciled_after(server, health["reconciled"]["at"])
        found = health["reconciled"]
        assert (found["added"], found["failed"]) == (1, 1), found
        assert found["sources"]["failed"][0]["source"] == "unreadable.txt"
        assert top_source(server, "How many batches did the brick kilns fire?") == "kilns.txt"
        # The unreadable file is not tried again while it stays as it is: later passes find
        # nothing to do and build nothing.
        later = reconciled_after(server, found["at"])["reconciled"]
        assert (later["added"], later["failed"], later["version"]) == (0, 1, None), later


def test_a_docs_folder_emptied_behind_the_servers_back_leaves_the_index_alone(
    settings: Settings, seeds_index: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    """An unmounted disk looks like an empty folder: that is not every document deleted."""
    shutil.copytree(seeds_index.index_dir, settings.index_dir)
    qa = compose(settings, embedder)
    documents = len(qa.service.retriever.data.documents)
    for path in settings.docs_dir.iterdir():
        path.unlink()
    result = qa.reconciler.run_pass()
    assert result is not None and result.error and "holds no document" in result.error
    assert len(qa.service.retriever.data.documents) == documents
    assert qa.health()["reconciled"]["error"] == result.error
