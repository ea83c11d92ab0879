"""The HTTP API over the composed parts (``qa.app``): answers, documents, rebuilds. Domain errors
become 4xx here.

Questions go through the one ask seam (``qa.asking``): to answer worker processes when they run,
so the event loop here only moves bytes, else to threads of this process, a limited number at a
time. /health never waits for a thread or a worker.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from qa.access import is_loopback, token_matches
from qa.api_models import (
    AnswerOut,
    AnswerRequest,
    DeleteOut,
    DocumentOut,
    DocumentTextOut,
    ErrorOut,
    HealthOut,
    RebuildStartedOut,
    UploadOut,
    ValidationErrorOut,
)
from qa.app import QAApp
from qa.config import Settings
from qa.documents import SUPPORTED_LIST
from qa.errors import (
    BadQuestion,
    BadUpload,
    DocumentNotFound,
    IndexCorrupt,
    IndexMissing,
    ModelUnavailable,
    QAError,
    StorageUnavailable,
    UnreadableDocument,
    UnsupportedFileType,
    UploadTooLarge,
    WriterBusy,
)
from qa.feedback import MAX_FEEDBACK_BODY, BadFeedback, TooMuchFeedback
from qa.feedback_api import FEEDBACK_PATH, feedback_router
from qa.openai_api import CHAT_PATH, openai_router
from qa.page_images import pages_router
from qa.question import MAX_ASK_BODY

log = logging.getLogger(__name__)

MAX_FILES_PER_UPLOAD = 100
_MULTIPART_SLACK = 1024 * 1024  # boundaries and part headers on top of the files themselves

# The most specific class wins (Starlette looks the raised exception's classes up in MRO order).
_STATUS_FOR_ERROR: dict[type[QAError], int] = {
    DocumentNotFound: 404,
    UploadTooLarge: 413,
    UnsupportedFileType: 415,
    UnreadableDocument: 422,
    BadUpload: 422,
    BadQuestion: 422,
    WriterBusy: 409,
    StorageUnavailable: 503,
    BadFeedback: 422,
    TooMuchFeedback: 429,
    IndexMissing: 503,
    IndexCorrupt: 503,
    ModelUnavailable: 503,
    QAError: 400,
}
_STATUS_BY_NAME = {
    error_class.__name__: status for error_class, status in _STATUS_FOR_ERROR.items()
}


# auto_error off: a missing token is our 401 with a message, not FastAPI's bare one.
_bearer = HTTPBearer(auto_error=False, description="The server's QA_ADMIN_TOKEN.")


def _error(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorOut, "description": description}}


# Raised by FastAPI or Starlette before our code runs: a JSON body that is not UTF-8 or nests too
# deeply, or multipart data that does not parse.
_UNREADABLE_BODY = _error(400, "Body unreadable (not UTF-8 JSON, or malformed multipart data)")
_WRITE_ERRORS = {
    **_error(401, "Admin token required (QA_ADMIN_TOKEN is set)"),
    **_error(403, "Wrong admin token, or writes disabled on a non-loopback host"),
    **_error(409, "Another write ran longer than QA_WRITE_WAIT_S; nothing changed, try again"),
    **_error(503, "The index or docs folder cannot be written; nothing changed"),
}


def create_api(qa: QAApp) -> FastAPI:
    """The FastAPI app over ``qa``'s parts; the index and model load at start-up, not on first use."""
    service, library, settings = qa.service, qa.library, qa.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await qa.start()
        try:
            yield
        finally:
            await qa.close()

    app = FastAPI(
        title="qa",
        summary="Answers questions from your documents, citing exact passages.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.qa = qa
    _add_error_handlers(app)
    upload_limit = int(settings.max_upload_mb * 1024 * 1024)
    upload_body_limit = upload_limit + _MULTIPART_SLACK
    app.add_middleware(
        _DeclaredLengthLimit,
        limits={
            "/documents": (upload_body_limit, _too_large(settings)),
            "/answer": (MAX_ASK_BODY, f"request body over {MAX_ASK_BODY // 1024} KB"),
            CHAT_PATH: (MAX_ASK_BODY, f"request body over {MAX_ASK_BODY // 1024} KB"),
            FEEDBACK_PATH: (MAX_FEEDBACK_BODY, f"request body over {MAX_FEEDBACK_BODY // 1024} KB"),
        },
    )
    admin = [Depends(_admin_guard(settings))]
    app.include_router(openai_router(qa))  # /v1/...: reads, open as /answer is
    app.include_router(feedback_router(qa))  # readers' verdicts: open, small, rate-limited
    app.include_router(pages_router(qa))  # cited PDF pages as images: reads

    @app.post(
        "/answer",
        response_model=AnswerOut,
        max_body_size=MAX_ASK_BODY,
        responses={**_UNREADABLE_BODY, **_error(413, "Request body too large")},
        tags=["answers"],
    )
    async def answer(request: AnswerRequest) -> Response:
        """Answer a question with the best sentence and the cited passages, best first."""
        body = await qa.asker.answer_json(request.question, request.top_k, request.history)
        return Response(body, media_type="application/json")

    @app.get("/health", response_model=HealthOut, tags=["status"])
    async def health() -> dict[str, Any]:
        """Model, index size and version, and whether a rebuild is running (with progress)."""
        if service.loaded:  # a few attributes read: no thread, so no queue behind the answers
            return qa.health()
        return await run_in_threadpool(qa.health)  # the first load blocks

    @app.get("/documents", response_model=list[DocumentOut], tags=["documents"])
    def documents() -> list[dict[str, Any]]:
        """Every indexed document, without its text."""
        return service.documents()

    @app.get(
        "/documents/{doc_id}",
        response_model=DocumentTextOut,
        responses={
            **_error(404, "Unknown doc_id"),
            **_error(410, "No index version kept keeps this revision any more"),
        },
        tags=["documents"],
    )
    def document(
        doc_id: str,
        revision: Annotated[
            str | None,
            Query(
                pattern="^[0-9a-f]{64}$",
                description="A cited passage's revision: serve the text as it was then.",
            ),
        ] = None,
    ) -> dict[str, Any] | JSONResponse:
        """One document with its full text: what the passages' start/end offsets point into.

        With ``revision`` (a cited passage's), the text of that revision, as long as any index
        version kept on disk holds it (the current and the previous one); 410 Gone after that.
        """
        if revision is None:
            return service.document(doc_id)
        found = qa.revisions.find(doc_id, revision)
        if found is None:
            detail = (
                f"revision {revision[:12]}… of document {doc_id!r} is no longer kept by any "
                f"index version; GET /documents/{doc_id} serves its current text, if it has one"
            )
            return JSONResponse({"detail": detail}, status_code=410)
        return service.earlier_revision(found)

    @app.post(
        "/documents",
        response_model=UploadOut,
        dependencies=admin,
        max_body_size=upload_body_limit,
        responses={
            **_WRITE_ERRORS,
            **_UNREADABLE_BODY,
            **_error(413, "Upload over QA_MAX_UPLOAD_MB (all files of one request together)"),
            **_error(415, f"No file of a type we read ({SUPPORTED_LIST})"),
            422: {
                "model": ErrorOut | ValidationErrorOut,
                "description": "No file could be read (reasons in detail), or a field is invalid",
            },
        },
        tags=["documents"],
    )
    async def upload(
        files: Annotated[
            list[UploadFile], File(description="One or more documents.", min_length=1)
        ],
    ) -> dict[str, Any] | JSONResponse:
        """Store files in the docs folder under safe names and index them incrementally.

        The response lists what was added, updated (same name, new content), skipped (content
        already stored) and rejected, with the reason. If every file is rejected, the status says
        why (413, 415, 422).
        """
        if len(files) > MAX_FILES_PER_UPLOAD:
            raise BadUpload(f"at most {MAX_FILES_PER_UPLOAD} files per upload")
        received: list[tuple[str, bytes]] = []
        total = 0
        for file in files:
            data = await file.read(upload_limit + 1 - total)
            total += len(data)
            if total > upload_limit:  # checked as we read: a body sent without a length
                raise UploadTooLarge(_too_large(settings))
            received.append((file.filename or "", data))
        report = await run_in_threadpool(library.add_documents, received)
        if report["rejected"] and not (report["added"] or report["updated"] or report["skipped"]):
            return _all_rejected(report["rejected"])
        return report

    @app.delete(
        "/documents/{doc_id}",
        response_model=DeleteOut,
        dependencies=admin,
        responses={**_WRITE_ERRORS, **_error(404, "Unknown doc_id")},
        tags=["documents"],
    )
    def delete(doc_id: str) -> dict[str, Any]:
        """Remove a document's file and its passages (an incremental rebuild)."""
        return library.delete_document(doc_id)

    @app.post(
        "/index/rebuild",
        status_code=202,
        response_model=RebuildStartedOut,
        dependencies=admin,
        responses={**_WRITE_ERRORS, **_error(409, "Another rebuild or upload is running")},
        tags=["status"],
    )
    def rebuild(
        full: Annotated[bool, Query(description="Re-embed every document.")] = False,
    ) -> dict[str, Any]:
        """Start a rebuild in the background and return at once; GET /health shows progress.

        Questions keep being answered from the current index until the new one is complete.
        """
        if not library.start_rebuild(full):
            raise HTTPException(409, "a rebuild or upload is already running; see GET /health")
        return {"started": True, "full": full, "detail": "rebuild started; see GET /health"}

    return app


def _all_rejected(rejected: list[dict[str, str]]) -> JSONResponse:
    """Nothing was accepted: the first file's refusal sets the status, the detail lists them all."""
    status = _STATUS_BY_NAME.get(rejected[0]["error"], 422)
    reasons = "; ".join(f"{entry['name'][:80]!r}: {entry['reason']}" for entry in rejected)
    return JSONResponse({"detail": reasons}, status_code=status)


def _too_large(settings: Settings) -> str:
    return (
        f"upload over the {settings.max_upload_mb:g} MB limit "
        "(all files of one request together; QA_MAX_UPLOAD_MB)"
    )


def _admin_guard(settings: Settings) -> Callable[[HTTPAuthorizationCredentials | None], None]:
    """The check on write endpoints: the bearer token if one is set, else a loopback-only server."""

    def require_admin(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        token = settings.admin_token
        if token:
            if credentials is None:
                raise HTTPException(
                    401,
                    "this endpoint needs the header 'Authorization: Bearer <QA_ADMIN_TOKEN>'",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            # Constant time, on bytes: the header arrives decoded as latin-1, so encoding it back
            # gives the bytes the client sent (UTF-8 for a non-ASCII token).
            given = credentials.credentials.encode("latin-1")
            if not token_matches(given, settings):
                raise HTTPException(403, "wrong admin token")
            return
        if not is_loopback(settings.host):
            raise HTTPException(
                403,
                f"write endpoints are disabled: the server listens on {settings.host}, not a "
                "loopback address, and no admin token is set. To enable them, start the server "
                "with QA_ADMIN_TOKEN=<secret> and send 'Authorization: Bearer <secret>'.",
            )

    return require_admin


def _add_error_handlers(app: FastAPI) -> None:
    def domain_handler(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
        async def handle(request: Request, error: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(error)}, status_code=status)

        return handle

    for error_class, status in _STATUS_FOR_ERROR.items():
        app.add_exception_handler(error_class, domain_handler(status))

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        """422 in FastAPI's documented shape, each message naming its field; inputs not echoed."""
        assert isinstance(error, RequestValidationError)
        detail = []
        for item in error.errors():
            location = [part for part in item.get("loc", ()) if isinstance(part, (str, int))]
            if item.get("type") == "json_invalid":
                message = f"body is not valid JSON: {item.get('ctx', {}).get('error', '')}"
            else:
                field = ".".join(str(p) for p in location if p not in ("body", "query", "path"))
                message = f"{field or 'body'}: {item.get('msg', 'invalid')}"
            detail.append({"loc": location, "msg": message, "type": item.get("type", "invalid")})
        return JSONResponse({"detail": detail}, status_code=422)

    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        """Should never happen; if it does, the log has the traceback and the client does not."""
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
        return JSONResponse({"detail": "internal error; the server log has details"}, 500)

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, internal_error)


class _DeclaredLengthLimit:
    """A 413 with a JSON message for a body declared too large, before any of it is read.

    The routes' own ``max_body_size`` still counts the bytes of bodies sent without a length.
    Only the listed paths are limited, so an app mounted alongside keeps its own rules.
    """

    def __init__(self, app: ASGIApp, limits: dict[str, tuple[int, str]]) -> None:
        self.app = app
        self.limits = limits  # path -> (bytes, message)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rule = self.limits.get(scope.get("path", "")) if scope["type"] == "http" else None
        if rule is not None:
            length = dict(scope["headers"]).get(b"content-length", b"")
            if length.isdigit() and int(length) > rule[0]:
                await JSONResponse({"detail": rule[1]}, status_code=413)(scope, receive, send)
                return
        await self.app(scope, receive, send)
