"""The chat's event handlers in-process, over the real composed parts and the real model: answers
and follow-ups, and the Documents tab's writes under the token rule."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import gradio as gr
import pytest

from qa.access import NO_TOKEN_REMOTE, WRONG_TOKEN
from qa.app import QAApp, compose
from qa.config import Settings
from qa.embedding import Embedder
from ui.app import ChatActions, build_chat
from ui.documents_tab import DocumentActions

SAMPLE = "Which borough stayed good in 2019?"
NEW_DOCUMENT = (
    "Quillfeather Works report\n\nThe Quillfeather Works pumps water to the Marrowgate "
    "district every night.\n"
)


@pytest.fixture(scope="module")
def seeds_app(seeds_index: Settings, embedder: Embedder) -> QAApp:
    return compose(seeds_index, embedder)


@pytest.fixture
def writable(settings: Settings, seeds_index: Settings) -> Settings:
    """Private docs and a copy of the seeds' index, so the service loads instead of building."""
    shutil.copytree(seeds_index.index_dir, settings.index_dir)
    return settings


def _app(settings: Settings, embedder: Embedder, **overrides: object) -> QAApp:
    return compose(settings.model_copy(update=overrides), embedder)


@pytest.fixture
def gradio_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Gradio's upload folder for this test: where the upload route would have put the files."""
    cache = tmp_path / "gradio-cache"
    cache.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    return cache


def _upload_file(folder: Path) -> list[str]:
    path = folder / "0123abcd" / "quillfeather.txt"
    path.parent.mkdir()
    path.write_text(NEW_DOCUMENT)
    return [str(path)]


def test_build_chat_exposes_the_ask_endpoint(seeds_app: QAApp) -> None:
    blocks = build_chat(seeds_app)
    (ask,) = [fn for fn in blocks.fns.values() if fn.api_name == "ask"]
    # The endpoint takes the question box and the server-held conversation, never a history
    # sent by the browser, and answers into the chat.
    assert [type(block).__name__ for block in ask.inputs] == ["Textbox", "State"]
    assert ask.inputs[0].elem_id == "qa-question"
    assert [getattr(block, "elem_id", None) for block in ask.outputs][:2] == [
        "qa-chat",
        "qa-sources",
    ]


def test_ask_then_follow_up_passes_the_conversation(seeds_app: QAApp) -> None:
    actions = ChatActions(seeds_app)
    chat, sources, conversation, box = asyncio.run(actions.ask(SAMPLE, None))
    assert conversation.asked == [SAMPLE] and conversation.messages == chat and box == ""
    assert "Hammersmith and Fulham" in chat[1]["content"]
    assert "retained its &quot;good&quot; rating" in sources

    chat, sources, conversation, _ = asyncio.run(actions.ask("and in 2016?", conversation))
    asked = conversation.asked
    assert "Read as" in chat[3]["content"]  # the service merged it with the first question
    # Kept as understood, so a further follow-up builds on a whole question.
    assert asked[0] == SAMPLE and asked[1] != "and in 2016?"
    assert "borough" in asked[1] and "2016" in asked[1]


def test_blank_question_is_refused(seeds_app: QAApp) -> None:
    for blank in ("   ", "\u200b\u200f", "\ufeff"):  # invisible characters are not a question
        with pytest.raises(gr.Error):
            asyncio.run(ChatActions(seeds_app).ask(blank, None))


def test_writes_refused_on_a_public_host_without_token(
    writable: Settings, embedder: Embedder, gradio_cache: Path
) -> None:
    settings = writable
    qa = _app(settings, embedder, host="0.0.0.0", admin_token=None)
    actions = DocumentActions(qa)
    before = sorted(p.name for p in settings.docs_dir.iterdir())

    outcome, *_ = actions.upload(_upload_file(gradio_cache), "")
    assert NO_TOKEN_REMOTE.split(":")[0] in outcome
    some_doc = qa.service.documents()[0]["doc_id"]
    outcome, *_ = actions.delete(some_doc, "")
    assert NO_TOKEN_REMOTE.split(":")[0] in outcome
    assert sorted(p.name for p in settings.docs_dir.iterdir()) == before


def test_upload_and_delete_with_the_admin_token(
    writable: Settings, embedder: Embedder, gradio_cache: Path
) -> None:
    settings = writable
    qa = _app(settings, embedder, host="0.0.0.0", admin_token="s3cret")
    actions = DocumentActions(qa)
    files = _upload_file(gradio_cache)

    outcome, *_ = actions.upload(files, "wrong")
    assert WRONG_TOKEN in outcome
    outcome, status, table, choices, cleared = actions.upload(files, "s3cret")
    assert "added" in outcome and "quillfeather.txt" in outcome
    assert "Quillfeather Works report" in table and cleared is None
    assert (settings.docs_dir / "quillfeather.txt").exists()

    answer = qa.service.ask("Which district does the Quillfeather Works pump water to?")
    assert answer.passages[0].source == "quillfeather.txt"

    doc_id = answer.passages[0].doc_id
    outcome, _, table, _ = actions.delete(doc_id, "s3cret")
    assert "Deleted" in outcome and "Quillfeather" not in table
    assert not (settings.docs_dir / "quillfeather.txt").exists()


def test_a_file_outside_the_upload_folder_is_never_read(
    writable: Settings, embedder: Embedder, gradio_cache: Path, tmp_path: Path
) -> None:
    """The handler's own check, behind the guard: a path a client named is refused, whether it
    lies outside Gradio's upload folder or leads out of it by a link or ".."."""
    actions = DocumentActions(_app(writable, embedder))
    (outside := tmp_path / "private").mkdir()
    secret = _upload_file(outside)[0]
    link = gradio_cache / "link.txt"
    link.symlink_to(secret)
    before = sorted(p.name for p in writable.docs_dir.iterdir())
    for path in (secret, str(link), str(gradio_cache / ".." / "private" / "0123abcd" / "x")):
        outcome, *_ = actions.upload([path], "")
        assert "must be sent through this page" in outcome, path
    assert sorted(p.name for p in writable.docs_dir.iterdir()) == before


def test_rebuild_reports_progress_until_done(writable: Settings, embedder: Embedder) -> None:
    actions = DocumentActions(_app(writable, embedder))
    outcome, _, timer = actions.rebuild(True, "")
    assert "Started a full rebuild" in outcome
    assert timer.active
    deadline = time.monotonic() + 120
    while timer.active and time.monotonic() < deadline:
        time.sleep(0.2)
        status, table, _, timer = actions.poll()
    assert not timer.active
    assert "Last rebuild" in status and "Press release" in table
