"""The composed server: the chat's event queue does not busy-poll while idle."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient
from starlette.routing import Mount

from qa.config import Settings
from qa.embedding import Embedder
from ui.server import CHAT_PROGRESS_POLL_S, CHAT_QUEUE_POLL_S, create_app


def test_chat_queue_polls_slowly_once_the_server_has_started(
    seeds_index: Settings, tmp_path: Path, embedder: Embedder
) -> None:
    index = tmp_path / "index"
    shutil.copytree(seeds_index.index_dir, index)
    app = create_app(seeds_index.model_copy(update={"index_dir": index}), embedder)
    with TestClient(app) as client:
        mounted = [
            r.app for r in app.routes if isinstance(r, Mount) and hasattr(r.app, "get_blocks")
        ]
        assert len(mounted) == 1
        queue = mounted[0].get_blocks()._queue
        assert queue.sleep_when_free >= CHAT_QUEUE_POLL_S  # Gradio's default is 0.001
        assert queue.progress_update_sleep_when_free >= CHAT_PROGRESS_POLL_S
        assert client.get("/gradio_api/info").status_code == 200  # the chat is still served
