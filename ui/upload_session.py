"""Upload sessions: with ``QA_ADMIN_TOKEN`` set, the Documents tab trades the token for a
short-lived HttpOnly cookie, and Gradio's upload route stores bytes only for a request carrying one.

The browser sends a file to Gradio's upload route as soon as it is chosen, before any click
handler could check the token; the cookie is how that route knows the sender gave the token.
Cookies are signed with a key derived from the token and a random per-process salt, so they die
with the token, with the server process, and after ``UPLOAD_SESSION_S``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qa.access import token_matches
from qa.config import Settings

COOKIE = "qa_upload"
UPLOAD_SESSION_S = 15 * 60
SESSION_PATH = "/ui/upload-session"

_bearer = HTTPBearer(auto_error=False)


class UploadSessions:
    """Issues and checks the signed cookie values ``<session>.<expiry>.<signature>``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        salt = secrets.token_bytes(32)
        self._key = hashlib.sha256(salt + (settings.admin_token or "").encode("utf-8")).digest()

    def _sign(self, session: str, expiry: int) -> str:
        message = f"{session}.{expiry}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def issue(self) -> str:
        session = secrets.token_hex(16)
        expiry = int(time.time()) + UPLOAD_SESSION_S
        return f"{session}.{expiry}.{self._sign(session, expiry)}"

    def session_of(self, cookie: str | None) -> str | None:
        """The session id a valid, unexpired cookie carries; None for anything else."""
        parts = (cookie or "").split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        session, expiry, signature = parts[0], int(parts[1]), parts[2]
        if expiry < time.time() or not hmac.compare_digest(signature, self._sign(session, expiry)):
            return None
        return session


def cookie_from_headers(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The upload cookie's value in raw ASGI headers, if the request carries one."""
    for name, value in headers:
        if name != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            key, _, found = part.strip().partition("=")
            if key == COOKIE:
                return found
    return None


def upload_session_router(sessions: UploadSessions) -> APIRouter:
    """``POST /ui/upload-session``: the admin token in, the upload cookie out."""
    router = APIRouter(include_in_schema=False)

    @router.post(SESSION_PATH)
    def open_session(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Response:
        settings = sessions.settings
        if not settings.admin_token:
            return Response(status_code=204)  # nothing to prove: the host rule decides
        if credentials is None:
            raise HTTPException(401, "send 'Authorization: Bearer <QA_ADMIN_TOKEN>'")
        if not token_matches(credentials.credentials.encode("latin-1"), settings):
            raise HTTPException(403, "wrong admin token")
        response = Response(
            content=f'{{"expires_in": {UPLOAD_SESSION_S}}}', media_type="application/json"
        )
        response.set_cookie(
            COOKIE,
            sessions.issue(),
            max_age=UPLOAD_SESSION_S,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    return router
