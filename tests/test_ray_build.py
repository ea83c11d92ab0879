"""Index builds on Ray Data (``qa index build --ray``): the same index as the in-process build,
a two-node cluster in which both nodes embed, and a clear error where Ray is not installed.

Real parts throughout: the real model, a real local Ray, real ``ray start`` nodes."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from qa.cli import main
from qa.config import Settings
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.store import SearchIndex, load_version, open_store

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="Ray is not installed (pip install '.[scale]')"
)


def assert_same_index(expected_index: SearchIndex, actual_index: SearchIndex) -> None:
    """Same documents, the same passages and sentence units at the same offsets, and the same
    vectors: passages to 1e-6, sentence units' int8 codes exactly; whichever the store."""
    expected, actual = expected_index.data, actual_index.data
    assert actual.documents == expected.documents
    assert list(actual.passages) == list(expected.passages)
    assert list(actual.sentences) == list(expected.sentences)
    rows = np.arange(len(expected.passages))
    np.testing.assert_allclose(
        actual_index.passage_vectors(rows), expected_index.passage_vectors(rows), atol=1e-6
    )
    np.testing.assert_array_equal(actual.sentence_codes, expected.sentence_codes)
    np.testing.assert_array_equal(actual.sentence_kinds, expected.sentence_kinds)


def opened(settings: Settings) -> SearchIndex:
    return open_store(settings).open()


