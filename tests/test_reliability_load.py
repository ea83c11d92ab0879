"""Load on loopback: 1,000 questions at concurrency 16 against a real ``qa serve`` while full rebuilds
run back to back. Zero errors; every answer cites exact spans of the documents (checked against
GET /documents/{doc_id}) and its best passage is the one the index gave before any rebuild.
Run with ``pytest -s`` for p50/p95, throughput and how many rebuilds swapped in meanwhile.
"""

from __future__ import annotations

import shutil
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from test_server_process import QUESTIONS, complete

from bench.server import LiveServer, live_server
from qa.config import PROJECT_ROOT, Settings
from qa.embedding import Embedder
from qa.indexer import build_index

pytestmark = pytest.mark.slow

REQUESTS = 1000
CONCURRENCY = 16
SEEDS = ["001_c72b037f784a4d60.txt", "003_30c3f522f41d54ac.txt", "004_f0a960715aa8636b.txt"]
REBUILD_TIMEOUT = 300.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[LiveServer]:
    """``qa serve`` over three seed documents, their index built first with the session's model
    (building at start-up is tested in test_reliability_startup)."""
    root = tmp_path_factory.mktemp("load")
    (root / "docs").mkdir()
    for name in SEEDS:
        shutil.copy(PROJECT_ROOT / "seeds" / name, root / "docs" / name)
    build_index(Settings(docs_dir=root / "docs", index_dir=root / "index"), embedder)
    with live_server(root / "docs", root / "index", timeout=300) as running:
        yield running


@dataclass
class RebuildLoop:
    """Full rebuilds one after another (POST /index/rebuild?full=true, then wait) until stopped."""

    http: httpx.Client
    stop: threading.Event = field(default_factory=threading.Event)
    versions: list[tuple[str, float]] = field(default_factory=list)  # (served, when) per rebuild
    problems: list[str] = field(default_factory=list)

    def run(self) -> None:
        while not self.stop.is_set():
            started = self.http.post("/index/rebuild", params={"full": "true"})
            if started.status_code != 202:
                self.problems.append(f"rebuild not started: {started.status_code} {started.text}")
                return
            deadline = time.monotonic() + REBUILD_TIMEOUT
            while (health := self.http.get("/health").json())["rebuild"]["running"]:
                if time.monotonic() > deadline:
                    self.problems.append("a rebuild ran past its timeout")
                    return
                time.sleep(0.1)
            status = health["rebuild"]
            if status["last_error"] or not (status["last_report"] or {}).get("full"):
                self.problems.append(f"rebuild failed: {status}")
                return
            self.versions.append((health["index_version"], time.monotonic()))


def test_1000_answers_while_full_rebuilds_run(server: LiveServer) -> None:
    http = httpx.Client(base_url=server.url, timeout=120)
    texts = {
        d["doc_id"]: http.get(f"/documents/{d['doc_id']}").json()["text"]
        for d in http.get("/documents").json()
    }
    assert len(texts) == len(SEEDS)
    first_version = http.get("/health").json()["index_version"]
    best: dict[str, tuple[str, int, int]] = {}
    for question in QUESTIONS:
        top = http.post("/answer", json={"question": question}).json()["passages"][0]
        best[question] = (top["doc_id"], top["start"], top["end"])

    loop = RebuildLoop(http)
    rebuilder = threading.Thread(target=loop.run, name="rebuild-loop", daemon=True)
    rebuilder.start()

    def ask(i: int) -> tuple[int, float, str | None]:
        question = QUESTIONS[i % len(QUESTIONS)]
        began = time.monotonic()
        response = http.post("/answer", json={"question": question})
        elapsed_ms = (time.monotonic() - began) * 1000
        if response.status_code != 200:
            return response.status_code, elapsed_ms, response.text[:200]
        answer: dict[str, Any] = response.json()
        if len(answer["passages"]) != 5 or not complete(answer, texts):
            return 200, elapsed_ms, f"incomplete: {answer}"
        top = answer["passages"][0]
        if (top["doc_id"], top["start"], top["end"]) != best[question]:
            return 200, elapsed_ms, f"best passage changed for {question!r}: {top}"
        return 200, elapsed_ms, None

    burst_began = time.monotonic()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(ask, range(REQUESTS)))
    burst_ended = time.monotonic()
    burst_seconds = burst_ended - burst_began
    loop.stop.set()
    rebuilder.join(timeout=REBUILD_TIMEOUT + 30)

    latencies = sorted(ms for _, ms, _ in results)
    errors = [(status, problem) for status, _, problem in results if problem is not None]
    print(
        f"\n/answer under load: {REQUESTS} requests at concurrency {CONCURRENCY}, "
        f"{len(errors)} errors, p50 {statistics.median(latencies):.0f} ms, "
        f"p95 {latencies[int(0.95 * len(latencies)) - 1]:.0f} ms, max {latencies[-1]:.0f} ms, "
        f"{REQUESTS / burst_seconds:.1f} req/s over {burst_seconds:.1f} s; "
        f"{sum(1 for _, when in loop.versions if when <= burst_ended)} full rebuilds swapped in "
        f"during the burst ({len(loop.versions)} in all)"
    )
    assert errors == [], errors[:5]
    assert loop.problems == []
    assert not rebuilder.is_alive()
    assert loop.versions and first_version not in {version for version, _ in loop.versions}
    http.close()
