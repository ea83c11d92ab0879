"""A real ``qa serve`` process on a free loopback port, over private copies of the seeds.

Used by the UI tests (gradio_client and the browser): they talk to the same server a user runs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from qa.config import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "seeds"
QA = Path(sys.executable).parent / "qa"
START_TIMEOUT = 240.0  # loads the model and builds the seeds' index before it listens


@dataclass(frozen=True)
class LiveServer:
    url: str  # ends with "/"
    docs_dir: Path
    index_dir: Path
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(root: Path, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """Start ``qa serve`` over a copy of the seeds in ``root``; stop it afterwards."""
    docs, index, log = root / "docs", root / "index", root / "server.log"
    shutil.copytree(SEEDS, docs)
    port = free_port()
    command = [str(QA), "serve", "--docs", str(docs), "--index", str(index)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    environment = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    environment.pop("QA_ADMIN_TOKEN", None)  # on loopback without a token, writes are allowed
    environment.update(env or {})
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=environment
        )
    server = LiveServer(f"http://127.0.0.1:{port}/", docs, index, log)
    try:
        _wait_until_up(process, server)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM; a second one if it lingers (uvicorn waits on open Gradio heartbeat streams,
    and a second signal makes it quit at once); SIGKILL as the last resort."""
    for _ in range(2):
        process.terminate()
        try:
            process.wait(timeout=3)
            return
        except subprocess.TimeoutExpired:
            continue
    process.kill()
    process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"qa serve exited early:\n{tail(server.log)}")
        try:
            if httpx.get(server.url + "health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"qa serve did not answer within {START_TIMEOUT:.0f}s:\n{tail(server.log)}")


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
