"""Gradio's upload route, which takes files before the Documents tab's token check runs: closed
where no write can succeed, refused before storing when a request would pass the cache's cap or
the client's share of it, and open for normal use otherwise."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa.access import NO_TOKEN_REMOTE
from qa.config import Settings
from qa.embedding import Embedder
from ui.gradio_guard import CACHE_FULL, folder_bytes
from ui.server import create_app

UPLOAD = "/gradio_api/upload"
FILE = {"files": ("note.txt", b"A short note about nothing in particular.\n", "text/plain")}


@pytest.fixture
def gradio_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "gradio-cache"
    cache.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    return cache


@pytest.fixture
def client_for(embedder: Embedder) -> Callable[[Settings], Iterator[TestClient]]:
    """The composed server over ``settings`` (its start-up loads the index), in a TestClient."""

    def start(settings: Settings) -> Iterator[TestClient]:
        with TestClient(create_app(settings, embedder)) as client:
            yield client

    return start


@pytest.fixture
def served(seeds_index: Settings, tmp_path: Path) -> Settings:
    index = tmp_path / "index"
    shutil.copytree(seeds_index.index_dir, index)
    return seeds_index.model_copy(update={"index_dir": index})


ClientFor = Callable[[Settings], Iterator[TestClient]]


def test_closed_on_a_public_host_without_a_token(
    served: Settings, gradio_cache: Path, client_for: ClientFor
) -> None:
    for client in client_for(served.model_copy(update={"host": "0.0.0.0"})):
        response = client.post(UPLOAD, files=FILE)
        assert response.status_code == 403
        assert response.json()["detail"] == NO_TOKEN_REMOTE
    assert folder_bytes(gradio_cache) == 0


def test_refused_once_the_cache_is_full_and_open_before(
    served: Settings, gradio_cache: Path, client_for: ClientFor
) -> None:
    settings = served.model_copy(update={"host": "127.0.0.1", "max_upload_cache_mb": 1.0})
    for client in client_for(settings):
        accepted = client.post(UPLOAD, files=FILE)
        assert accepted.status_code == 200, accepted.text
        assert folder_bytes(gradio_cache) > 0  # Gradio stored it: the guard let it through
        (gradio_cache / "filler.bin").write_bytes(b"\0" * (1024 * 1024))
        before = folder_bytes(gradio_cache)
        refused = client.post(UPLOAD, files=FILE)
        assert refused.status_code == 507
        assert refused.json()["detail"] == CACHE_FULL
        assert folder_bytes(gradio_cache) == before


def test_a_request_that_would_pass_the_cap_is_refused_before_storing(
    served: Settings, gradio_cache: Path, client_for: ClientFor
) -> None:
    settings = served.model_copy(update={"host": "127.0.0.1", "max_upload_cache_mb": 1.0})
    big = {"files": ("big.txt", b"word " * 150_000, "text/plain")}  # 750 KB
    for client in client_for(settings):
        assert client.post(UPLOAD, files=big).status_code == 200
        refused = client.post(UPLOAD, files=big)  # 1.5 MB with the first: over the cap
        assert refused.status_code == 507, refused.text
    assert folder_bytes(gradio_cache) < 1024 * 1024


def test_one_client_cannot_take_the_whole_cache(
    served: Settings, gradio_cache: Path, client_for: ClientFor
) -> None:
    settings = served.model_copy(
        update={"host": "127.0.0.1", "max_upload_cache_mb": 8.0, "max_upload_mb": 1.0}
    )
    part = {"files": ("part.txt", b"word " * 180_000, "text/plain")}  # 900 KB
    statuses = []
    for client in client_for(settings):
        statuses = [client.post(UPLOAD, files=part).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]  # a quarter of 8 MB is 2 MB
    assert folder_bytes(gradio_cache) < 2 * 1024 * 1024
