"""The chat's thumbs up and down: each becomes a verdict in the feedback file (``qa.feedback``),
through the same desk, checks and rate limit as ``POST /feedback``.

The browser sends only which message was liked; the answer it judges is the one the server holds
for this conversation (``Conversation.answers``), so a verdict cannot name spans the reader was
never shown.
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from qa.answering import Answer
from qa.app import QAApp
from qa.errors import QAError
from qa.feedback import Span, Verdict
from ui import render

log = logging.getLogger(__name__)


def verdict_for(answer: Answer, liked: bool) -> Verdict:
    """A thumb on an answer: on its sentence (and the passage citing it), or on "not found"."""
    cited = next((p for p in answer.passages if p.answer_start is not None), None)
    if not answer.found or cited is None or cited.answer_end is None:
        return Verdict(answer.question, "up" if liked else "down")
    return Verdict(
        question=answer.question,
        verdict="up" if liked else "down",
        passage=Span(cited.doc_id, cited.start, cited.end),
        answer=Span(cited.doc_id, cited.answer_start or 0, cited.answer_end),
    )


class ChatFeedback:
    """The ``.like`` handler of the chat."""

    def __init__(self, qa: QAApp) -> None:
        self.desk = qa.feedback
        self.service = qa.service

    def record(self, conversation: Any, like: gr.LikeData, request: gr.Request) -> str:
        """Store the reader's verdict on the liked answer; a one-line note of what happened."""
        index = like.index if isinstance(like.index, int) else like.index[0]
        answers: list[Answer] = getattr(conversation, "answers", [])
        turn = index // 2
        if index % 2 != 1 or not 0 <= turn < len(answers) or not isinstance(like.liked, bool):
            # A question, an answer no longer held, or a thumb taken back: nothing to record.
            return ""
        retriever = self.service.retriever
        peer = getattr(request, "client", None)  # gr.Request raises AttributeError without one
        client = peer.host if peer is not None else "chat"
        try:
            self.desk.submit(
                verdict_for(answers[turn], like.liked),
                retriever.data.documents,
                retriever.index.version,
                client,
            )
        except QAError as error:  # the document changed since, or too many at once
            log.info("chat feedback not stored: %s", error)
            return render.message_html(f"Feedback not stored: {error}", "error")
        thanks = "Thanks: marked as a good answer." if like.liked else "Thanks: marked as wrong."
        return render.message_html(thanks, "ok")
