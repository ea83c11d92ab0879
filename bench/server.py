"""A real ``qa serve`` process on a free loopback port: the one way the tests and the benchmarks
start a server and wait for it.

Used wherever a test must talk to the same server a user runs (gradio_client, the browser, load,
hostile requests) and by the HTTP benchmark (``bench.http``). The caller provides the docs and
index folders; the server gets an environment without any ``QA_*`` variables (so on loopback,
without a token, writes are allowed) except those the caller passes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from qa.config import Settings

HOST = "127.0.0.1"
START_TIMEOUT = 240.0  # loads the model (and builds the index if there is none) before it listens


@dataclass(frozen=True)
class LiveServer:
    url: str  # ends with "/"
    port: int
    docs_dir: Path
    index_dir: Path
    log: Path
    pid: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(
    docs: Path,
    index: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
    timeout: float = START_TIMEOUT,
) -> Iterator[LiveServer]:
    """Start ``qa serve`` over ``docs`` and ``index``; wait until GET /health answers 200; stop it
    afterwards, whatever happened. ``env`` overrides the (``QA_*``-free) environment; the log goes
    to ``log`` (default: ``server.log`` beside the docs folder)."""
    log = log or docs.parent / "server.log"
    port = free_port()
    command = [sys.executable, "-m", "qa.cli", "serve", "--host", HOST, "--port", str(port)]
    command += ["--docs", str(docs), "--index", str(index)]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    environment["GRADIO_ANALYTICS_ENABLED"] = "False"
    environment.update(env or {})
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=environment, cwd=cwd
        )
    server = LiveServer(f"http://{HOST}:{port}/", port, docs, index, log, process.pid)
    try:
        _wait_until_up(process, server, timeout)
        yield server
    finally:
        _stop(process)


def wait_for_answer_workers(
    server: LiveServer, expected: int | None = None, timeout: float = START_TIMEOUT
) -> int:
    """Wait until ``expected`` answer workers (by default, as many as the settings' default)
    are running; their number."""
    if expected is None:
        expected = Settings.model_fields["answer_workers"].get_default(call_default_factory=True)
    deadline = time.monotonic() + timeout
    while (running := httpx.get(server.url + "health").json()["answer_workers"]) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{running} of {expected} answer workers started:\n{tail(server.log)}"
            )
        time.sleep(0.2)
    return int(running)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM; a second one if it lingers (uvicorn waits on open Gradio heartbeat streams,
    and a second signal makes it quit at once); SIGKILL as the last resort."""
    for _ in range(2):
        process.terminate()
        try:
            process.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue
    process.kill()
    process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], server: LiveServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"qa serve exited early with {process.returncode}:\n{tail(server.log)}"
            )
        try:
            if httpx.get(server.url + "health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"qa serve did not answer within {timeout:.0f}s:\n{tail(server.log)}")


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
