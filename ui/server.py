"""The one server process: the answer API, with the chat UI mounted at "/" on the same app.

The parts are built once by the composition root (``qa.app.compose``); this module only puts the
two faces on one app, so it alone knows both; the engine below never imports it. The API's routes
(/answer, /documents, /health, /docs …) are declared first, so they win over the chat's catch-all
mount at "/".
"""

from __future__ import annotations

import logging

import gradio as gr
from fastapi import FastAPI

from qa.api import create_api
from qa.app import compose
from qa.config import Settings
from qa.embedding import Embedder
from ui.app import build_chat
from ui.gradio_guard import GradioGuard
from ui.style import CSS, HEAD, THEME
from ui.upload_session import UploadSessions, upload_session_router

log = logging.getLogger(__name__)

# Gradio's queue looks for new chat events every 1 ms while idle (10 ms for progress): a thousand
# wake-ups a second, each needing the GIL, cost 5% of a core with nobody asking and interrupt the
# threads answering under load. A chat event waiting up to 20 ms more to start is not noticeable.
CHAT_QUEUE_POLL_S = 0.02
CHAT_PROGRESS_POLL_S = 0.05


def create_app(settings: Settings, embedder: Embedder | None = None) -> FastAPI:
    """The app ``qa serve`` runs: the API and the chat over the same composed parts (``embedder``
    shared if given, as tests share the session's)."""
    qa = compose(settings, embedder)
    app = create_api(qa)
    sessions = UploadSessions(settings)
    app.include_router(upload_session_router(sessions))  # before the chat's catch-all mount
    app.add_middleware(GradioGuard, settings=settings, sessions=sessions)
    chat = build_chat(qa)
    app = gr.mount_gradio_app(
        app,
        chat,
        path="/",
        server_name=settings.host,
        server_port=settings.port,
        theme=THEME,
        css=CSS,
        head=HEAD,
        # Gradio's own upload route gets the same per-file limit as POST /documents.
        max_file_size=int(settings.max_upload_mb * 1024 * 1024),
        footer_links=["api"],
        run_history=False,  # questions stay out of the browser's storage
        ssr_mode=False,  # no Node server: the page is rendered in the browser
    )
    slow_down_idle_polling(chat)
    check_file_paths_as_launched(chat)
    return app


def check_file_paths_as_launched(chat: gr.Blocks) -> None:
    """Make Gradio check where an event's file paths point, as it does for a launched app.

    Gradio skips that check until ``launch()`` has run, which a mounted app never calls; with
    it, an event's file must lie in Gradio's upload folder. ``GradioGuard`` refuses such paths
    before Gradio sees them; this is the second lock on the same door."""
    if hasattr(chat, "has_launched"):
        chat.has_launched = True
    else:
        log.warning("Gradio has changed: its own check of event file paths may be off")


def slow_down_idle_polling(chat: gr.Blocks) -> None:
    """Poll Gradio's event queue every 20 ms instead of every 1 ms (see CHAT_QUEUE_POLL_S).

    Gradio has no option for this; the attributes are its queue's own, checked so that a Gradio
    that renames them gets a warning rather than an error."""
    queue = getattr(chat, "_queue", None)
    names = ("sleep_when_free", "progress_update_sleep_when_free")
    if queue is None or not all(isinstance(getattr(queue, n, None), float) for n in names):
        log.warning("Gradio's queue has changed: its idle polling stays at Gradio's default")
        return
    queue.sleep_when_free = max(queue.sleep_when_free, CHAT_QUEUE_POLL_S)
    queue.progress_update_sleep_when_free = max(
        queue.progress_update_sleep_when_free, CHAT_PROGRESS_POLL_S
    )
