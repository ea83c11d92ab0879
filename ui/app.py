"""The web chat: a Gradio app over the composed parts (``qa.app``); questions go through the one
ask seam (``qa.asking``), as the API's do, never through the HTTP API.

``build_chat(qa)`` returns the Blocks; ``ui.server`` mounts them at "/" on the API's FastAPI app,
passing ``style.THEME`` and ``style.CSS``. ``python -m ui.app`` runs the chat alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import anyio
import gradio as gr

from qa.answering import Answer
from qa.app import QAApp
from qa.errors import QAError
from qa.question import MAX_HISTORY, MAX_QUESTION_CHARS
from ui import render
from ui.documents_tab import build_documents_tab
from ui.export import write_export
from ui.feedback import ChatFeedback

log = logging.getLogger(__name__)

EXAMPLES = (
    "Which borough stayed good in 2019?",
    "Which council was rated good rather than outstanding in 2016?",
    "What did Ofsted say about leadership in Kensington and Chelsea?",
    "Who was Ofsted's chief inspector when the 2016 reports came out?",
)
TOP_K = 5
HEADER = (
    '<div class="qa-header"><h1>Ask the documents</h1><p>Answers are sentences quoted from '
    'your documents; every one names its source. <a href="/docs">HTTP API</a></p></div>'
)

Messages = list[dict[str, Any]]


@dataclass
class Conversation:
    """One browser's conversation, held by the server (a ``gr.State``): the browser sends only
    its question, never the history, so an event's body stays small and holds no files."""

    messages: Messages = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # the questions as the service understood them
    answers: list[Answer] = field(default_factory=list)  # one per assistant message, in order


class ChatActions:
    """The chat tab's event handlers; they hold nothing but the composed parts."""

    def __init__(self, qa: QAApp) -> None:
        self.asker = qa.asker
        self.revisions = qa.revisions
        self.service = qa.service
        self.feedback = ChatFeedback(qa)

    async def ask(
        self, question: str, conversation: Conversation | None
    ) -> tuple[Messages, str, Conversation, str]:
        """Answer one question (earlier questions of the conversation are the follow-up context).

        Returns the chat with the new turn, the source cards, the updated conversation and an
        empty question box.
        """
        conversation = conversation or Conversation()
        chat, asked = list(conversation.messages), list(conversation.asked)
        if not (question or "").strip():
            raise gr.Error("Type a question first.")
        try:
            # The seam normalises the question; the answer carries it as it was understood.
            answer = await self.asker.answer(question[:MAX_QUESTION_CHARS], TOP_K, asked or None)
        except QAError as error:  # e.g. an unreadable index: a message, never a traceback
            log.warning("question %r failed: %s", question[:200], error)
            raise gr.Error(f"Could not answer: {error}") from error
        chat += [
            {"role": "user", "content": render.question_html(answer.question)},
            {"role": "assistant", "content": render.answer_html(answer)},
        ]
        # Remember the question as the service understood it, so a follow-up of a follow-up
        # ("and in 2016?" then "what about Westminster?") still has a whole question to build on.
        asked = (asked + [answer.resolved_question or answer.question])[-MAX_HISTORY:]
        # "Show in document" shows each passage in the revision it was cited from, not in
        # whatever the file holds now (an update since would shift every offset).
        cited = [(p.doc_id, p.revision) for p in answer.passages]
        texts = await anyio.to_thread.run_sync(self.revisions.texts, cited)
        chat = chat[-2 * MAX_HISTORY :]  # held per browser by the server: bounded too
        answers = [*conversation.answers, answer][-MAX_HISTORY:]  # in step with chat's turns
        return chat, render.sources_html(answer, texts), Conversation(chat, asked, answers), ""

    def new_conversation(self) -> tuple[Messages, str, Conversation, str]:
        return [], render.sources_html(None, {}), Conversation(), ""


