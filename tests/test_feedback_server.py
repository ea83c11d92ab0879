"""Feedback round trip over a real ``qa serve`` and the real ``qa`` command: post verdicts,
export them, ``qa eval`` the export; the feedback outlives ``qa index build --full`` and a
restart of the server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.server import LiveServer, live_server
from qa.config import Settings

pytestmark = pytest.mark.slow

SAMPLE = "which borough stayed good in 2019"
UNANSWERABLE = "What is the airspeed velocity of an unladen swallow?"
OTHER = "Who was Ofsted's chief inspector when the 2016 reports came out?"


def _qa(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    """The ``qa`` command in its own process, with the data folder given by environment."""
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        capture_output=True,
        text=True,
        env={"QA_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )


def _ask(server: LiveServer, question: str) -> dict[str, Any]:
    response = httpx.post(server.url + "answer", json={"question": question}, timeout=60)
    response.raise_for_status()
    return dict(response.json())


def _thumb(server: LiveServer, answer: dict[str, Any], verdict: str) -> httpx.Response:
    """What the chat sends for a thumb: the passage holding the answer sentence, or none."""
    cited = next((p for p in answer["passages"] if p["answer_start"] is not None), None)
    passage = None
    if cited is not None:
        keys = ("doc_id", "start", "end", "answer_start", "answer_end")
        passage = {key: cited[key] for key in keys}
    body = {"question": answer["question"], "verdict": verdict, "passage": passage}
    return httpx.post(server.url + "feedback", json=body, timeout=30)


def test_feedback_round_trip_survives_rebuild_and_restart(
    tmp_path: Path, copy_seeds_index: Callable[[Path], Settings]
) -> None:
    copied = copy_seeds_index(tmp_path)
    data = tmp_path / "data"
    env = {"QA_DATA_DIR": str(data), "QA_ANSWER_WORKERS": "0"}
    with live_server(copied.docs_dir, copied.index_dir, env=env) as server:
        found, missing = _ask(server, SAMPLE), _ask(server, UNANSWERABLE)
        assert found["found"] and not missing["found"]
        assert _thumb(server, found, "up").json()["counts"] == {"up": 1, "down": 0, "total": 1}
        assert _thumb(server, missing, "up").status_code == 200
        assert _thumb(server, _ask(server, OTHER), "down").status_code == 200
        # Bad input is refused with its reason and changes nothing.
        bad = {
            "question": SAMPLE,
            "verdict": "up",
            "passage": {"doc_id": "x", "start": 0, "end": 9},
        }
        refused = httpx.post(server.url + "feedback", json=bad)
        assert refused.status_code == 422 and "no indexed document" in refused.json()["detail"]
        assert httpx.post(server.url + "feedback", content=b"x" * 40_000).status_code == 413
        assert httpx.get(server.url + "feedback/counts").json()["total"] == 3

    rebuilt = _qa("index", "build", "--full", "--docs", str(copied.docs_dir),
                  "--index", str(copied.index_dir), data=data)  # fmt: skip
    assert rebuilt.returncode == 0, rebuilt.stderr

    with live_server(copied.docs_dir, copied.index_dir, env=env) as server:
        assert httpx.get(server.url + "feedback/counts").json() == {"up": 2, "down": 1, "total": 3}
        assert httpx.get(server.url + "health").json()["feedback"] == {
            "up": 2,
            "down": 1,
            "total": 3,
        }

    exported = tmp_path / "feedback_qa.jsonl"
    export = _qa("feedback", "export", "--out", str(exported), data=data)
    assert export.returncode == 0, export.stderr
    assert "2 questions (1 answerable, 1 unanswerable) from 3 feedback entries" in export.stderr
    folders = ["--docs", str(copied.docs_dir), "--index", str(copied.index_dir)]
    scored = _qa("eval", str(exported), *folders, "--json", data=data)
    assert scored.returncode == 0, scored.stderr
    report = json.loads(scored.stdout.splitlines()[-1])
    assert (report["answerable"], report["unanswerable"]) == (1, 1)
    assert report["answer_accuracy"] == 1.0 and report["abstained_correctly"] == 1
    assert report["hit_at_1"] == 1.0


def test_health_shows_the_feedback_counts(
    tmp_path: Path, copy_seeds_index: Callable[[Path], Settings]
) -> None:
    copied = copy_seeds_index(tmp_path)
    env = {"QA_DATA_DIR": str(tmp_path / "data"), "QA_ANSWER_WORKERS": "0"}
    with live_server(copied.docs_dir, copied.index_dir, env=env) as server:
        health = httpx.get(server.url + "health")
        assert health.status_code == 200
        assert health.json()["feedback"] == {"up": 0, "down": 0, "total": 0}  # no file yet

        assert _thumb(server, _ask(server, SAMPLE), "down").status_code == 200
        assert httpx.get(server.url + "health").json()["feedback"] == {
            "up": 0,
            "down": 1,
            "total": 1,
        }
        assert _thumb(server, _ask(server, OTHER), "up").status_code == 200
        assert _thumb(server, _ask(server, UNANSWERABLE), "up").status_code == 200
        counts = httpx.get(server.url + "health").json()["feedback"]
        assert counts == {"up": 2, "down": 1, "total": 3}
        assert counts == httpx.get(server.url + "feedback/counts").json()
