"""kill -9 of a real ``qa index build --full`` writing into Milvus leaves what is served as it
was, and the next build completes and removes what the killed ones left.

Each build is killed at a seeded random moment after its first collection appears in Milvus
(the window in which a kill can leave something half written: before it, a build has only
loaded the model and embedded in memory). Run with ``pytest -s`` for the moments.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.config import PROJECT_ROOT, Settings
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.store import open_store
from qa.store.milvus import MilvusStore

pytestmark = pytest.mark.slow
pytest.importorskip("pymilvus", reason="the Milvus store needs pip install '.[scale]'")

KILLS = 4
SEED = 20261205
WINDOW_S = 3.0  # kill moments are spread over this long after the first collection appears
EXCERPT_CHARS = 1500


def test_kill_9_during_milvus_builds_keeps_the_served_version(
    milvus_settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    docs = tmp_path / "small"
    docs.mkdir()
    for seed in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))[:3]:
        (docs / seed.name).write_text(seed.read_text()[:EXCERPT_CHARS])
    settings = milvus_settings.model_copy(update={"docs_dir": docs})
    build_index(settings, embedder)
    store = open_store(settings)
    assert isinstance(store, MilvusStore)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(
        QA_STORE="milvus",
        QA_MILVUS_URI=settings.milvus_uri,
        QA_MILVUS_PREFIX=settings.milvus_prefix,
        QA_DOCS_DIR=str(docs),
        QA_INDEX_DIR=str(settings.index_dir),
    )
    command = [sys.executable, "-m", "qa.cli", "index", "build", "--full"]
    moments = random.Random(SEED)
    killed_mid_write = 0
    for _ in range(KILLS):
        served = store.current_version()
        before = set(store.client.list_collections())
        build = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        while not set(store.client.list_collections()) - before and build.poll() is None:
            time.sleep(0.05)
        time.sleep(moments.uniform(0, WINDOW_S))
        finished = build.poll() is not None
        build.send_signal(signal.SIGKILL)
        build.wait()
        now = store.current_version()
        print(f"killed {'after publishing' if finished else 'mid-write'}: serving {now}")
        if not finished and now == served:
            killed_mid_write += 1
        # Whatever the moment, what is served is a whole version.
        manifest = store.verify()
        index = store.open()
        assert manifest["counts"]["documents"] == 3 == len(index.data.documents)
        for row, span in enumerate(index.data.passages):
            assert (
                index.data.passage_text(row)
                == index.data.documents[span.doc_id].text[span.start : span.end]
            )
        rows, _ = index.dense_search(embedder.encode(["Ofsted rated the councils"])[0], 3)
        assert len(rows) == 3
    assert killed_mid_write >= 1  # the harness did hit the write window

    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    current = store.current_version()
    assert store.verify(current)["counts"]["documents"] == 3
    # Only the published version and the one before it remain: leftovers were removed.
    parsed = (store.parse(name) for name in store.client.list_collections())
    versions = {p[0] for p in parsed if p}
    assert len(versions) <= 2 and current in versions
