"""A serving process picks up a version another process published (``qa index build`` run in a
terminal), loading it in the background; a damaged one is refused, said so, and never served."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.config import Settings
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.service import QAService
from qa.store import CURRENT_FILE, current_version

NEW_DOCUMENT = "The Quillmarsh glass-eel festival was founded in 1873 by Ottoline Vesk.\n"


@pytest.fixture
def served(seeds_index: Settings, tmp_path: Path, embedder: Embedder) -> Iterator[QAService]:
    shutil.copytree(seeds_index.docs_dir, tmp_path / "docs")
    shutil.copytree(seeds_index.index_dir, tmp_path / "index")
    settings = seeds_index.model_copy(
        update={"docs_dir": tmp_path / "docs", "index_dir": tmp_path / "index"}
    )
    service = QAService(settings, embedder=embedder)
    service.warm_up()
    yield service


def wait_for_version(service: QAService, old: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        version = str(service.health()["index_version"])
        if version != old:
            return version
        time.sleep(0.1)
    return old


def test_a_version_built_elsewhere_is_swapped_in(served: QAService, embedder: Embedder) -> None:
    old = served.health()["index_version"]
    (served.docs_dir / "festival.txt").write_text(NEW_DOCUMENT)
    build_index(served.settings, embedder)  # what `qa index build` does, not through the service
    assert wait_for_version(served, old) == current_version(served.settings.index_dir)
    answer = served.ask("Who founded the glass-eel festival?")
    assert answer.passages[0].source == "festival.txt"
    assert served.health()["notice"] is None


def test_a_damaged_version_is_refused_and_the_current_one_kept(served: QAService) -> None:
    index_dir = served.settings.index_dir
    old = current_version(index_dir)
    damaged = old[:-6] + "ffffff"  # a valid version name, newer in nothing but its contents
    shutil.copytree(index_dir / old, index_dir / damaged)
    faiss_file = index_dir / damaged / "vectors.faiss"
    data = bytearray(faiss_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    faiss_file.write_bytes(bytes(data))
    (index_dir / CURRENT_FILE).write_text(damaged)

    deadline = time.monotonic() + 30
    while served.health()["notice"] is None and time.monotonic() < deadline:
        time.sleep(0.1)
    health = served.health()
    assert health["index_version"] == old
    assert damaged in str(health["notice"])
    assert served.ask("which borough stayed good in 2019").passages  # still answering
