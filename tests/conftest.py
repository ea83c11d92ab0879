"""Shared fixtures: every data path points into tmp_path, and one real model serves the session."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bench.server import LiveServer, live_server
from qa.config import PROJECT_ROOT, Settings
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.retrieval import Retriever
from qa.service import QAService

if TYPE_CHECKING:
    from playwright.sync_api import Browser

SEEDS = PROJECT_ROOT / "seeds"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2, loaded once for the whole test session."""
    model = Embedder()
    model.encode(["warm up"])
    return model


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """A private copy of the seed documents that a test may change."""
    target = tmp_path / "docs"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, docs_dir: Path) -> Settings:
    """In-process answers (no answer worker processes): tests/test_answer_workers.py and the
    API and server tests cover the workers. The docs folder is compared with the index at
    start-up only (tests/test_reconcile.py covers the schedule)."""
    return Settings(
        docs_dir=docs_dir,
        index_dir=tmp_path / "index",
        answer_workers=0,
        reconcile_every_s=0,
        data_dir=tmp_path / "data",
    )


@pytest.fixture
def retriever_over(tmp_path: Path, embedder: Embedder) -> Callable[[dict[str, str]], Retriever]:
    """A retriever over documents the test writes ({file name: content}), indexed in tmp_path."""

    def build(files: dict[str, str]) -> Retriever:
        written = tmp_path / "written"
        written.mkdir()
        for name, content in files.items():
            (written / name).write_text(content)
        settings = Settings(docs_dir=written, index_dir=tmp_path / "index", answer_workers=0)
        build_index(settings, embedder)
        return QAService(settings, embedder=embedder).retriever

    return build


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """One index over the seeds, built once, for read-only tests."""
    from qa.indexer import build_index

    root = tmp_path_factory.mktemp("seeds-index")
    shutil.copytree(SEEDS, root / "docs")
    built = Settings(
        docs_dir=root / "docs",
        index_dir=root / "index",
        data_dir=root / "data",
        answer_workers=0,
        reconcile_every_s=0,
    )
    build_index(built, embedder)
    return built


@pytest.fixture(scope="session")
def copy_seeds_index(seeds_index: Settings) -> Callable[[Path], Settings]:
    """Copies the seeds and their session index into ``root/docs`` and ``root/index``, so a server
    started over them loads the index instead of building it again; the copy's settings."""

    def copy(root: Path) -> Settings:
        shutil.copytree(seeds_index.docs_dir, root / "docs")
        shutil.copytree(seeds_index.index_dir, root / "index")
        return seeds_index.model_copy(
            update={
                "docs_dir": root / "docs",
                "index_dir": root / "index",
                "data_dir": root / "data",
            }
        )

    return copy


@pytest.fixture(scope="session")
def serve_seeds(
    tmp_path_factory: pytest.TempPathFactory, copy_seeds_index: Callable[[Path], Settings]
) -> Callable[..., AbstractContextManager[LiveServer]]:
    """``serve_seeds(name, env)``: a real ``qa serve`` over a private copy of the seeds and their
    session index (so it only loads), with a data folder of its own (feedback stays there);
    ``env`` adds ``QA_*`` settings. A context manager: the server stops on leaving it."""

    @contextmanager
    def serve(name: str, env: Mapping[str, str] | None = None) -> Iterator[LiveServer]:
        copied = copy_seeds_index(tmp_path_factory.mktemp(name))
        environment = {"QA_DATA_DIR": str(copied.data_dir), **(env or {})}
        with live_server(copied.docs_dir, copied.index_dir, env=environment) as running:
            yield running

    return serve


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's) for one module's browser tests."""
    from playwright.sync_api import sync_playwright

    from ui.screenshots import launch_browser

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real Milvus server (Milvus Lite's) for the session; tests keep apart by prefix."""
    pytest.importorskip("pymilvus", reason="the Milvus store needs pip install '.[scale]'")
    from bench.milvus_server import milvus_server

    with milvus_server(tmp_path_factory.mktemp("milvus") / "data") as server:
        yield server.uri


@pytest.fixture
def milvus_settings(
    settings: Settings, milvus_uri: str, request: pytest.FixtureRequest
) -> Settings:
    """``settings`` with the Milvus store, under a prefix of this test's own."""
    prefix = "t" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12] + "_"
    return settings.model_copy(
        update={"store": "milvus", "milvus_uri": milvus_uri, "milvus_prefix": prefix}
    )
