"""kill -9 of a real ``qa index build --full`` while it writes never breaks the index.

One build is timed first: when its staging folder appears (writing starts) and when it publishes.
Then builds are killed with SIGKILL at seeded random moments spread over the writing and
publishing, counted from the moment the staging folder appears: the only window where a kill can
leave something half done (before it, a build has only loaded the model and embedded in memory).
After each kill, the current version must verify (``verify_version``, what ``qa index verify``
runs), the docs folder must be untouched, and the service must answer from a complete index:
every cited span exactly its document's text, with no fallback and no rebuild needed; its
start-up also removes what the killed build left. At the end a real ``qa index verify`` process
must pass and a real ``qa ask`` process answer. Run with ``pytest -s`` for the figures.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_server_process import complete

from qa.config import PROJECT_ROOT, Settings
from qa.documents import parse_document
from qa.embedding import Embedder
from qa.service import QAService
from qa.store import current_version, verify_version

pytestmark = pytest.mark.slow

KILLS = 10
SEED = 20261125
QUESTION = "Which councils were rated outstanding by Ofsted?"
EXCERPT_CHARS = 1500  # three short documents: each build is mostly the model loading


@pytest.fixture
def small(tmp_path: Path) -> Settings:
    """Three seed excerpts and no index yet."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for seed in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))[:3]:
        (docs / seed.name).write_text(seed.read_text()[:EXCERPT_CHARS])
    return Settings(docs_dir=docs, index_dir=tmp_path / "index")


def qa_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "qa.cli", *args]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("QA_")}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def start_build(settings: Settings) -> subprocess.Popen[bytes]:
    command = qa_command("index", "build", "--full", "--docs", str(settings.docs_dir))
    command += ["--index", str(settings.index_dir)]
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env()
    )


@dataclass(frozen=True)
class Timing:
    """One uninterrupted build, seconds from its start: when writing began, when it published."""

    staging: float
    published: float
    exited: float


def timed_build(settings: Settings) -> Timing:
    began = time.monotonic()
    process = start_build(settings)
    staging = published = None
    while process.poll() is None:
        now = time.monotonic() - began
        if staging is None and any(settings.index_dir.glob(".tmp-*")):
            staging = now
        if published is None and (settings.index_dir / "CURRENT").exists():
            published = now
        time.sleep(0.001)
    exited = time.monotonic() - began
    assert process.returncode == 0
    return Timing(staging or exited, published or exited, exited)


def kill_plan(timing: Timing) -> list[float]:
    """Delays after the staging folder appears, one per stratum of the writing window, seeded.

    The window is stretched by a quarter and 5 ms, so some kills land just after publishing
    (build times vary too much to aim by clock from the start; the staging folder is the mark).
    """
    rng = random.Random(SEED)
    writing = (timing.published - timing.staging) * 1.25 + 0.005
    return [(i + rng.random()) * writing / KILLS for i in range(KILLS)]


def kill_while_writing(settings: Settings, delay: float) -> bool:
    """Start a build and SIGKILL it ``delay`` seconds after its staging folder appears; False
    if it ended first."""
    process = start_build(settings)
    while process.poll() is None and not any(settings.index_dir.glob(".tmp-*")):
        time.sleep(0.0005)
    deadline = time.monotonic() + delay
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.0005)
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    return killed


def versions(settings: Settings) -> set[str]:
    return {p.name for p in settings.index_dir.glob("v-*")}


def outcome(settings: Settings, killed: bool, current_before: str, before: set[str]) -> str:
    """Where the kill landed, judged from what it left on disk."""
    if not killed:
        return "finished"
    if current_version(settings.index_dir) != current_before:
        return "killed after publishing"
    if versions(settings) - before:
        return "killed between rename and CURRENT"
    if any(settings.index_dir.glob(".tmp-*")):
        return "killed while writing"
    return "killed before writing"


def docs_texts(docs_dir: Path) -> dict[str, str]:
    documents = [parse_document(p.read_bytes(), p.name) for p in docs_dir.iterdir() if p.is_file()]
    return {d.doc_id: d.text for d in documents}


def test_kill_9_during_full_builds(small: Settings, embedder: Embedder) -> None:
    docs_before = snapshot(small.docs_dir)
    texts = docs_texts(small.docs_dir)
    timing = timed_build(small)
    outcomes: Counter[str] = Counter()
    for delay in kill_plan(timing):
        before = current_version(small.index_dir)
        versions_before = versions(small)
        killed = kill_while_writing(small, delay)
        outcomes[outcome(small, killed, before, versions_before)] += 1

        verify_version(small.index_dir)  # raises IndexCorrupt with the reason
        assert snapshot(small.docs_dir) == docs_before

        service = QAService(small, embedder)
        answer = service.ask(QUESTION).as_dict()
        assert service.notice is None  # the current version was intact: nothing to fall back on
        assert complete(answer, texts), answer
        assert service.health()["documents"] == len(texts)
        leftovers = [
            p.name for p in small.index_dir.iterdir() if p.name.startswith((".tmp-", ".CURRENT."))
        ]
        assert leftovers == []  # the service's start-up removed what the killed build left

    verify = subprocess.run(
        qa_command("index", "verify", "--index", str(small.index_dir)),
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("ok: ")
    asked = subprocess.run(
        qa_command("ask", "--json", QUESTION, "--docs", str(small.docs_dir))
        + ["--index", str(small.index_dir)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )
    assert asked.returncode == 0, asked.stderr
    assert complete(json.loads(asked.stdout.strip().splitlines()[-1]), texts)
    print(
        f"\nkill -9 during `qa index build --full`: {sum(outcomes.values())} builds, "
        f"{dict(outcomes)}; a build takes {timing.exited:.1f} s: writing {timing.staging:.2f} s "
        f"to {timing.published:.2f} s; "
        "verify passed, answers complete and no document lost every time"
    )
    shutil.rmtree(small.index_dir)
