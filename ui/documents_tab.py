"""The Documents tab: the document list, upload, delete, rebuild with progress, index status.

Writes go through the library (``qa.library``, the same object the API's endpoints call) and
follow the API's token rule (``qa.access``). With a token set, typing it also opens an upload session
(``ui.upload_session``): Gradio's upload route takes files only from a browser that has one.
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from qa.access import NO_TOKEN_REMOTE, token_required, write_refusal, writes_possible
from qa.app import QAApp
from qa.documents import SUPPORTED_LIST
from qa.errors import QAError
from ui import render
from ui.gradio_guard import uploaded_file
from ui.upload_session import SESSION_PATH, UPLOAD_SESSION_S

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # how often the status is refreshed while a rebuild runs
# Runs in the browser when the token field is left: trades the token for the upload cookie.
OPEN_UPLOAD_SESSION_JS = f"""
async (token) => {{
  if (!token) return "";
  let reply;
  try {{
    reply = await fetch("{SESSION_PATH.lstrip("/")}", {{
      method: "POST", credentials: "same-origin",
      headers: {{"Authorization": "Bearer " + token.trim()}}
    }});
  }} catch (error) {{ reply = null; }}
  if (reply && reply.ok)
    return '<div class="qa-message qa-ok">Token accepted: you can add documents for the next '
      + '{UPLOAD_SESSION_S // 60} minutes.</div>';
  return '<div class="qa-message qa-error">Wrong admin token: files cannot be added.</div>';
}}
"""


class DocumentActions:
    """The Documents tab's event handlers; they hold nothing but the composed parts."""

    def __init__(self, qa: QAApp) -> None:
        self.qa = qa
        self.service = qa.service  # reads
        self.library = qa.library  # writes
        self.settings = qa.settings

    def _choices(self) -> list[tuple[str, str]]:
        return [
            (f"{d['title']} ({d['source']})", d["doc_id"])
            for d in sorted(self.service.documents(), key=lambda d: str(d["title"]).lower())
        ]

    def refresh(self) -> tuple[str, str, Any]:
        """Index status, document list and the delete choices, as they are now."""
        return self._refresh(self.qa.health())

    def _refresh(self, health: dict[str, Any]) -> tuple[str, str, Any]:
        feedback = render.feedback_counts_html(self.qa.feedback.store.counts())
        return (
            render.status_html(health) + feedback,
            render.documents_html(self.service.documents()),
            gr.Dropdown(choices=self._choices(), value=None),
        )

    def upload(self, paths: list[str] | None, token: str) -> tuple[str, str, str, Any, None]:
        """Store and index the chosen files; reports what was added, updated, skipped, refused."""
        refusal = write_refusal(self.settings, token)
        if refusal:
            return (render.message_html(refusal, "error"), *self.refresh(), None)
        if not paths:
            return (
                render.message_html("Choose one or more files first.", "error"),
                *self.refresh(),
                None,
            )
        received = [uploaded_file(path) for path in paths]
        if any(path is None for path in received):  # named by a client, not uploaded by it
            message = render.message_html("Files must be sent through this page.", "error")
            return (message, *self.refresh(), None)
        # Gradio keeps each upload under its original file name; the service makes it safe.
        files = [(path.name, path.read_bytes()) for path in received if path is not None]
        try:
            report = self.library.add_documents(files)
            outcome = render.upload_report_html(report)
        except QAError as error:
            outcome = render.message_html(f"Upload failed: {error}", "error")
        return (outcome, *self.refresh(), None)

    def delete(self, doc_id: str | None, token: str) -> tuple[str, str, str, Any]:
        refusal = write_refusal(self.settings, token)
        if refusal:
            return (render.message_html(refusal, "error"), *self.refresh())
        if not doc_id:
            return (render.message_html("Choose a document to delete.", "error"), *self.refresh())
        try:
            title = self.service.document(doc_id)["title"]
            self.library.delete_document(doc_id)
            outcome = render.message_html(f"Deleted “{title}”.", "ok")
        except QAError as error:
            outcome = render.message_html(f"Delete failed: {error}", "error")
        return (outcome, *self.refresh())

    def rebuild(self, full: bool, token: str) -> tuple[str, str, gr.Timer]:
        """Start a rebuild in the background; the timer then polls its progress."""
        refusal = write_refusal(self.settings, token)
        if refusal:
            return render.message_html(refusal, "error"), self._status(), gr.Timer(active=False)
        if not self.library.start_rebuild(full):
            busy = "Another change to the index is running; try again when it has finished."
            return render.message_html(busy, "error"), self._status(), gr.Timer(active=True)
        kind = "a full" if full else "an incremental"
        message = render.message_html(f"Started {kind} rebuild of the index.", "ok")
        return message, self._status(), gr.Timer(active=True)

    def poll(self) -> tuple[str, str, Any, gr.Timer]:
        """Progress while the rebuild runs; the fresh list and a stopped timer once it is done."""
        # One snapshot decides both what is shown and whether to poll again: read twice, a
        # rebuild ending in between left "Rebuilding…" on screen with the timer stopped. A
        # rebuild swaps its index in before it stops running, so the list read after is fresh.
        health = self.qa.health()
        status, table, choices = self._refresh(health)
        return status, table, choices, gr.Timer(active=bool(health["rebuild"]["running"]))

    def _status(self) -> str:
        return render.status_html(self.qa.health())


