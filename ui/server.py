"""The one server process: the answer API, with the chat UI mounted at "/" on the same app.

This is the composition module: it alone knows both faces; the engine below never imports it.
The API's routes (/answer, /documents, /health, /docs …) are declared first, so they win over
the chat's catch-all mount at "/".
"""

from __future__ import annotations

import gradio as gr
from fastapi import FastAPI

from qa.api import create_api
from qa.config import Settings
from qa.service import QAService
from ui.app import build_chat
from ui.style import CSS, HEAD, THEME
from ui.upload_guard import GradioUploadGuard


def create_app(settings: Settings) -> FastAPI:
    """The app ``qa serve`` runs: one shared QAService behind the API and the chat."""
    service = QAService(settings)
    app = create_api(service)
    app.add_middleware(GradioUploadGuard, settings=settings)
    return gr.mount_gradio_app(
        app,
        build_chat(service),
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
