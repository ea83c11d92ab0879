"""A guard in front of Gradio's routes, which accept data before any of our handlers runs.

- **Files by path.** A Gradio event's data may hold ``FileData`` objects naming a path on the
  server; Gradio copies what they name into its cache, and a mounted app (unlike a launched one)
  does not check where the path points. So every JSON body sent to a Gradio route is read here
  first, and a file object is let through only if it names a file that Gradio's upload route
  stored for the same client during this server's run; everything else is refused with 403
  before Gradio sees it.
- **Bodies.** Gradio's routes take JSON of any size; here they take at most
  ``MAX_GRADIO_BODY`` (a question, a token, a choice), counted as the body arrives.
- **Uploads.** Gradio's upload route stores bytes before the Documents tab's token check runs.
  It is closed where no write can succeed (a public host without a token), needs an upload
  cookie when a token is set (``ui.upload_session``), needs a declared length, and is refused
  *before* storing anything when the request would take the cache past
  ``QA_MAX_UPLOAD_CACHE_MB`` or the client past its share of it within the cache's lifetime.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from gradio.utils import get_upload_folder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.access import NO_TOKEN_REMOTE, writes_possible
from qa.config import Settings
from qa.question import MAX_ASK_BODY
from ui.upload_session import UploadSessions, cookie_from_headers

GRADIO_PREFIX = "/gradio_api/"
UPLOAD_PATH_SUFFIX = "/gradio_api/upload"
MAX_GRADIO_BODY = MAX_ASK_BODY  # the same bound as an /answer body
CACHE_LIFETIME_S = 3600  # Gradio empties its cache of files older than this (ui.app)
CLIENT_SHARE = 0.25  # the part of the upload cache one client may fill within its lifetime
CACHE_FULL = "The upload space is full; try again in an hour, or ask the administrator."
NOT_UPLOADED = "Files must be sent through this page's upload first."
NEED_SESSION = "Enter the admin token on the Documents tab before choosing files (uploads need it)."


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


def uploaded_file(path: str) -> Path | None:
    """``path`` if it is a regular file inside Gradio's upload folder (links resolved), else None:
    the last check before an event handler reads a file a client named."""
    folder = os.path.realpath(get_upload_folder())
    real = os.path.realpath(path)
    if os.path.commonpath([folder, real]) != folder or not os.path.isfile(real):
        return None
    return Path(real)


@dataclass
class _ClientUploads:
    paths: dict[str, float] = field(default_factory=dict)  # real path -> when stored
    sizes: list[tuple[float, int]] = field(default_factory=list)  # (when, request bytes)


@dataclass
class UploadLedger:
    """What the upload route stored for each client during this run, and what is on its way.

    Everything here runs on the event loop, so plain dictionaries need no lock. A request's
    size is its declared length: known before anything is stored, and never less than the files.
    """

    cache_limit: int
    client_limit: int
    clients: dict[str, _ClientUploads] = field(default_factory=dict)
    reserved: int = 0  # declared bytes of uploads still being received

    def refusal(self, client: str, length: int) -> tuple[int, str] | None:
        """Why an upload of ``length`` bytes from ``client`` may not start, or None."""
        self._forget_expired()
        if folder_bytes(Path(get_upload_folder())) + self.reserved + length > self.cache_limit:
            return 507, CACHE_FULL
        uploads = self.clients.get(client)
        held = sum(size for _, size in uploads.sizes) if uploads else 0
        if held + length > self.client_limit:
            mb = self.client_limit / (1024 * 1024)
            return 429, f"You have used your share of the upload space ({mb:.0f} MB an hour)."
        return None

    def record(self, client: str, paths: list[str], length: int) -> None:
        now = time.time()
        uploads = self.clients.setdefault(client, _ClientUploads())
        uploads.sizes.append((now, length))
        for path in paths:
            uploads.paths[os.path.realpath(path)] = now

    def owns(self, client: str, path: str) -> bool:
        """True if ``path`` names a file stored for ``client`` (links and ".." resolved first)."""
        self._forget_expired()
        uploads = self.clients.get(client)
        return uploads is not None and os.path.realpath(path) in uploads.paths

    def _forget_expired(self) -> None:
        oldest = time.time() - CACHE_LIFETIME_S
        for client, uploads in list(self.clients.items()):
            uploads.paths = {p: at for p, at in uploads.paths.items() if at >= oldest}
            uploads.sizes = [(at, size) for at, size in uploads.sizes if at >= oldest]
            if not uploads.sizes:
                del self.clients[client]


class GradioGuard:
    """Pure ASGI middleware applying the rules in the module docstring."""

    def __init__(self, app: ASGIApp, settings: Settings, sessions: UploadSessions) -> None:
        self.app = app
        self.settings = settings
        self.sessions = sessions
        cache_limit = int(settings.max_upload_cache_mb * 1024 * 1024)
        per_file = int(settings.max_upload_mb * 1024 * 1024)
        self.ledger = UploadLedger(cache_limit, max(int(cache_limit * CLIENT_SHARE), per_file))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or GRADIO_PREFIX not in scope["path"]:
            await self.app(scope, receive, send)
        elif scope["method"] == "POST" and scope["path"].rstrip("/").endswith(UPLOAD_PATH_SUFFIX):
            await self._upload(scope, receive, send)
        elif scope["method"] in ("POST", "PUT", "PATCH"):
            await self._checked(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def client(self, scope: Scope) -> str | None:
        """Who is asking: the upload session when a token is set (None without a valid one),
        else the client's address."""
        if self.settings.admin_token:
            session = self.sessions.session_of(cookie_from_headers(scope["headers"]))
            return f"session:{session}" if session else None
        address = scope.get("client")
        return f"address:{address[0] if address else '?'}"

    # --- events and other JSON routes ---------------------------------------------------------

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = _declared_length(scope)
        if length is not None and length > MAX_GRADIO_BODY:
            await _refuse(send, 413, f"request body over {MAX_GRADIO_BODY // 1024} KB")
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > MAX_GRADIO_BODY:
                await _refuse(send, 413, f"request body over {MAX_GRADIO_BODY // 1024} KB")
                return
            more = message.get("more_body", False)
        if body.strip():
            refusal = self._file_refusal(scope, bytes(body))
            if refusal is not None:
                await _refuse(send, *refusal)
                return
        await self.app(scope, _replay(bytes(body), receive), send)

    def _file_refusal(self, scope: Scope, body: bytes) -> tuple[int, str] | None:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            try:  # Gradio's parser also takes NaN and Infinity: read what it would read
                data = json.loads(body)
            except (ValueError, RecursionError):
                return 400, "request body is not JSON"
        client = self.client(scope)
        for path in _file_paths(data):
            if client is None or not self.ledger.owns(client, path):
                return 403, NOT_UPLOADED
        return None

    # --- the upload route ---------------------------------------------------------------------

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not writes_possible(self.settings):
            await _refuse(send, 403, NO_TOKEN_REMOTE)
            return
        client = self.client(scope)
        if client is None:
            await _refuse(send, 401, NEED_SESSION)
            return
        length = _declared_length(scope)
        if length is None:
            await _refuse(send, 411, "uploads must declare their length (Content-Length)")
            return
        refusal = self.ledger.refusal(client, length)
        if refusal is not None:
            await _refuse(send, *refusal)
            return
        self.ledger.reserved += length
        status = 0
        reply = bytearray()

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status == 200:
                reply.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            self.ledger.reserved -= length
        if status == 200:
            try:
                paths = orjson.loads(bytes(reply))
            except orjson.JSONDecodeError:
                paths = []
            self.ledger.record(client, [p for p in paths if isinstance(p, str)], length)


def _file_paths(value: Any) -> Iterator[str]:
    """Every ``path`` of a file object (any dict with a string ``path``) inside ``value``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("path"), str):
                yield item["path"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body read already, then the real channel."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse(send: Send, status: int, message: str) -> None:
    body = orjson.dumps({"detail": message})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
