"""The HTTP API's write side (uploads, deletes, rebuilds, who may write) with the real model,
index and service (TestClient). Each test gets a private docs copy with the session's seeds index
copied beside it, so builds are incremental: only what a test uploads gets embedded."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_api import assert_offsets_valid
from test_archives import GOOD, PART, streamed_bomb

from qa.api import create_api
from qa.app import QAApp, compose
from qa.config import Settings
from qa.embedding import Embedder

SAMPLE_QUESTION = "which borough stayed good in 2019"
INVENTED = (
    b"The Quillmarsh glass-eel festival\n\n"
    b"The Quillmarsh glass-eel festival was founded in 1873 by the lamp-maker Ottoline Vesk. "
    b"It is held every March on the banks of the river Brisk, where lantern boats guide the "
    b"young eels upstream.\n\n"
    b"In 2021 the festival committee, chaired by Dorcas Pellow, added a night market.\n"
)
INVENTED_QUESTION = "Who founded the Quillmarsh glass-eel festival?"

MakeClient = Callable[..., TestClient]


@pytest.fixture
def writable(settings: Settings, seeds_index: Settings) -> Settings:
    """``settings`` (a private docs copy) with the seeds index copied in beside it."""
    shutil.copytree(seeds_index.index_dir, settings.index_dir)
    return settings.model_copy(update={"admin_token": None, "host": "127.0.0.1"})


@pytest.fixture
def make_client(writable: Settings, embedder: Embedder) -> Iterator[MakeClient]:
    """Clients over the private copy, with settings overridden (token, host, upload limit)."""
    opened: list[TestClient] = []

    def make(raise_server_exceptions: bool = True, **overrides: Any) -> TestClient:
        qa = compose(writable.model_copy(update=overrides), embedder)
        client = TestClient(create_api(qa), raise_server_exceptions=raise_server_exceptions)
        opened.append(client.__enter__())
        # The start-up comparison of the docs folder with the index runs in the background:
        # done before the test changes either.
        assert qa.reconciler.first_pass_done.wait(120)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


def files_in(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def upload(client: TestClient, *files: tuple[str, bytes], **kwargs: Any) -> Any:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return client.post("/documents", files=parts, **kwargs)


# --- writing ---------------------------------------------------------------------------------


def test_upload_answers_at_rank_one_then_delete_removes_it(
    client: TestClient, writable: Settings
) -> None:
    response = upload(client, ("quillmarsh.txt", INVENTED))
    assert response.status_code == 200, response.text
    report = response.json()
    assert [entry["name"] for entry in report["added"]] == ["quillmarsh.txt"]
    assert report["index"]["added"] == 1 and report["index"]["full"] is False
    doc_id = report["added"][0]["doc_id"]

    answer = client.post("/answer", json={"question": INVENTED_QUESTION}).json()
    assert answer["passages"][0]["doc_id"] == doc_id
    assert answer["found"] and "Ottoline Vesk" in answer["answer"]
    assert_offsets_valid(client, answer)

    again = upload(client, ("quillmarsh.txt", INVENTED), ("copy.txt", INVENTED)).json()
    assert [e["reason"] for e in again["skipped"]] == [
        "already stored",
        "same content as quillmarsh.txt",
    ]
    assert again["index"] is None and not (writable.docs_dir / "copy.txt").exists()
    changed = upload(client, ("quillmarsh.txt", INVENTED + b"It now lasts a week.\n")).json()
    assert [e["doc_id"] for e in changed["updated"]] == [doc_id]

    deleted = client.delete(f"/documents/{doc_id}")
    assert deleted.status_code == 200 and deleted.json()["index"]["removed"] == 1
    assert not (writable.docs_dir / "quillmarsh.txt").exists()
    assert doc_id not in {d["doc_id"] for d in client.get("/documents").json()}
    answer = client.post("/answer", json={"question": INVENTED_QUESTION}).json()
    assert doc_id not in {p["doc_id"] for p in answer["passages"]}
    assert not answer["found"]
    assert client.delete(f"/documents/{doc_id}").status_code == 404
    assert not [p for p in writable.docs_dir.iterdir() if p.name.startswith(".")]


def test_legacy_and_utf16_text_is_stored_as_read_and_lists_its_encoding(
    client: TestClient,
) -> None:
    """A Windows-1252 and a UTF-16 file: accepted, quoted exactly, encodings in the listing."""
    text = "Quillmarsh tolls\n\nThe Quillmarsh bridge toll is £3 for a café cart, said Zoë.\n"
    response = upload(
        client, ("tolls-1252.txt", text.encode("cp1252")), ("tolls-16.md", text.encode("utf-16"))
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["added"]) == 2
    listed = {d["source"]: d for d in client.get("/documents").json()}
    assert listed["tolls-1252.txt"]["encoding"] == "cp1252"
    assert listed["tolls-16.md"]["encoding"] == "utf-16"
    for name in ("tolls-1252.txt", "tolls-16.md"):
        assert client.get(f"/documents/{listed[name]['doc_id']}").json()["text"] == text
    answer = client.post("/answer", json={"question": "How much is the Quillmarsh bridge toll?"})
    assert "£3 for a café cart" in answer.json()["answer"]


def test_hostile_names_write_nothing_outside_the_docs_folder(
    client: TestClient, writable: Settings, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    escape = Path("/tmp/x.txt")
    escape_before = escape.stat().st_mtime_ns if escape.exists() else None
    outside_before = {p for p in tmp_path.rglob("*") if writable.docs_dir not in p.parents}
    names = {
        "../../../../tmp/x.txt": "x.txt",
        f"/etc/qa-absolute-{tag}.txt": f"qa-absolute-{tag}.txt",
        f"..\\..\\qa-backslash-{tag}.txt": f"qa-backslash-{tag}.txt",
        f"..／..／qa-fullwidth-{tag}.txt": f"qa-fullwidth-{tag}.txt",
        f"\u202eqa-rtl-{tag}.txt": f"qa-rtl-{tag}.txt",
        f".hidden-{tag}.txt": f"hidden-{tag}.txt",
        f"résumé ✓ 日本語 {tag}.txt": f"résumé ✓ 日本語 {tag}.txt",
        "a" * 300 + ".txt": None,  # shortened, still .txt
    }
    files = [(name, f"Hostile name test {i} {tag}.\n".encode()) for i, name in enumerate(names)]
    response = upload(client, *files)
    assert response.status_code == 200, response.text
    stored = [entry["name"] for entry in response.json()["added"]]
    assert stored[:-1] == [safe for safe in names.values() if safe is not None]
    assert stored[-1].endswith(".txt") and len(stored[-1].encode()) <= 150

    # A NUL byte in the name, sent raw (httpx would percent-encode it).
    body = (
        b"--qa-boundary\r\n"
        b'Content-Disposition: form-data; name="files"; filename="nul\x00name.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nA file whose name held a NUL byte.\r\n"
        b"--qa-boundary--\r\n"
    )
    raw = client.post(
        "/documents",
        content=body,
        headers={"content-type": "multipart/form-data; boundary=qa-boundary"},
    )
    assert raw.status_code == 200, raw.text
    assert [entry["name"] for entry in raw.json()["added"]] == ["nulname.txt"]
    for name in ["..", "/", "", " . ", "\x00", "../.."]:
        refused = upload(client, (name, b"Nothing usable in this name.\n"))
        assert 400 <= refused.status_code < 500, (name, refused.text)

    assert all(p.parent == writable.docs_dir for p in writable.docs_dir.rglob("*"))
    assert not any("\x00" in p.name or p.name.startswith(".") for p in writable.docs_dir.iterdir())
    outside_after = {p for p in tmp_path.rglob("*") if writable.docs_dir not in p.parents}
    assert {
        p for p in outside_after - outside_before if writable.index_dir not in p.parents
    } == set()
    assert (escape.stat().st_mtime_ns if escape.exists() else None) == escape_before
    assert not Path(f"/etc/qa-absolute-{tag}.txt").exists()


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("program.exe", b"MZ\x90\x00 binary", 415),
        ("program", b"\x7fELF\x02\x01\x00 machine code", 415),
        ("configure", b"#!/bin/sh\necho hi\n", 415),
        ("fake.pdf", b"just text pretending", 415),
        ("fake.docx", b"not a zip", 415),
        ("binary.txt", b"text\x00with NUL bytes", 415),
        ("empty.txt", b"", 422),
        ("blank.md", b"   \n\n  ", 422),
        ("noise.txt", bytes(b or 1 for b in random.Random(7).randbytes(3000)), 422),
        ("big.txt", b"words " * 2000, 413),
    ],
)
def test_bad_uploads_get_their_4xx_and_change_nothing(
    make_client: MakeClient, writable: Settings, name: str, data: bytes, status: int
) -> None:
    client = make_client(max_upload_mb=0.01)  # about 10 KB
    before = files_in(writable.docs_dir)
    response = upload(client, (name, data))
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text and response.json()["detail"]
    assert files_in(writable.docs_dir) == before


def test_a_docx_zip_bomb_is_refused_with_422_and_changes_nothing(
    client: TestClient, writable: Settings
) -> None:
    before = files_in(writable.docs_dir)
    bomb = streamed_bomb(GOOD, PART, b"<w:p/>", 64 * 1024 * 1024)
    response = upload(client, ("bomb.docx", bomb))
    assert response.status_code == 422 and "would inflate" in response.json()["detail"]
    assert files_in(writable.docs_dir) == before


def test_upload_limits_apply_to_the_whole_request(
    make_client: MakeClient, writable: Settings
) -> None:
    client = make_client(max_upload_mb=0.01)
    half = b"word " * 1200  # 6 KB each: fine alone, over 10 KB together
    assert upload(client, ("a.txt", half), ("b.txt", half + b"b")).status_code == 413
    declared_huge = upload(client, ("huge.txt", b"x" * (2 * 1024 * 1024)))
    assert declared_huge.status_code == 413
    assert "a.txt" not in files_in(writable.docs_dir)
    assert client.post("/documents").status_code == 422  # no files field at all
    assert client.post("/documents", json={"files": []}).status_code == 422


def test_mixed_upload_stores_the_good_and_reports_the_bad(
    client: TestClient, writable: Settings
) -> None:
    response = upload(client, ("good.md", b"# Good\n\nA fine note.\n"), ("bad.exe", b"MZ"))
    assert response.status_code == 200
    report = response.json()
    assert [e["name"] for e in report["added"]] == ["good.md"]
    assert report["rejected"][0]["name"] == "bad.exe"
    assert report["rejected"][0]["error"] == "UnsupportedFileType"
    assert (writable.docs_dir / "good.md").exists() and not (writable.docs_dir / "bad.exe").exists()


def test_failed_build_leaves_the_docs_folder_as_it_was(
    make_client: MakeClient, writable: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection in the indexer (not the model, FAISS or the server): the disk fills up."""
    client = make_client(raise_server_exceptions=False)
    existing = sorted(writable.docs_dir.iterdir())[0]
    doc_id = next(
        d["doc_id"] for d in client.get("/documents").json() if d["source"] == existing.name
    )
    before = files_in(writable.docs_dir)

    def disk_full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("qa.library.build_index", disk_full)
    new = upload(client, ("new.txt", b"A new note.\n"), (existing.name, b"Replaced content.\n"))
    assert new.status_code == 503
    assert "No space left on device" in new.json()["detail"]
    assert "nothing was changed" in new.json()["detail"]
    assert client.delete(f"/documents/{doc_id}").status_code == 503
    assert files_in(writable.docs_dir) == before
    assert client.get("/health").json()["rebuild"]["last_error"]
    assert client.get(f"/documents/{doc_id}").status_code == 200


@contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """``folder`` refuses new entries while inside: ``chmod`` for an ordinary user; for root, whom
    permissions do not stop, the immutable attribute (``chattr +i``, which stops root too)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        undo = [lambda: folder.chmod(0o755)]
    else:
        chattr = shutil.which("chattr")
        if chattr is None:
            pytest.skip("running as root without chattr: no way to stop root writing a folder")
        made = subprocess.run([chattr, "+i", str(folder)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"running as root and chattr +i is refused here: {made.stderr.strip()}")
        undo = [lambda: subprocess.run([chattr, "-i", str(folder)], check=True)]
    try:
        probe = folder / "probe"
        with pytest.raises(OSError):  # the folder really refuses, or the test proves nothing
            probe.mkdir()
        yield
    finally:
        for step in undo:
            step()


def test_an_index_folder_that_cannot_be_written_is_503_and_changes_nothing(
    client: TestClient, writable: Settings
) -> None:
    """Issue 17, Why-10: upload and delete answered 500 when the index folder was read-only."""
    doc_id = client.get("/documents").json()[0]["doc_id"]
    docs_before = files_in(writable.docs_dir)
    index_before = files_in(writable.index_dir)
    with unwritable(writable.index_dir):
        writes = [
            upload(client, ("new.txt", INVENTED)),
            client.delete(f"/documents/{doc_id}"),
            client.post("/index/rebuild"),
        ]
    for response in writes:
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert "index folder" in detail and "cannot be written" in detail
        assert "nothing was changed" in detail
    assert files_in(writable.docs_dir) == docs_before
    assert files_in(writable.index_dir) == index_before
    assert upload(client, ("new.txt", INVENTED)).status_code == 200  # writable again: as usual


def test_while_a_write_runs_unknown_ids_are_404_at_once_and_writes_409_after_the_wait(
    make_client: MakeClient, writable: Settings
) -> None:
    """Issue 17, Why-10: during a rebuild, DELETE of an unknown id waited for the rebuild
    (~27 s) before its 404; other writes waited without a bound, each holding a thread."""
    client = make_client(write_wait_s=0.2)
    qa: QAApp = client.app.state.qa  # type: ignore[attr-defined]
    doc_id = client.get("/documents").json()[0]["doc_id"]
    before = files_in(writable.docs_dir)
    requests = ThreadPoolExecutor(1)
    with qa.service.write_lock:  # what a rebuild, an upload or a delete holds while it runs
        # In a thread, so that a request waiting for the lock (as before) fails the test
        # instead of hanging it; the bound is a guard, not a speed figure.
        unknown = requests.submit(client.delete, "/documents/no-such-doc").result(timeout=60)
        busy_upload = requests.submit(upload, client, ("new.txt", INVENTED)).result(timeout=60)
        busy_delete = requests.submit(client.delete, f"/documents/{doc_id}").result(timeout=60)
    requests.shutdown()
    assert unknown.status_code == 404 and "no-such-doc" in unknown.json()["detail"]
    for busy in (busy_upload, busy_delete):
        assert busy.status_code == 409, busy.text
        assert "GET /health" in busy.json()["detail"]
        assert "nothing was changed" in busy.json()["detail"]
    assert files_in(writable.docs_dir) == before
    assert upload(client, ("new.txt", INVENTED)).status_code == 200  # the lock free: as usual


# --- who may write ---------------------------------------------------------------------------


def test_admin_token_guards_every_write(make_client: MakeClient) -> None:
    client = make_client(admin_token="s3cret-tøken")
    good = {"Authorization": "Bearer s3cret-tøken".encode()}  # sent as UTF-8 bytes
    writes: list[Callable[[dict[str, Any]], Any]] = [
        lambda h: client.post("/index/rebuild", headers=h),
        lambda h: client.delete("/documents/no-such-doc", headers=h),
        lambda h: upload(client, ("note.txt", b"A note.\n"), headers=h),
    ]
    for write in writes:
        missing = write({})
        assert missing.status_code == 401 and "QA_ADMIN_TOKEN" in missing.json()["detail"]
        assert write({"Authorization": "Bearer wrong"}).status_code == 403
        assert write({"Authorization": "Basic czNjcmV0"}).status_code == 401
    assert client.delete("/documents/no-such-doc", headers=good).status_code == 404
    assert upload(client, ("note.txt", b"A note.\n"), headers=good).status_code == 200
    assert client.post("/answer", json={"question": SAMPLE_QUESTION}).status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_writes_refused_off_loopback_without_a_token(make_client: MakeClient, host: str) -> None:
    client = make_client(host=host)
    response = client.post("/index/rebuild")
    assert response.status_code == 403 and "QA_ADMIN_TOKEN" in response.json()["detail"]
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "::1", "localhost"])
def test_writes_allowed_on_loopback_without_a_token(make_client: MakeClient, host: str) -> None:
    assert make_client(host=host).delete("/documents/no-such-doc").status_code == 404


# --- rebuilds --------------------------------------------------------------------------------


def test_rebuild_runs_in_the_background_and_refuses_a_second(
    client: TestClient, writable: Settings
) -> None:
    (writable.docs_dir / "later.txt").write_text("Added behind the server's back.\n")
    qa: QAApp = client.app.state.qa  # type: ignore[attr-defined]
    with qa.service.write_lock:  # another write is running: a rebuild is refused, not queued
        assert client.post("/index/rebuild").status_code == 409
    response = client.post("/index/rebuild")
    assert response.status_code == 202 and response.json()["started"] is True
    for _ in range(600):
        status = client.get("/health").json()["rebuild"]
        if not status["running"]:
            break
        time.sleep(0.1)
    assert status["last_error"] is None and status["last_report"]["added"] == 1
    assert client.get("/health").json()["documents"] == 6


def test_health_saying_a_rebuild_is_done_counts_the_new_version(
    client: TestClient, writable: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program waiting for a rebuild polls /health until it says done, then reads the counts
    beside it. Here every read of what is served is followed by the rebuild finishing, before
    /health has read the rebuild's status (the interleaving that happened by chance in CI)."""
    (writable.docs_dir / "later.txt").write_text("Added behind the server's back.\n")
    qa: QAApp = client.app.state.qa  # type: ignore[attr-defined]
    served_health = qa.service.health

    def served_then_rebuild_finishes() -> dict[str, Any]:
        served = served_health()
        with qa.service.write_lock:  # held by the rebuild until it is done
            pass
        return served

    monkeypatch.setattr(qa.service, "health", served_then_rebuild_finishes)
    assert client.post("/index/rebuild").status_code == 202
    for _ in range(600):
        health = client.get("/health").json()
        if not health["rebuild"]["running"]:
            break
        time.sleep(0.1)
    assert health["rebuild"]["last_report"]["added"] == 1
    assert health["documents"] == 6
