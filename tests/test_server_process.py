"""A real ``qa serve`` process on a free loopback port, spoken to over HTTP.

While a full rebuild runs, 200 questions at concurrency 8 must all be answered completely from
the current index. Run with ``pytest -s`` to see the figures.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.measure import child_pids
from bench.server import LiveServer, live_server, wait_for_answer_workers
from qa.config import PROJECT_ROOT, Settings

pytestmark = pytest.mark.slow

REQUESTS = 200
CONCURRENCY = 8
QUESTIONS = [
    "which borough stayed good in 2019",
    "Which councils were rated outstanding by Ofsted?",
    "What did inspectors praise about the former tri-borough councils?",
    "When was the tri-borough arrangement ended?",
]


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, copy_seeds_index: Callable[[Path], Settings]
) -> Iterator[LiveServer]:
    """``qa serve`` over private copies of the seeds and their index (so start-up only loads),
    shared by the module's tests: they add documents and rebuild, and compare with what they
    saw before, never with the seeds' own counts."""
    copied = copy_seeds_index(tmp_path_factory.mktemp("served"))
    with live_server(copied.docs_dir, copied.index_dir) as running:
        wait_for_answer_workers(running)  # questions reach the workers, as once a server is warm
        yield running


def complete(answer: dict[str, Any], texts: dict[str, str]) -> bool:
    """Passages present, ranked 1..n, each exactly its document's text between its offsets."""
    passages = answer["passages"]
    return bool(passages) and all(
        p["rank"] == rank and texts[p["doc_id"]][p["start"] : p["end"]] == p["text"]
        for rank, p in enumerate(passages, start=1)
    )


def test_answers_during_a_full_rebuild(server: LiveServer) -> None:
    http = httpx.Client(base_url=server.url, timeout=120)
    first = http.post("/answer", json={"question": QUESTIONS[0]})
    assert first.status_code == 200
    assert any('retained its "good" rating' in p["text"] for p in first.json()["passages"][:3])
    texts = {
        d["doc_id"]: http.get(f"/documents/{d['doc_id']}").json()["text"]
        for d in http.get("/documents").json()
    }
    assert complete(first.json(), texts)

    started = http.post("/index/rebuild", params={"full": "true"})
    assert started.status_code == 202, started.text
    assert http.get("/health").json()["rebuild"]["running"] is True

    rebuild_ended: list[float] = []

    def watch_rebuild() -> None:
        while http.get("/health").json()["rebuild"]["running"]:
            time.sleep(0.2)
        rebuild_ended.append(time.monotonic())

    watcher = threading.Thread(target=watch_rebuild, daemon=True)
    watcher.start()

    def ask(i: int) -> tuple[int, float, float, bool]:
        began = time.monotonic()
        response = http.post("/answer", json={"question": QUESTIONS[i % len(QUESTIONS)]})
        ended = time.monotonic()
        ok = response.status_code == 200 and complete(response.json(), texts)
        return response.status_code, (ended - began) * 1000, ended, ok

    burst_began = time.monotonic()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(ask, range(REQUESTS)))
    burst_seconds = time.monotonic() - burst_began
    watcher.join(timeout=600)

    health = http.get("/health").json()
    latencies = sorted(ms for _, ms, _, _ in results)
    errors = sum(1 for status, _, _, ok in results if status != 200 or not ok)
    rebuild_end = rebuild_ended[0] if rebuild_ended else float("inf")
    during = sum(1 for _, _, ended, _ in results if ended <= rebuild_end)
    print(
        f"\n/answer during a full rebuild: {REQUESTS} requests at concurrency {CONCURRENCY}, "
        f"{errors} errors or incomplete, p50 {statistics.median(latencies):.0f} ms, "
        f"p95 {latencies[int(0.95 * len(latencies)) - 1]:.0f} ms, "
        f"max {latencies[-1]:.0f} ms, {REQUESTS / burst_seconds:.1f} req/s; "
        f"{during}/{REQUESTS} finished before the rebuild did; "
        f"rebuild {health['rebuild']['last_report']['seconds']:.1f} s"
    )
    assert errors == 0, [r for r in results if r[0] != 200 or not r[3]][:5]
    assert during > 0
    assert health["rebuild"]["last_error"] is None and health["rebuild"]["last_report"]["full"]
    assert health["documents"] == len(texts)
    http.close()


