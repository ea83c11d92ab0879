"""Latency over HTTP against a real ``qa serve`` process on a free loopback port.

Clients keep one connection each (as a browser or a script would), so the figures are the
server's time plus one loopback round trip, not TCP set-up. Traffic goes to 127.0.0.1 only and
every loop is bounded.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.measure import (
    child_pids,
    latency_summary,
    process_peak_rss_mb,
    progress,
    timed_ms,
)
from bench.server import HOST, live_server, wait_for_answer_workers
from qa.config import PROJECT_ROOT, Settings


class Client:
    """One keep-alive connection to the server, opened again if the server closed it while idle
    (uvicorn does after 5 s, e.g. while the concurrent clients have their turn)."""

    def __init__(self, port: int, timeout: float = 60.0) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> float:
        return self._exchange(method, path, body)[0]

    def _exchange(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[float, bytes]:
        """Milliseconds taken and the response body."""
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload else {}
        for attempt in (1, 2):  # only reads are sent, so sending one again is harmless
            began = time.perf_counter()
            try:
                self.connection.request(method, path, body=payload, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                self.connection.close()  # the next request connects afresh
                if attempt == 2:
                    raise
        elapsed = (time.perf_counter() - began) * 1000
        if response.status != 200:
            raise RuntimeError(f"{method} {path} answered {response.status}")
        return elapsed, data

    def answer(self, question: str) -> float:
        return self._request("POST", "/answer", {"question": question, "top_k": 5})

    def health(self) -> float:
        return self._request("GET", "/health")

    def status(self) -> dict[str, Any]:
        """The /health body."""
        return dict(json.loads(self._exchange("GET", "/health")[1]))

    def close(self) -> None:
        self.connection.close()


class ServerProcess:
    """``qa serve`` over the given settings' folders (``bench.server.live_server``), ready once
    its answer workers run; its and their peak memory are read as it stops."""

    def __init__(self, settings: Settings, log_path: Path, ready_timeout: float = 240.0) -> None:
        self.settings = settings
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self.port = 0
        self.peak_rss_mb: float | None = None
        self.workers_peak_rss_mb: float | None = None  # the answer workers', all together
        self.started_s = 0.0
        self._stack = ExitStack()
        self._pid: int | None = None

    def __enter__(self) -> ServerProcess:
        s = self.settings
        env = {
            "QA_MODEL": s.model,
            "QA_CACHE_DIR": str(s.cache_dir),
            "QA_EMBED_BACKEND": s.embed_backend,
            "QA_EMBED_QUANTIZE": "true" if s.embed_quantize else "false",
            "QA_ANSWER_WORKERS": str(s.answer_workers),
        }
        began = time.perf_counter()
        with self._stack:
            server = self._stack.enter_context(
                live_server(
                    s.docs_dir,
                    s.index_dir,
                    env=env,
                    cwd=PROJECT_ROOT,
                    log=self.log_path,
                    timeout=self.ready_timeout,
                )
            )
            self.port, self._pid = server.port, server.pid
            wait_for_answer_workers(server, s.answer_workers, self.ready_timeout)
            self._stack = self._stack.pop_all()  # running: stopped by __exit__
        self.started_s = time.perf_counter() - began  # measured as served once warm
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pid is not None:
            self.peak_rss_mb = process_peak_rss_mb(self._pid)
            workers = [process_peak_rss_mb(pid) for pid in child_pids(self._pid)]
            self.workers_peak_rss_mb = round(sum(mb for mb in workers if mb is not None), 1)
            self._pid = None
        self._stack.close()


HEALTH_PROBE_INTERVAL_S = 0.02
IDLE_PROBE_S = 4.0  # about as long as 16 clients x 32 requests take at 10,000 passages


class HealthProbe:
    """GET /health every 20 ms from a process of its own, from ``with`` to its end; ``samples_ms``.

    Its own process, so it times the server and not the wait for this process's GIL, which it
    would share with the concurrent clients' threads. The same probe, at the same pace, measures
    the idle server, so the two p99s differ only by the load."""

    def __init__(self, port: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._started = context.Event()
        self._stop = context.Event()
        self._results = context.SimpleQueue()
        self._process = context.Process(
            target=_probe_health, args=(port, self._started, self._stop, self._results)
        )
        self.samples_ms: list[float] = []

    def __enter__(self) -> HealthProbe:
        self._process.start()
        if not self._started.wait(60):
            self._process.kill()
            raise RuntimeError("the /health probe did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.samples_ms = self._results.get()
        self._process.join(10)


def _probe_health(port: int, started: Any, stop: Any, results: Any) -> None:
    """The probe process: time /health until ``stop``, then send the samples back."""
    client = Client(port)
    client.health()  # connected, and the server has seen this client
    started.set()
    samples: list[float] = []
    try:
        while not stop.is_set():
            samples.append(client.health())
            stop.wait(HEALTH_PROBE_INTERVAL_S)
    finally:
        client.close()
        results.put(samples)


def http_latency(
    server: ServerProcess,
    questions: list[str],
    clients: int,
    per_client: int,
    floor: Callable[[str], object] | None = None,
    rounds: int = 2,
) -> dict[str, Any]:
    """Sequential /answer latency (each request next to the in-process ``floor`` for the same
    question, so load on the machine falls on both alike), /health unloaded, then ``rounds`` of
    one sequential client and ``clients`` concurrent ones taking turns; each side's best round
    counts, as with the embedding rounds."""
    port = server.port
    client = Client(port)
    for question in questions[:3]:
        client.answer(question)
    with HealthProbe(port) as idle_probe:
        time.sleep(IDLE_PROBE_S)
    sequential, floors = [], []
    for question in questions:
        if floor is not None:
            floors.append(timed_ms(floor, question))
        sequential.append(client.answer(question))
    result: dict[str, Any] = {
        "answer": latency_summary(sequential),
        "floor_beside_http": latency_summary(floors),
        "health_idle": latency_summary(idle_probe.samples_ms),
    }
    best_sequential, best_concurrent = 0.0, None
    # Half the concurrent round's requests: about as long a round at the 2x aimed for. A short
    # round's best is luckier than a long one's, which would flatter one side of the ratio.
    turns = max(len(questions), clients * per_client // 2)
    for turn in range(max(1, rounds)):
        began = time.perf_counter()
        for number in range(turns):
            client.answer(questions[number % len(questions)])
        rps = turns / (time.perf_counter() - began)
        best_sequential = max(best_sequential, rps)
        progress(f"HTTP sequential, round {turn + 1}: {rps:.1f} requests/s")
        if clients > 1:
            concurrent = _concurrent(port, questions, clients, per_client)
            if (
                best_concurrent is None
                or concurrent["concurrent_rps"] > best_concurrent["concurrent_rps"]
            ):
                best_concurrent = concurrent
    client.close()
    result["sequential_rps"] = round(best_sequential, 2)
    if best_concurrent is not None:
        result.update(best_concurrent)
    return result


def _concurrent(port: int, questions: list[str], clients: int, per_client: int) -> dict[str, Any]:
    start = threading.Barrier(clients + 1)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []

    def run(number: int) -> None:
        client = Client(port)
        try:
            start.wait()
            for turn in range(per_client):
                question = questions[(number * per_client + turn) % len(questions)]
                latencies[number].append(client.answer(question))
        except BaseException as error:  # reported after the run, not lost in a thread
            errors.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    with HealthProbe(port) as probe:
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} concurrent requests failed: {errors[0]}")
    total = clients * per_client
    progress(f"HTTP {clients} concurrent clients: {total / seconds:.1f} requests/s")
    return {
        "concurrent_clients": clients,
        "concurrent_rps": round(total / seconds, 2),
        "concurrent_answer": latency_summary([v for values in latencies for v in values]),
        "health_loaded": latency_summary(probe.samples_ms),
    }
