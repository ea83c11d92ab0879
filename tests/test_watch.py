"""A watched docs folder (``QA_WATCH=1``) of a real ``qa serve``: a file copied in is answered
from, a file deleted is gone, and /health shows the watch. Run with ``pytest -s`` for the time a
copied file took to become answerable (the issue asks for within 10 s)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.server import LiveServer, live_server
from qa.cli import build_parser, serve_settings
from qa.config import Settings
from qa.watch import is_document

pytestmark = pytest.mark.slow

NEW_DOCUMENT = """Brixton lighthouse library opens

The Brixton Lighthouse Library opened its doors on 3 May 2021.
The ribbon was cut by the borough's chief librarian, Zephyrine Okonkwo-Bell.
"""
QUESTION = "Who cut the ribbon at the Brixton Lighthouse Library?"
GIVE_UP_S = 120.0  # only so a broken watch fails instead of hanging; the figure is printed


def _cites(server: LiveServer, source: str) -> bool:
    answer: dict[str, Any] = httpx.post(
        server.url + "answer", json={"question": QUESTION}, timeout=60
    ).json()
    return answer["found"] and any(p["source"] == source for p in answer["passages"][:1])


def _wait_until(condition: Callable[[], bool]) -> float:
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < GIVE_UP_S, "the watched change was never indexed"
        time.sleep(0.2)
    return time.monotonic() - began


def test_serve_watch_option_sets_the_setting() -> None:
    args = build_parser().parse_args(["serve", "--watch"])
    assert serve_settings(args).watch is True
    assert serve_settings(build_parser().parse_args(["serve"])).watch is Settings().watch


def test_the_watch_takes_the_files_a_build_reads(tmp_path: Path) -> None:
    """A licence named with no type is a document to the watch as to the build."""
    taken = ["notes.txt", "COPYING", "GPL-3", "Apache-2.0", "sub/README"]
    left = ["chart.png", "Makefile", ".notes.txt", "sub/.cache/a.md"]
    assert [name for name in taken + left if is_document(tmp_path / name, tmp_path)] == taken
    assert not is_document(tmp_path.parent / "COPYING", tmp_path)  # outside the folder


def test_a_watched_folder_indexes_what_is_copied_in_and_drops_what_is_deleted(
    tmp_path: Path, copy_seeds_index: Callable[[Path], Settings]
) -> None:
    copied = copy_seeds_index(tmp_path)
    env = {"QA_WATCH": "1", "QA_ANSWER_WORKERS": "0", "QA_DATA_DIR": str(tmp_path / "data")}
    with live_server(copied.docs_dir, copied.index_dir, env=env) as server:
        watch = httpx.get(server.url + "health").json()["watch"]
        assert watch["enabled"] and watch["folder"] == str(copied.docs_dir)
        assert not _cites(server, "lighthouse.txt")

        staged = tmp_path / "lighthouse.txt"
        staged.write_text(NEW_DOCUMENT)
        staged.replace(copied.docs_dir / "lighthouse.txt")  # arrives whole, as a copy-and-move
        took = _wait_until(lambda: _cites(server, "lighthouse.txt"))
        print(f"\nwatched file answerable after {took:.1f}s")
        health = httpx.get(server.url + "health").json()
        assert health["documents"] == 6 and health["watch"]["changes_seen"] >= 1

        (copied.docs_dir / "lighthouse.txt").unlink()
        gone = _wait_until(lambda: httpx.get(server.url + "health").json()["documents"] == 5)
        print(f"deleted file dropped after {gone:.1f}s")
        assert not _cites(server, "lighthouse.txt")
        assert httpx.get(server.url + "health").json()["watch"]["last_error"] is None
