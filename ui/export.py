"""A conversation as a Markdown file: each question, its answer, and the sources with title, date,
page and the quoted passage, so the reader can keep or share what the documents said.

Document text and questions are escaped for Markdown: a document's ``![x](http://…)`` or
``<img>`` stays the characters it is in a Markdown viewer, as it does in the chat (``ui.render``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from qa.answering import Answer
from qa.citations import answer_sentence, quoted, source_parts, sources_heading

EXPORT_NAME = "conversation.md"
KEEP_EXPORTS_S = 3600  # our copies; Gradio keeps its own copy of each for as long as its cache
# What could make markup inside a line (links, images, HTML, emphasis, code, tables); text is
# always placed after a prefix ("> ", "**Answer:** "), so line-start markup cannot occur.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>!|~&])")


def escaped(value: str) -> str:
    """Plain text that Markdown shows as written: each character it could read as inline markup
    is backslash-escaped (``&`` too, so no entity is formed)."""
    return _MARKDOWN.sub(r"\\\1", value)


def conversation_markdown(answers: list[Answer]) -> str:
    """The Markdown of a conversation, oldest question first."""
    parts = ["# Conversation with the documents", ""]
    for number, answer in enumerate(answers, start=1):
        parts += [f"## {number}. {escaped(answer.question)}", ""]
        if answer.resolved_question:
            parts += [f"*Read as:* {escaped(answer.resolved_question)}", ""]
        parts += [f"**Answer:** {escaped(answer_sentence(answer))}", ""]
        if answer.passages:
            parts += [f"### {sources_heading(answer)}", ""]
        for passage in answer.passages:
            named = " · ".join(escaped(part) for part in source_parts(passage))
            parts += [
                f"{passage.rank}\\. **{named}** — `{passage.source.replace('`', '')}`",
                "",
                f"> {escaped(quoted(passage.text))}",
                "",
            ]
    return "\n".join(parts).rstrip() + "\n"


def export_folder() -> Path:
    return Path(tempfile.gettempdir()) / "qa-exports"


def write_export(answers: list[Answer]) -> Path | None:
    """The conversation written to a fresh file (None before the first answer); our older
    copies are removed as we go."""
    if not answers:
        return None
    folder = export_folder()
    _remove_old(folder)
    target = folder / uuid.uuid4().hex / EXPORT_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(conversation_markdown(answers), encoding="utf-8")
    return target


def _remove_old(folder: Path) -> None:
    if not folder.is_dir():
        return
    cutoff = time.time() - KEEP_EXPORTS_S
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:  # removed meanwhile by another request
            continue
