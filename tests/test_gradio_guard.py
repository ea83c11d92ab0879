"""The web page's events against hostile data, through a real ``qa serve``: a client that names a
server path (or a URL) where Gradio expects an uploaded file gets nothing indexed, nothing copied
into Gradio's cache and nothing read back; with a token set, anonymous clients cannot store
bytes at all. Normal use (upload, then index) keeps working."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from gradio_events import Event, call, events, file_data, sent_by_browser

from bench.server import LiveServer, live_server
from qa.config import PROJECT_ROOT

SECRET = f"qa-secret-{uuid.uuid4().hex}"
TOKEN = f"token-{uuid.uuid4().hex}"
PASSWD_MARK = b"root:x:0:0"


@dataclass(frozen=True)
class Site:
    server: LiveServer
    root: Path  # the server's working folder: secrets beside docs/, index/ and the cache

    @property
    def cache(self) -> Path:
        return self.root / "gradio-cache"

    def cached_bytes(self) -> list[bytes]:
        return [p.read_bytes() for p in self.cache.rglob("*") if p.is_file() and not p.is_symlink()]

    def docs(self) -> list[str]:
        return sorted(p.name for p in (self.root / "docs").iterdir())


def _site(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("guarded")
    (root / "docs").mkdir()
    for seed in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))[:2]:
        (root / "docs" / seed.name).write_text(seed.read_text()[:1500])
    (root / "secret.txt").write_text(f"The password is {SECRET}.\n")
    (root / ".env").write_text(f"QA_ADMIN_TOKEN={SECRET}\n")
    (root / "gradio-cache").mkdir()
    environment = {"GRADIO_TEMP_DIR": str(root / "gradio-cache"), "QA_ANSWER_WORKERS": "0", **env}
    try:
        with live_server(root / "docs", root / "index", cwd=root, env=environment) as server:
            yield Site(server, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def open_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Loopback, no token: writes from the page are allowed."""
    yield from _site(tmp_path_factory, {})


@pytest.fixture(scope="module")
def token_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from _site(tmp_path_factory, {"QA_ADMIN_TOKEN": TOKEN})


def hostile_paths(site: Site) -> list[str]:
    version = (site.root / "index" / "CURRENT").read_text().strip()
    link = site.cache / "innocent.txt"  # inside the cache, pointing out of it
    if not link.is_symlink():
        link.symlink_to(site.root / "secret.txt")
    return [
        str(site.root / "secret.txt"),
        str(site.root / ".env"),
        "/etc/passwd",
        str(site.root / "index" / version / "manifest.json"),
        str(next((site.root / "docs").iterdir())),
        str(site.cache / ".." / "secret.txt"),
        str(link),
        "secret.txt",
        f"{site.server.url}documents",  # the server fetching a URL for the client
    ]


def attack_every_event(site: Site, client: httpx.Client, token: str) -> list[str]:
    """Send each hostile path in every input a client sends, of every event; return what leaked
    into an event's output."""
    leaks = []
    for event in events(client):
        for slot in sent_by_browser(event):
            for path in hostile_paths(site):
                data = _defaults(event, token)
                data[slot] = (
                    [file_data(path)] if event.input_types[slot] == "file" else file_data(path)
                )
                status, outcome = call(client, event, data)
                assert status < 500, (event, path, status)
                if outcome is not None and SECRET in str(outcome):
                    leaks.append(f"{event.api_name}[{slot}] <- {path}")
    return leaks


def _defaults(event: Event, token: str) -> list[object]:
    """Harmless values for an event's inputs (the token where a textbox may be the token)."""
    values: dict[str, object] = {"textbox": token, "checkbox": False, "chatbot": [], "file": None}
    return [values.get(kind) for kind in event.input_types]


@pytest.mark.slow
def test_no_server_file_reaches_the_index_or_the_cache(open_site: Site) -> None:
    with httpx.Client(base_url=open_site.server.url, timeout=120) as client:
        documents = client.get("/documents").json()
        before = open_site.docs()
        leaks = attack_every_event(open_site, client, token="")
        assert leaks == []
        assert client.get("/documents").json() == documents
        assert open_site.docs() == before
        assert not [b for b in open_site.cached_bytes() if SECRET.encode() in b or PASSWD_MARK in b]

        # The guard does not get in the way of the page's own use: a file sent through Gradio's
        # upload route is indexed by the upload event.
        note = b"The Quillfeather Works pumps water to Marrowgate every night.\n"
        uploaded = client.post("/gradio_api/upload", files=[("files", ("quill.txt", note))])
        assert uploaded.status_code == 200, uploaded.text
        upload = next(e for e in events(client) if e.api_name == "upload")
        _, outcome = call(client, upload, [[file_data(uploaded.json()[0])], ""])
        assert outcome is not None and "added" in str(outcome), outcome
        assert open_site.docs() == sorted([*before, "quill.txt"])


@pytest.mark.slow
def test_with_a_token_anonymous_clients_store_nothing(token_site: Site) -> None:
    with httpx.Client(base_url=token_site.server.url, timeout=120) as client:
        documents = client.get("/documents").json()
        leaks = attack_every_event(token_site, client, token="wrong")
        assert leaks == []
        assert client.get("/documents").json() == documents
        assert not [b for b in token_site.cached_bytes() if SECRET.encode() in b]

        stored_before = token_site.cached_bytes()
        anonymous = client.post("/gradio_api/upload", files=[("files", ("a.txt", b"anon\n"))])
        assert anonymous.status_code == 401, anonymous.text
        wrong = client.post("/ui/upload-session", headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 403
        assert (
            client.post("/gradio_api/upload", files=[("files", ("a.txt", b"x\n"))]).status_code
            == 401
        )
        assert token_site.cached_bytes() == stored_before

        session = client.post("/ui/upload-session", headers={"Authorization": f"Bearer {TOKEN}"})
        assert session.status_code == 200, session.text
        assert "httponly" in session.headers["set-cookie"].lower()
        accepted = client.post("/gradio_api/upload", files=[("files", ("b.txt", b"mine\n"))])
        assert accepted.status_code == 200, accepted.text