def test_without_ray_the_build_says_how_to_install_it_and_creates_nothing(
    tmp_path: Path, docs_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an install without [scale] sees
    index = tmp_path / "index"
    code = main(["index", "build", "--ray", "--docs", str(docs_dir), "--index", str(index)])
    assert code == 2
    error = capsys.readouterr().err
    assert "pip install '.[scale]'" in error and "Traceback" not in error
    assert not index.exists()


@needs_ray
@pytest.mark.slow
def test_ray_build_gives_the_in_process_index_and_embeds_only_what_changed(
    settings: Settings, embedder: Embedder, docs_dir: Path, milvus_settings: Settings
) -> None:
    from qa.ray_build import build_on_ray, ray_cluster

    on_ray = settings.model_copy(update={"index_dir": settings.index_dir.parent / "index-ray"})
    build_index(settings, embedder)
    with ray_cluster(None):  # one local Ray for both builds
        report = build_on_ray(on_ray, embedder)
        assert report.added == 5 and report.full
        assert sum(report.embedded_by.values()) == len(
            load_version(on_ray.index_dir).data.passages
        ) + len(load_version(on_ray.index_dir).data.sentences)
        assert_same_index(opened(settings), opened(on_ray))
        build_on_ray(milvus_settings, embedder)  # into the other store: the same index
        assert_same_index(opened(settings), opened(milvus_settings))

        # One new and one changed document: only they go to Ray, the rest keep their vectors.
        first = sorted(docs_dir.iterdir())[0]
        shutil.copy(first, docs_dir / "copy.txt")
        changed = sorted(docs_dir.iterdir())[1]
        changed.write_text(changed.read_text(encoding="utf-8") + "\nOne more sentence here.\n")
        in_process = build_index(settings, embedder)
        report = build_on_ray(on_ray, embedder)
    assert (report.added, report.updated, report.unchanged) == (1, 1, 4)
    assert report.embedded == in_process.embedded
    fresh = {d.doc_id for d in load_version(on_ray.index_dir).data.documents.values()
             if d.source in ("copy.txt", changed.name)}  # fmt: skip
    data = load_version(on_ray.index_dir).data
    texts = sum(p.doc_id in fresh for p in data.passages) + sum(
        s.doc_id in fresh for s in data.sentences
    )
    assert sum(report.embedded_by.values()) == texts
    assert_same_index(opened(settings), opened(on_ray))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The test cluster lives on this machine for one test: no token authentication (which would
# depend on what a user's ~/.ray holds), no usage reporting, no model download.
_CLUSTER_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "HF_HUB_OFFLINE": "1"}


def _ray_node(arguments: list[str], temp_dir: Path) -> subprocess.Popen[bytes]:
    """``ray start --block`` in a process group of its own, so that it and every process it
    starts can be stopped together, and no other Ray on this machine is touched."""
    ray = Path(sys.executable).parent / "ray"
    ports = [
        f"--{name}={_free_port()}"
        for name in (
            "node-manager-port",
            "object-manager-port",
            "metrics-export-port",
            "dashboard-agent-listen-port",
            "dashboard-agent-grpc-port",
            "runtime-env-agent-port",
        )
    ]
    return subprocess.Popen(
        [
            str(ray),
            "start",
            "--block",
            "--num-cpus=1",
            f"--temp-dir={temp_dir}",
            *ports,
            *arguments,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, **_CLUSTER_ENV},
    )


def _stop(node: subprocess.Popen[bytes], temp_dir: Path) -> None:
    """Stops a node started by ``_ray_node``: its process group, then any process left that
    names this cluster's own temp dir (a worker that left the group); by process id only."""
    for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(node.pid, sig)
        except ProcessLookupError:
            break
        try:
            node.wait(wait)
            time.sleep(1)
        except subprocess.TimeoutExpired:
            continue
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(temp_dir).encode() in command:
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture
def two_node_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A head node and a worker node on this machine, one CPU each; the head's address."""
    import ray

    for name, value in _CLUSTER_ENV.items():  # this process joins the cluster as its driver
        monkeypatch.setenv(name, value)

    temp_dir = Path(tempfile.mkdtemp(prefix="qa-ray-", dir="/tmp"))  # short: Unix socket paths
    port = _free_port()
    address = f"{ray.util.get_node_ip_address()}:{port}"  # the address each node registers
    nodes = []
    try:
        nodes.append(
            _ray_node(
                ["--head", f"--port={port}", "--include-dashboard=false"],
                temp_dir,
            )
        )  # fmt: skip
        nodes.append(_ray_node([f"--address={address}"], temp_dir))
        deadline = time.monotonic() + 180
        alive = 0
        while alive < 2 and time.monotonic() < deadline:
            time.sleep(3)
            if any(node.poll() is not None for node in nodes):
                raise AssertionError("a ray start process exited before the cluster was up")
            try:
                ray.init(address=address, log_to_driver=False)
                alive = sum(1 for node in ray.nodes() if node["Alive"])
            except ConnectionError:
                pass
            finally:
                ray.shutdown()
        assert alive == 2, "the two Ray nodes did not come up within 3 minutes"
        yield address
    finally:
        for node in reversed(nodes):
            _stop(node, temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


@needs_ray
@pytest.mark.slow
def test_two_node_cluster_builds_the_seeds_with_both_nodes_embedding(
    two_node_cluster: str, tmp_path: Path, docs_dir: Path
) -> None:
    """Through a real ``qa index build --ray ADDRESS`` process, as a user joins a cluster (and
    apart from the Ray sessions other tests started in this process)."""
    index = tmp_path / "index"
    arguments = ["--docs", str(docs_dir), "--index", str(index), "--json"]
    command = [sys.executable, "-m", "qa.cli", "index", "build", "--ray", two_node_cluster]
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    built = subprocess.run(
        [*command, *arguments],
        capture_output=True,
        text=True,
        timeout=900,
        env={**env, **_CLUSTER_ENV},
    )
    assert built.returncode == 0, built.stderr[-3000:]
    report = json.loads(built.stdout.strip().splitlines()[-1])
    data = load_version(index).data
    assert report["documents"] == 5 and report["passages"] == len(data.passages)
    assert len(report["embedded_by"]) == 2, report["embedded_by"]  # two node ids
    assert all(texts > 0 for texts in report["embedded_by"].values())
    assert sum(report["embedded_by"].values()) == len(data.passages) + len(data.sentences)
