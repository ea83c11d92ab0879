"""Gradio's upload route, which takes files before the Documents tab's token check runs: closed
where no write can succeed, and refused once its cache is full; open for normal use otherwise."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa.access import NO_TOKEN_REMOTE
from qa.config import Settings
from ui.server import create_app
from ui.upload_guard import CACHE_FULL, folder_bytes

UPLOAD = "/gradio_api/upload"
FILE = {"files": ("note.txt", b"A short note about nothing in particular.\n", "text/plain")}


@pytest.fixture
def gradio_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "gradio-cache"
    cache.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    return cache


def client_for(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def served(seeds_index: Settings, tmp_path: Path) -> Settings:
    index = tmp_path / "index"
    shutil.copytree(seeds_index.index_dir, index)
    return seeds_index.model_copy(update={"index_dir": index})


def test_closed_on_a_public_host_without_a_token(served: Settings, gradio_cache: Path) -> None:
    for client in client_for(served.model_copy(update={"host": "0.0.0.0"})):
        response = client.post(UPLOAD, files=FILE)
        assert response.status_code == 403
        assert response.json()["detail"] == NO_TOKEN_REMOTE
    assert folder_bytes(gradio_cache) == 0


def test_refused_once_the_cache_is_full_and_open_before(
    served: Settings, gradio_cache: Path
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