def build_documents_tab(blocks: gr.Blocks, qa: QAApp) -> None:
    """Lay out the tab inside the current ``gr.Tab`` and wire its events."""
    actions = DocumentActions(qa)
    settings = qa.settings
    enabled = writes_possible(settings)

    plain: dict[str, Any] = {"js_on_load": None, "apply_default_css": False}
    status = gr.HTML(elem_id="qa-status", **plain)
    table = gr.HTML(elem_id="qa-documents", **plain)
    refresh_button = gr.Button("Refresh", size="sm", elem_id="qa-refresh")

    gr.HTML('<h3 class="qa-subhead">Change the documents</h3>', **plain)
    if not enabled:
        gr.HTML(render.message_html(NO_TOKEN_REMOTE, "error"), **plain)
    token = gr.Textbox(
        label="Admin token",
        type="password",
        placeholder="QA_ADMIN_TOKEN",
        visible=token_required(settings),
        elem_id="qa-token",
    )
    # Any file may be chosen: the library checks each by name and content and reports the ones
    # it refuses with their reasons, keeping the rest (a picker filtered by suffix could not
    # offer texts named with no type, as licences and READMEs are: "COPYING", "GPL-3").
    files = gr.File(
        label=f"Add documents ({SUPPORTED_LIST}, or plain text named with no type; several at once)",
        file_count="multiple",
        file_types=None,
        type="filepath",
        elem_id="qa-upload",
        interactive=enabled,
    )
    upload_button = gr.Button(
        "Upload and index", variant="primary", elem_id="qa-upload-button", interactive=enabled
    )
    with gr.Row(equal_height=True):
        choice = gr.Dropdown(
            label="Delete a document", choices=[], elem_id="qa-delete-choice", scale=4
        )
        delete_button = gr.Button(
            "Delete", variant="stop", elem_id="qa-delete", interactive=enabled, scale=1
        )
    with gr.Row(equal_height=True):
        full = gr.Checkbox(label="Full rebuild (re-embed every document)", scale=4)
        rebuild_button = gr.Button(
            "Rebuild index", elem_id="qa-rebuild", interactive=enabled, scale=1
        )
    outcome = gr.HTML(elem_id="qa-outcome", **plain)
    timer = gr.Timer(POLL_SECONDS, active=False)

    private: dict[str, Any] = {"api_visibility": "private"}
    if token_required(settings):
        for trigger in (token.blur, token.submit):
            trigger(None, [token], [outcome], js=OPEN_UPLOAD_SESSION_JS, **private)
    writes: dict[str, Any] = {"concurrency_id": "writes", "concurrency_limit": 1, **private}
    listing = [status, table, choice]
    blocks.load(actions.refresh, None, listing, **private)
    refresh_button.click(actions.refresh, None, listing, **private)
    upload_button.click(actions.upload, [files, token], [outcome, *listing, files], **writes)
    delete_button.click(actions.delete, [choice, token], [outcome, *listing], **writes)
    rebuild_button.click(actions.rebuild, [full, token], [outcome, status, timer], **writes)
    timer.tick(actions.poll, None, [*listing, timer], show_progress="hidden", **private)