def exported(conversation: Conversation | None) -> Any:
    """The export button for the conversation: its Markdown file, or disabled with none yet."""
    path = write_export(conversation.answers if conversation else [])
    return gr.DownloadButton(value=str(path) if path else None, interactive=path is not None)


def build_chat(qa: QAApp) -> gr.Blocks:
    """The whole web app: a Chat tab and a Documents tab over the same composed parts."""
    actions = ChatActions(qa)
    # delete_cache: Gradio's copies of uploaded files are removed after an hour.
    with gr.Blocks(title="Ask the documents", delete_cache=(3600, 3600)) as blocks:
        gr.HTML(HEADER, js_on_load=None, apply_default_css=False)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    show_label=False,
                    elem_id="qa-chat",
                    height=340,
                    # Messages are HTML built (and escaped) by ui.render; no Markdown, no LaTeX.
                    render_markdown=False,
                    sanitize_html=True,
                    allow_tags=False,
                    latex_delimiters=[],
                    feedback_options=("Like", "Dislike"),  # thumbs: ui.feedback
                    buttons=[],
                    placeholder="Ask about the documents, or pick an example below.",
                )
                with gr.Row(elem_classes="qa-ask-row", equal_height=True):
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Ask a question about the documents",
                        max_length=MAX_QUESTION_CHARS,
                        elem_id="qa-question",
                        scale=6,
                        min_width=300,  # on a phone it takes its own line, the buttons the next
                        submit_btn=False,
                    )
                    ask_button = gr.Button(
                        "Ask", variant="primary", elem_id="qa-ask", scale=1, min_width=100
                    )
                    new_button = gr.Button("New chat", elem_id="qa-new", scale=1, min_width=100)
                    export_button = gr.DownloadButton(
                        "Export (Markdown)",
                        value=None,
                        elem_id="qa-export",
                        scale=1,
                        min_width=100,
                        interactive=False,  # until there is an answer to export
                    )
                with gr.Row(elem_classes="qa-examples"):
                    example_buttons = [
                        gr.Button(example, size="sm", elem_classes="qa-example")
                        for example in EXAMPLES
                    ]
                sources = gr.HTML(
                    render.sources_html(None, {}),
                    elem_id="qa-sources",
                    js_on_load=None,
                    apply_default_css=False,
                )
                feedback_note = gr.HTML(
                    "", elem_id="qa-feedback-note", js_on_load=None, apply_default_css=False
                )
                conversation = gr.State(None)

            with gr.Tab("Documents", id="documents"):
                build_documents_tab(blocks, qa)

        outputs = [chatbot, sources, conversation, question]
        shared: dict[str, Any] = {"concurrency_limit": 4, "concurrency_id": "ask"}
        # After each answer the export button gets the conversation so far (ui.export).
        export: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
        ask_button.click(
            actions.ask, [question, conversation], outputs, api_name="ask", **shared
        ).success(exported, [conversation], [export_button], **export)
        question.submit(
            actions.ask, [question, conversation], outputs, api_visibility="private", **shared
        ).success(exported, [conversation], [export_button], **export)
        for button in example_buttons:  # a button's value is its label: the example question
            button.click(
                actions.ask, [button, conversation], outputs, api_visibility="private", **shared
            ).success(exported, [conversation], [export_button], **export)
        chatbot.like(
            actions.feedback.record, [conversation], [feedback_note], api_visibility="private"
        )
        for clear in (new_button.click, chatbot.clear):
            clear(actions.new_conversation, None, outputs, api_visibility="private").then(
                exported, [conversation], [export_button], **export
            )
    return blocks


def main() -> None:
    """Run the chat alone (no API) for development: ``python -m ui.app``."""
    from qa.app import compose
    from qa.config import get_settings
    from ui.style import CSS, HEAD, THEME

    logging.basicConfig(level=logging.INFO)
    settings = get_settings()
    build_chat(compose(settings)).launch(
        server_name=settings.host, server_port=settings.port, theme=THEME, css=CSS, head=HEAD
    )


if __name__ == "__main__":
    main()
