"""A damaged index is detected, reported and never served; the service falls back or rebuilds.

Each file of the current version is emptied, cut in half or has one bit flipped. Then
``qa index verify`` must fail with a one-line reason, and the app (real model, real service,
TestClient with its start-up) must answer correctly from the previous version, or rebuild from the
documents when no version is intact, saying which in /health.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_server_process import complete

from qa.api import create_api
from qa.app import compose
from qa.cli import main
from qa.config import Settings
from qa.documents import parse_document
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.store import versions as store

SAMPLE_QUESTION = "which borough stayed good in 2019"
SAMPLE_PASSAGE = 'retained its "good" rating'
INVENTED = (
    "The Quillmarsh glass-eel festival\n\n"
    "The Quillmarsh glass-eel festival was founded in 1873 by the lamp-maker Ottoline Vesk. "
    "It is held every March on the banks of the river Brisk.\n"
)
INVENTED_QUESTION = "Who founded the Quillmarsh glass-eel festival?"
VERSION_FILES = [
    "manifest.json",
    "documents.json",
    "passages.json",
    "sentences.json",
    "sentences.npy",
    "sentence_kinds.npy",
    "vectors.faiss",
    "bm25/data.csc.index.npy",
    "bm25/indices.csc.index.npy",
    "bm25/indptr.csc.index.npy",
    "bm25/params.index.json",
    "bm25/vocab.index.json",
]
MODES = ["empty", "half", "flip"]


@dataclass(frozen=True)
class Template:
    """Seeds as the previous version, seeds plus one invented document as the current one."""

    root: Path
    previous: str
    current: str


@pytest.fixture(scope="module")
def template(
    tmp_path_factory: pytest.TempPathFactory, seeds_index: Settings, embedder: Embedder
) -> Template:
    root = tmp_path_factory.mktemp("corruption-template")
    shutil.copytree(seeds_index.docs_dir, root / "docs")
    shutil.copytree(seeds_index.index_dir, root / "index")
    previous = store.current_version(root / "index")
    (root / "docs" / "quillmarsh.txt").write_text(INVENTED)
    current = build_index(settings_for(root), embedder).version
    assert current is not None and current != previous
    return Template(root, previous, current)


@pytest.fixture
def copy(template: Template, tmp_path: Path) -> Path:
    """A private copy of the template's docs and index, to damage."""
    shutil.copytree(template.root / "docs", tmp_path / "docs")
    shutil.copytree(template.root / "index", tmp_path / "index")
    return tmp_path


def settings_for(root: Path) -> Settings:
    return Settings(
        docs_dir=root / "docs",
        index_dir=root / "index",
        admin_token=None,
        host="127.0.0.1",
        answer_workers=0,
        # Never compared with the docs folder: the start-up pass would catch the index up and
        # replace the fallback these tests look at (tests/test_reconcile.py covers catching up).
        reconcile_every_s=-1,
    )


