"""Stateless API servers over one Milvus: two real ``qa serve`` processes on different ports,
both with ``QA_STORE=milvus`` over the same Milvus (Milvus Lite's server on loopback), answer
identically; a document uploaded through one is answered by the other once published, and a
delete through one is seen by the other.

The two share the docs folder (on several machines: a shared volume), which stays the source of
truth the index follows; their index folder holds only the build lock.
"""

from __future__ import annotations

import time
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from bench.server import live_server
from qa.config import Settings
from qa.embedding import Embedder
from qa.indexer import build_index

pytestmark = pytest.mark.slow
pytest.importorskip("pymilvus", reason="the Milvus store needs pip install '.[scale]'")

INVENTED = (
    b"Quillmarsh ferry\n\nThe Quillmarsh ferry is run by the boatwoman Ottoline Vesk, "
    b"who has crossed the river Brisk every morning since 1987.\n"
)
QUESTION = "Who runs the Quillmarsh ferry?"
SEEN_WITHIN_S = 30.0


def answer(server_url: str, question: str) -> dict[str, Any]:
    response = httpx.post(server_url + "answer", json={"question": question}, timeout=120)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    body.pop("took_ms")
    return body


def wait_for(server_url: str, question: str, found: bool) -> dict[str, Any]:
    deadline = time.monotonic() + SEEN_WITHIN_S
    while True:
        body = answer(server_url, question)
        if body["found"] == found or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


def test_two_servers_over_one_milvus_answer_alike_and_see_each_others_writes(
    milvus_settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    build_index(milvus_settings, embedder)
    env = {
        "QA_STORE": "milvus",
        "QA_MILVUS_URI": milvus_settings.milvus_uri,
        "QA_MILVUS_PREFIX": milvus_settings.milvus_prefix,
        "QA_ANSWER_WORKERS": "1",  # a worker process opens the Milvus version too
    }
    docs, index = milvus_settings.docs_dir, milvus_settings.index_dir
    with (
        live_server(docs, index, env=env, log=tmp_path / "a.log") as first,
        live_server(docs, index, env=env, log=tmp_path / "b.log") as second,
    ):
        assert httpx.get(first.url + "health").json()["store"] == "milvus"
        chat = Client(second.url, verbose=False)  # the web chat, over the same store
        try:
            messages, sources, _ = chat.predict(
                "Which borough stayed good in 2019?", api_name="/ask"
            )
        finally:
            chat.close()
        reply = messages[-1]["content"]
        reply = "".join(p["text"] for p in reply) if isinstance(reply, list) else reply
        assert "Hammersmith and Fulham" in reply
        assert 'retained its "good" rating' in unescape(sources)
        for question in (
            "Which borough stayed good in 2019?",
            "How many people live in Kensington?",
        ):
            assert answer(first.url, question) == answer(second.url, question)

        files = [("files", ("quillmarsh.txt", INVENTED, "text/plain"))]
        uploaded = httpx.post(first.url + "documents", files=files, timeout=300)
        assert uploaded.status_code == 200, uploaded.text
        doc_id = uploaded.json()["added"][0]["doc_id"]

        seen = wait_for(second.url, QUESTION, found=True)
        assert "Ottoline Vesk" in (seen["answer"] or ""), seen
        assert seen["passages"][0]["doc_id"] == doc_id
        text = httpx.get(second.url + f"documents/{doc_id}").json()["text"]
        cited = seen["passages"][0]
        assert text[cited["start"] : cited["end"]] == cited["text"]

        assert httpx.delete(first.url + f"documents/{doc_id}", timeout=300).status_code == 200
        gone = wait_for(second.url, QUESTION, found=False)
        assert doc_id not in {p["doc_id"] for p in gone["passages"]}