def test_a_build_run_in_a_terminal_is_served_without_a_restart(server: LiveServer) -> None:
    """The third way of use: drop a file in the docs folder, run ``qa index build``."""
    http = httpx.Client(base_url=server.url, timeout=60)
    before = http.get("/health").json()
    (server.docs_dir / "ferries.txt").write_text(
        "Brisk river ferries ran every hour between Quillmarsh and Ottery until 1931.\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    built = subprocess.run(
        [sys.executable, "-m", "qa.cli", "index", "build", "--docs", str(server.docs_dir)]
        + ["--index", str(server.index_dir)],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    deadline = time.monotonic() + 60
    health = before
    while health["index_version"] == before["index_version"] and time.monotonic() < deadline:
        time.sleep(0.2)
        health = http.get("/health").json()
    assert health["index_version"] != before["index_version"]
    assert health["documents"] == before["documents"] + 1 and health["notice"] is None
    answer = http.post("/answer", json={"question": "How often did the river ferries run?"})
    assert answer.json()["passages"][0]["source"] == "ferries.txt"
    http.close()


def answer_workers_of(pid: int) -> list[int]:
    """The child processes of ``pid`` that run ``qa.answer_worker``."""
    return [
        c for c in child_pids(pid) if b"qa.answer_worker" in Path(f"/proc/{c}/cmdline").read_bytes()
    ]


def test_answer_workers_run_by_default_and_stop_with_the_server(
    tmp_path: Path, copy_seeds_index: Callable[[Path], Settings]
) -> None:
    copied = copy_seeds_index(tmp_path)
    with live_server(copied.docs_dir, copied.index_dir) as running:
        count = wait_for_answer_workers(running)
        workers = answer_workers_of(running.pid)
        cores = os.cpu_count() or 1
        assert count == (cores if cores > 1 else 0)
        assert len(workers) == count
        answer = httpx.post(running.url + "answer", json={"question": QUESTIONS[0]}, timeout=60)
        assert answer.status_code == 200 and answer.json()["found"]
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_killed_workers_are_replaced_after_the_start_up_version_was_cleaned_away(
    server: LiveServer,
) -> None:
    """Issue 17, Why-5: replacements used to start on the version served at start-up, which two
    builds later no longer exists; /health's answer_workers went to 0 and stayed there."""
    http = httpx.Client(base_url=server.url, timeout=120)
    workers = wait_for_answer_workers(server)
    started_on = http.get("/health").json()["index_version"]
    added = {
        "kilns.txt": b"The Ottery brick kilns fired three batches a week in 1902.\n",
        "lamps.txt": b"The Quillmarsh lamp works made forty brass lanterns a day in 1911.\n",
    }
    for name, data in added.items():  # two new versions: the start-up one is cleaned away
        stored = http.post("/documents", files={"files": (name, data)})
        assert stored.status_code == 200, stored.text
    assert not (server.index_dir / started_on).exists()
    before = answer_workers_of(server.pid)
    assert len(before) == workers
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    # Replacements are started only once the pool has seen its workers die, so new pids for
    # every slot mean the deaths were noticed; then they must become ready.
    deadline = time.monotonic() + 60  # a hang guard, not a speed figure
    while len(set(answer_workers_of(server.pid)) - set(before)) < workers:
        assert time.monotonic() < deadline, "no replacement was started"
        time.sleep(0.1)
    assert wait_for_answer_workers(server, workers, timeout=120) == workers
    health = http.get("/health").json()
    assert health["answer_workers"] == workers and health["index_version"] != started_on
    answered = http.post("/answer", json={"question": "How many lanterns did the lamp works make?"})
    assert answered.status_code == 200
    assert answered.json()["passages"][0]["source"] == "lamps.txt"
    print(f"\n/health answer_workers after killing {workers} workers: {health['answer_workers']}")
    http.close()
