"""A real Milvus (Milvus Lite's gRPC server, ``milvus-lite server``) on a free loopback port: for
the tests where several processes share one Milvus, as API servers on several machines would,
and for ``bench.stores``, which measures the server's memory apart from qa's."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class MilvusServer:
    uri: str
    pid: int


@contextmanager
def milvus_server(data_dir: Path) -> Iterator[MilvusServer]:
    """Start the server over ``data_dir``; yield its URI and process id; stop it afterwards."""
    port = _free_port()
    log = data_dir.parent / f"milvus-{port}.log"
    executable = Path(sys.executable).parent / "milvus-lite"
    command = [str(executable), "server", "--data-dir", str(data_dir), "--host", HOST]
    with log.open("wb") as output:
        process = subprocess.Popen([*command, "--port", str(port)], stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"milvus-lite server exited: {log.read_text()[-2000:]}")
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("milvus-lite server did not listen") from None
                time.sleep(0.2)
        yield MilvusServer(f"http://{HOST}:{port}", process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
