"""Hostile requests against a real ``qa serve``: upload names that try to leave the docs folder,
bodies over the limits, and file requests through the Gradio mount. Nothing is written outside the
docs folder, nothing is read from outside what the app serves, and nothing gets a 5xx.

Name handling itself (``safe_filename``, ``DocsChange``) is covered by test_uploads.py and, through
TestClient, by test_api_writes.py; here a property test drives every kind of name at it, and the
same names go through uvicorn's and python-multipart's real parsing.
"""

from __future__ import annotations

import http.client
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.server import LiveServer, live_server
from qa.config import PROJECT_ROOT
from qa.errors import BadUpload
from qa.uploads import MAX_NAME_BYTES, DocsChange, safe_filename

SECRET = f"qa-secret-{uuid.uuid4().hex}"


# --- names, as a property: whatever the client sends, the file lands inside the folder ---------

_NAME_PARTS = st.sampled_from(
    ["..", ".", "/", "\\", "\x00", "／", "．", "~", "C:", "\u202e", " ", "\t", "\n", "%2e", "%2f"]
)
_NAMES = st.lists(st.one_of(_NAME_PARTS, st.text(max_size=20)), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(name=st.one_of(_NAMES, st.text(max_size=400)))
def test_any_name_is_stored_inside_the_docs_folder_or_refused(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    root = tmp_path_factory.mktemp("names")
    docs = root / "docs"
    docs.mkdir()
    try:
        stored = safe_filename(name)
    except BadUpload:
        return
    assert "/" not in stored and "\\" not in stored and "\x00" not in stored
    assert not stored.startswith(".") and stored not in ("", ".", "..")
    assert len(stored.encode("utf-8")) <= MAX_NAME_BYTES
    change = DocsChange(docs)
    change.write(stored, b"content\n")
    change.commit()
    assert [p.relative_to(root).as_posix() for p in root.rglob("*")] == ["docs", f"docs/{stored}"]


def test_an_upload_over_a_symbolic_link_replaces_the_link_not_its_target(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").symlink_to(outside)
    change = DocsChange(docs)
    change.write("notes.txt", b"uploaded\n")
    change.commit()
    assert outside.read_text() == "not yours\n"
    assert not (docs / "notes.txt").is_symlink()
    assert (docs / "notes.txt").read_text() == "uploaded\n"


# --- a real server ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    server: LiveServer
    root: Path  # the server's working folder: holds .env, secret.txt, docs/ and index/

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def index(self) -> Path:
        return self.root / "index"

    def outside_files(self) -> dict[str, bytes]:
        """Every file under the root but outside docs/ and index/, with its content."""
        return {
            p.relative_to(self.root).as_posix(): p.read_bytes()
            for p in self.root.rglob("*")
            if p.is_file() and not {self.docs, self.index} & set(p.parents) and p != self.log
        }

    @property
    def log(self) -> Path:
        return self.server.log


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``qa serve`` (API and chat) over two seed excerpts, run from a folder holding secrets."""
    root = tmp_path_factory.mktemp("site")
    (root / "docs").mkdir()
    for seed in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))[:2]:
        (root / "docs" / seed.name).write_text(seed.read_text()[:1500])
    (root / ".env").write_text(f"QA_ADMIN_TOKEN={SECRET}\n")
    (root / "secret.txt").write_text(SECRET + "\n")
    try:
        with live_server(root / "docs", root / "index", cwd=root, timeout=300) as server:
            yield Site(server, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def client(site: Site) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.server.url, timeout=120) as client:
        yield client


def raw_upload(client: httpx.Client, disposition: bytes, content: bytes) -> httpx.Response:
    """A multipart upload with the Content-Disposition header exactly as given (no escaping)."""
    body = (
        b'--qa-boundary\r\nContent-Disposition: form-data; name="files"; '
        + disposition
        + b"\r\nContent-Type: text/plain\r\n\r\n"
        + content
        + b"\r\n--qa-boundary--\r\n"
    )
    headers = {"content-type": "multipart/form-data; boundary=qa-boundary"}
    return client.post("/documents", content=body, headers=headers)


@pytest.mark.slow
def test_hostile_upload_names_through_the_real_server(site: Site, client: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:8]
    before = site.outside_files()
    escape = Path(f"/tmp/qa-escape-{tag}.txt")
    names = [
        f"../../../../tmp/qa-escape-{tag}.txt",
        f"/tmp/qa-escape-{tag}.txt",
        f"..\\..\\qa-escape-{tag}.txt",
        f"C:\\Windows\\qa-win-{tag}.txt",
        f"..／..／qa-fullwidth-{tag}.txt",
        f"．．/．．/qa-dots-{tag}.txt",
        f"%2e%2e%2f%2e%2e%2fqa-encoded-{tag}.txt",
        f"\u202eqa-rtl-{tag}.txt",
        f"日本語 ✓ {tag}.txt",
        "b" * 1000 + ".txt",
        "../secret.txt",  # stored as docs/secret.txt, not over the one beside docs/
    ]
    for i, name in enumerate(names):
        response = client.post(
            "/documents",
            files=[("files", (name, f"Hostile name {i} {tag}.\n".encode(), "text/plain"))],
        )
        assert response.status_code == 200, (name, response.text)
        report = response.json()
        assert len(report["added"]) + len(report["updated"]) == 1, (name, report)
    env = client.post("/documents", files=[("files", ("../.env", b"QA_ADMIN_TOKEN=mine\n"))])
    # Stored inside the docs folder as "env", a text named with no type: never as a dotfile, and
    # never over the server's own .env beside the docs folder (checked at the end).
    assert env.status_code == 200, env.text
    assert [entry["name"] for entry in env.json()["added"]] == ["env"]
    raw = [
        b'filename="nul\x00name-' + tag.encode() + b'.txt"',
        b"filename*=UTF-8''..%2F..%2Fqa-star-" + tag.encode() + b".txt",
        b'filename="../../qa-raw-' + tag.encode() + b'.txt"',
    ]
    for i, disposition in enumerate(raw):
        response = raw_upload(client, disposition, f"Raw name {i} {tag}.\n".encode())
        assert response.status_code < 500, response.text
    for name in ["..", "../..", "/", "\x00", ". .", "\u202e"]:
        refused = client.post("/documents", files=[("files", (name, b"Nothing usable.\n"))])
        assert refused.status_code in (415, 422), (name, refused.text)

    assert site.outside_files() == before
    assert not escape.exists() and not Path(f"/qa-escape-{tag}.txt").exists()
    assert all(p.parent == site.docs for p in site.docs.rglob("*"))
    assert not [p.name for p in site.docs.iterdir() if p.name.startswith(".")]
    for document in client.get("/documents").json():  # every stored name is a plain basename
        assert "/" not in document["source"] and "\\" not in document["source"]
    assert (site.root / ".env").read_text() == f"QA_ADMIN_TOKEN={SECRET}\n"


@pytest.mark.slow
def test_bodies_over_the_limits_get_413_or_4xx_never_5xx(client: httpx.Client) -> None:
    huge = b'{"question": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    declared = client.post("/answer", content=huge, headers={"content-type": "application/json"})
    assert declared.status_code == 413, declared.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server has to count as it reads
        yield b'{"question": "'
        for _ in range(64):
            yield b"y" * 65536
        yield b'"}'

    streamed = client.post(
        "/answer", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413, streamed.text

    deep = b"[" * 100_000 + b"]" * 100_000  # under the size limit, deeper than any parser recurses
    nested = client.post("/answer", content=deep, headers={"content-type": "application/json"})
    assert 400 <= nested.status_code < 500, nested.text

    def big_upload() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n\r\n'
        for _ in range(400):  # 25 MB, over the 20 MB default
            yield b"word " * 13107
        yield b"\r\n--b--\r\n"

    upload = client.post(
        "/documents",
        content=big_upload(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert upload.status_code == 413, upload.text
    assert client.get("/health").status_code == 200


GRADIO_FILE_ROUTES = ["/gradio_api/file=", "/file=", "/gradio_api/file/"]


def file_targets(site: Site) -> list[str]:
    version = (site.index / "CURRENT").read_text().strip()
    return [
        str(site.index / "CURRENT"),
        str(site.index / version / "manifest.json"),
        str(site.index / version / "documents.json"),
        str(site.index / version / "vectors.faiss"),
        str(site.root / ".env"),
        str(site.root / "secret.txt"),
        str(next(site.docs.iterdir())),
        ".env",
        "secret.txt",
        "index/CURRENT",
        "../../etc/passwd",
        "../../../../../../etc/passwd",
        "/etc/passwd",
        "/proc/self/environ",
        "%2e%2e/%2e%2e/etc/passwd",
        "..%2f..%2f..%2fetc%2fpasswd",
        "....//....//etc/passwd",
        f"{site.server.url}health",  # the server fetching a URL for us: only public hosts
        "http://127.0.0.1:1/",
        "file:///etc/passwd",
    ]


def raw_get(site: Site, path: str) -> tuple[int, str]:
    """GET ``path`` sent byte for byte: httpx would resolve the ".." segments before sending."""
    connection = http.client.HTTPConnection("127.0.0.1", site.server.port)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", errors="replace")
    finally:
        connection.close()


@pytest.mark.slow
def test_gradio_file_routes_serve_nothing_from_disk(site: Site, client: httpx.Client) -> None:
    assert client.get("/").status_code == 200  # the chat is mounted: these routes exist
    # The route works: a file uploaded through Gradio itself is served back ...
    uploaded = client.post("/gradio_api/upload", files=[("files", ("note.txt", b"gradio's own\n"))])
    assert uploaded.status_code == 200, uploaded.text
    status, text = raw_get(site, "/gradio_api/file=" + uploaded.json()[0])
    assert (status, text) == (200, "gradio's own\n")
    # ... and nothing else is.
    served = []
    for route in GRADIO_FILE_ROUTES:
        for target in file_targets(site):
            status, text = raw_get(site, route + quote(target, safe="/:%=."))
            if status not in (403, 404) or SECRET in text:
                served.append((route + target, status, text[:100]))
    for path in ["/static/../.env", "/assets/..%2f..%2f.env", "/gradio_api/../secret.txt"]:
        status, text = raw_get(site, path)
        if SECRET in text or (status == 200 and "passages" in text):
            served.append((path, status, text[:100]))
    assert served == []