def damage(path: Path, mode: str) -> None:
    data = bytearray(path.read_bytes())
    if mode == "empty":
        data = bytearray()
    elif mode == "half":
        data = data[: len(data) // 2]
    else:  # one bit in the middle: text stays text, so only a checksum can tell
        data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def verify_failure(index_dir: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``qa index verify``; it must exit 2 with exactly one line on stderr; return that line."""
    capsys.readouterr()
    assert main(["index", "verify", "--index", str(index_dir)]) == 2
    output = capsys.readouterr()
    assert output.out == ""
    lines = output.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error: "), output.err
    return lines[0]


def docs_texts(docs_dir: Path) -> dict[str, str]:
    """Every document's text as parsed from the docs folder, the source of truth, by doc_id."""
    documents = [parse_document(p.read_bytes(), p.name) for p in docs_dir.iterdir() if p.is_file()]
    return {d.doc_id: d.text for d in documents}


StartApp = Callable[[], TestClient]


@pytest.fixture
def start_app(copy: Path, embedder: Embedder) -> Iterator[StartApp]:
    """Starts the app over the copy (its start-up loads the index), once the test has damaged it.

    Server exceptions are not raised into the test: they must show as a 5xx, which fails it.
    """
    clients: list[TestClient] = []

    def start() -> TestClient:
        app = create_api(compose(settings_for(copy), embedder))
        clients.append(TestClient(app, raise_server_exceptions=False).__enter__())
        return clients[-1]

    yield start
    for opened in clients:
        opened.__exit__(None, None, None)


def ask(client: TestClient, question: str, docs_dir: Path) -> dict[str, Any]:
    """An answer that cites exact spans of the documents both the app and the docs folder hold."""
    response = client.post("/answer", json={"question": question})
    assert response.status_code == 200, response.text
    answer = response.json()
    served = {
        p["doc_id"]: client.get(f"/documents/{p['doc_id']}").json()["text"]
        for p in answer["passages"]
    }
    assert complete(answer, served)
    truth = docs_texts(docs_dir)
    assert all(truth[doc_id] == text for doc_id, text in served.items())
    return answer


def test_every_file_of_a_version_is_covered(template: Template) -> None:
    manifest = store.read_manifest(template.root / "index", template.current)
    assert sorted([*manifest["files"], store.MANIFEST]) == sorted(VERSION_FILES)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", VERSION_FILES)
def test_damaged_file_is_reported_and_the_previous_version_served(
    copy: Path,
    template: Template,
    start_app: StartApp,
    capsys: pytest.CaptureFixture[str],
    name: str,
    mode: str,
) -> None:
    damage(copy / "index" / template.current / name, mode)

    reason = verify_failure(copy / "index", capsys)
    assert template.current in reason
    assert (Path(name).name if name != store.MANIFEST else "manifest") in reason

    app = start_app()
    health = app.get("/health")
    assert health.status_code == 200, health.text
    health_body = health.json()
    assert health_body["index_version"] == template.previous
    assert health_body["documents"] == 5
    assert f"serving previous version {template.previous}" in health_body["notice"]
    assert template.current in health_body["notice"]
    answer = ask(app, SAMPLE_QUESTION, copy / "docs")
    assert any(SAMPLE_PASSAGE in p["text"] for p in answer["passages"][:3])


@pytest.mark.slow
@pytest.mark.parametrize(("name", "mode"), [("vectors.faiss", "empty"), ("documents.json", "flip")])
def test_with_no_intact_version_the_index_is_rebuilt_from_the_documents(
    copy: Path,
    template: Template,
    start_app: StartApp,
    capsys: pytest.CaptureFixture[str],
    name: str,
    mode: str,
) -> None:
    damage(copy / "index" / template.current / name, mode)
    damage(copy / "index" / template.previous / store.MANIFEST, "half")

    assert template.current in verify_failure(copy / "index", capsys)
    app = start_app()
    health = app.get("/health").json()
    assert health["index_version"] not in (template.current, template.previous)
    assert health["documents"] == 6
    assert "rebuilt from the documents" in health["notice"]
    assert template.current in health["notice"]
    answer = ask(app, INVENTED_QUESTION, copy / "docs")
    assert answer["found"] and "Ottoline Vesk" in answer["answer"]
    assert main(["index", "verify", "--index", str(copy / "index")]) == 0


@pytest.mark.slow
def test_a_rebuild_after_a_fallback_serves_the_documents_again(
    copy: Path, template: Template, start_app: StartApp
) -> None:
    damage(copy / "index" / template.current / "vectors.faiss", "half")
    app = start_app()
    assert app.get("/health").json()["index_version"] == template.previous
    assert app.post("/index/rebuild").status_code == 202  # incremental: a corrupt base means full
    deadline = time.monotonic() + 300
    while (health := app.get("/health").json())["rebuild"]["running"]:
        assert time.monotonic() < deadline, "rebuild still running after 300 s"
        time.sleep(0.2)
    assert health["rebuild"]["last_error"] is None and health["rebuild"]["last_report"]["full"]
    assert health["notice"] is None and health["documents"] == 6, health
    assert health["index_version"] not in (template.current, template.previous)
    ask(app, INVENTED_QUESTION, copy / "docs")


@pytest.mark.parametrize(
    "pointer", [b"", b"\n", b"garbage", b"../../etc\n", b"v-19990101T000000-abcdef\n", b"\xff\xfe"]
)
def test_a_damaged_current_pointer_falls_back_to_the_newest_intact_version(
    copy: Path,
    template: Template,
    start_app: StartApp,
    capsys: pytest.CaptureFixture[str],
    pointer: bytes,
) -> None:
    (copy / "index" / store.CURRENT_FILE).write_bytes(pointer)
    assert "CURRENT" in verify_failure(copy / "index", capsys)
    app = start_app()
    health = app.get("/health").json()
    assert health["index_version"] == template.current and health["documents"] == 6
    assert "CURRENT" in health["notice"]
    ask(app, INVENTED_QUESTION, copy / "docs")


@pytest.mark.slow
def test_an_index_from_another_model_is_refused_and_rebuilt(
    copy: Path, template: Template, start_app: StartApp, capsys: pytest.CaptureFixture[str]
) -> None:
    """A manifest that is intact but names other vectors: as if the model had been swapped."""
    for version in (template.current, template.previous):
        path = copy / "index" / version / store.MANIFEST
        manifest = json.loads(path.read_text())
        manifest["model_sha256"] = "0" * 64
        manifest[store.MANIFEST_CHECKSUM] = store.manifest_checksum(manifest)
        path.write_text(json.dumps(manifest))
    assert store.verify_version(copy / "index")  # the files themselves are intact
    assert "built with model" in verify_failure(copy / "index", capsys)
    app = start_app()
    health = app.get("/health").json()
    assert "built with model" in health["notice"] and "rebuilt" in health["notice"]
    assert health["documents"] == 6
    ask(app, SAMPLE_QUESTION, copy / "docs")
