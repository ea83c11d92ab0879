"""A guard in front of Gradio's own upload route, which takes files before any click handler runs.

The Documents tab checks the admin token when its button is pressed, but the browser has sent
the file to ``/gradio_api/upload`` already, into Gradio's cache, whoever sent it. So: where no
write can ever succeed (a non-loopback host without a token), that route is closed; elsewhere
it is refused once the cache holds ``max_upload_cache_mb``, until Gradio's hourly clean-up
(``delete_cache`` in ``ui.app``) frees room. Each file's own limit is Gradio's ``max_file_size``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from gradio.utils import get_upload_folder
from starlette.types import ASGIApp, Receive, Scope, Send

from qa.access import NO_TOKEN_REMOTE, writes_possible
from qa.config import Settings

UPLOAD_PATH_SUFFIX = "/gradio_api/upload"
CACHE_FULL = "The upload space is full; try again in an hour, or ask the administrator."


def folder_bytes(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (0 if it does not exist); links not followed."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:  # removed meanwhile by Gradio's clean-up
                continue
    return total


class GradioUploadGuard:
    """Pure ASGI middleware: refuses POSTs to Gradio's upload route as described above."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.cache_limit = int(settings.max_upload_cache_mb * 1024 * 1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"].rstrip("/")
            if path.endswith(UPLOAD_PATH_SUFFIX):
                refusal = self._refusal()
                if refusal is not None:
                    await _send_error(send, *refusal)
                    return
        await self.app(scope, receive, send)

    def _refusal(self) -> tuple[int, str] | None:
        if not writes_possible(self.settings):
            return 403, NO_TOKEN_REMOTE
        if folder_bytes(Path(get_upload_folder())) >= self.cache_limit:
            return 507, CACHE_FULL
        return None


async def _send_error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
