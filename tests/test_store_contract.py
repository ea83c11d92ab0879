"""The ``Store`` contract, held by both stores: the embedded one and Milvus (a real Milvus Lite
server on loopback).

What retrieval asks of a store (dense and lexical candidates, scores, vectors) is compared
between the two over the same seeds version; what a writer relies on (a version published
whole, the previous one still readable, a deleted document gone once the build returns,
unfinished writes never served) is checked on each.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa.config import Settings
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.service import QAService
from qa.store import SearchIndex, Store, open_store, version_data
from qa.text import bm25_tokenize

pytest.importorskip("pymilvus", reason="the Milvus store needs pip install '.[scale]'")

QUESTIONS = [
    "Which borough stayed good in 2019?",
    "Who is Her Majesty's Chief Inspector?",
    "What did inspectors say about leadership in Westminster?",
    "When did the tri-borough arrangement end?",
    "How many people live in Kensington?",
]
LATE = "Late note\n\nThe Quillmarsh lantern fair was first held in 1901 on the river Brisk.\n"


def copy_version(source: Store, target: Store) -> str:
    """Write the version ``source`` serves into ``target`` (same vectors, no re-embedding)."""
    return target.write(version_data(source.open()), "flat", 16, 64)


@pytest.fixture
def both(seeds_index: Settings, milvus_settings: Settings) -> tuple[SearchIndex, SearchIndex]:
    """The seeds version from the embedded store, and the same version written into Milvus."""
    embedded = open_store(seeds_index)
    milvus = open_store(milvus_settings)
    copy_version(embedded, milvus)
    return embedded.open(), milvus.open()


def test_both_stores_return_the_same_candidates(
    both: tuple[SearchIndex, SearchIndex], embedder: Embedder
) -> None:
    embedded, milvus = both
    assert milvus.data.documents == embedded.data.documents
    assert list(milvus.data.passages) == list(embedded.data.passages)
    assert list(milvus.data.sentences) == list(embedded.data.sentences)
    for question in QUESTIONS:
        vector = embedder.encode([question])[0]
        rows_e, cos_e = embedded.dense_search(vector, 20)
        rows_m, cos_m = milvus.dense_search(vector, 20)
        assert rows_m.tolist() == rows_e.tolist(), question
        np.testing.assert_allclose(cos_m, cos_e, atol=1e-5)

        tokens = bm25_tokenize(question)
        lex_e, scores_e = embedded.lexical_search(tokens, 20)
        lex_m, scores_m = milvus.lexical_search(tokens, 20)
        assert lex_m.tolist() == lex_e.tolist(), question
        np.testing.assert_allclose(scores_m, scores_e, rtol=1e-4)
        assert len(lex_e) > 0

        rows = np.unique(np.concatenate([rows_e, lex_e]))
        np.testing.assert_allclose(
            milvus.lexical_scores(tokens, rows), embedded.lexical_scores(tokens, rows), rtol=1e-4
        )
        presence_e = embedded.term_presence(tokens, rows)
        presence_m = milvus.term_presence(tokens, rows)
        assert {t: p.tolist() for t, p in presence_m.items()} == {
            t: p.tolist() for t, p in presence_e.items()
        }
        np.testing.assert_allclose(
            milvus.passage_vectors(rows), embedded.passage_vectors(rows), atol=1e-6
        )
    sentences = np.arange(0, len(embedded.data.sentences), 7)
    np.testing.assert_array_equal(
        milvus.sentence_vectors(sentences), embedded.sentence_vectors(sentences)
    )


def test_answers_are_the_same_from_either_store(
    seeds_index: Settings, milvus_settings: Settings, embedder: Embedder
) -> None:
    copy_version(open_store(seeds_index), open_store(milvus_settings))
    embedded = QAService(seeds_index, embedder)
    milvus = QAService(
        milvus_settings.model_copy(update={"docs_dir": seeds_index.docs_dir}), embedder
    )
    assert milvus.health()["store"] == "milvus"
    for question in QUESTIONS:
        a, b = embedded.ask(question), milvus.ask(question)
        assert_same_answer(b.as_dict(), a.as_dict(), question)
        documents = milvus.retriever.data.documents
        for passage in b.passages:  # citations exact, from the texts Milvus holds
            assert documents[passage.doc_id].text[passage.start : passage.end] == passage.text


@pytest.mark.parametrize("kind", ["embedded", "milvus"])
def test_a_write_publishes_a_whole_version_and_keeps_the_previous_readable(
    kind: str, settings: Settings, milvus_settings: Settings, embedder: Embedder
) -> None:
    chosen = milvus_settings if kind == "milvus" else settings
    store = open_store(chosen)
    build_index(chosen, embedder)
    first = store.open()
    (chosen.docs_dir / "late.txt").write_text(LATE)
    report = build_index(chosen, embedder)
    assert report.added == 1 and report.embedded < 10  # only the new document was embedded
    second = store.open()
    assert store.current_version() == second.version != first.version
    late = [d for d in second.data.documents.values() if d.source == "late.txt"]
    assert len(late) == 1 and late[0].doc_id not in first.data.documents
    assert {first.version, second.version} <= set(store.version_names())
    # The version a request in flight holds still answers, from its own documents.
    rows, _ = first.dense_search(embedder.encode(["lantern fair"])[0], 3)
    assert all(first.data.passages.doc_id(int(r)) in first.data.documents for r in rows)
    # Reused vectors are the stored ones.
    kept = [i for i, p in enumerate(second.data.passages) if p.doc_id != late[0].doc_id]
    np.testing.assert_allclose(
        second.passage_vectors(kept), first.passage_vectors(np.arange(len(kept))), atol=1e-6
    )

    (chosen.docs_dir / "late.txt").unlink()
    build_index(chosen, embedder)
    third = store.open()  # once the build returns, the deleted document is gone
    assert late[0].doc_id not in third.data.documents
    assert all(p.doc_id != late[0].doc_id for p in third.data.passages)
    rows, _ = third.dense_search(embedder.encode(["Quillmarsh lantern fair"])[0], 50)
    assert all(third.data.passages.doc_id(int(r)) != late[0].doc_id for r in rows)
    assert first.version not in store.version_names()  # one previous version is kept
    assert store.verify()["counts"]["documents"] == len(third.data.documents)


def test_an_unpublished_milvus_version_is_never_served_and_is_cleaned(
    milvus_settings: Settings, seeds_index: Settings
) -> None:
    from qa.store.milvus import MilvusStore
    from qa.store.milvus_write import write_passages

    store = open_store(milvus_settings)
    assert isinstance(store, MilvusStore)
    published = copy_version(open_store(seeds_index), store)
    data = version_data(open_store(seeds_index).open())
    # A build that stopped after writing its passages: a newer version, never published.
    unfinished = "v-29990101T000000-000000-abcdef"
    write_passages(store, unfinished, data, "flat", 16, data.passage_vectors.shape[1])
    assert store.current_version() == published
    assert store.open().version == published
    store.clean_temp()
    assert not store.client.has_collection(store.collection(unfinished, "passages"))
    assert store.current_version() == published


def assert_same_answer(got: object, expected: object, where: str) -> None:
    """The same answer, field by field but for its timing; floats within 1e-4 of each other,
    since the two stores sum scores in another order (rounding both to a number of places
    would still part two values that straddle a rounding boundary)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and set(got) == set(expected), where
        for key in expected.keys() - {"took_ms"}:
            assert_same_answer(got[key], expected[key], f"{where} {key}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), where
        for index, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_same_answer(g, e, f"{where} [{index}]")
    elif isinstance(expected, float):
        assert isinstance(got, float) and math.isclose(got, expected, abs_tol=1e-4), (
            where,
            got,
            expected,
        )
    else:
        assert got == expected, (where, got, expected)


def test_the_command_line_works_over_a_milvus_lite_file(
    tmp_path: Path, seeds_index: Settings
) -> None:
    """``QA_STORE=milvus`` with no URI: a Milvus Lite file in the index folder; build, verify
    and ask through real ``qa`` processes."""
    import os
    import subprocess
    import sys

    docs = tmp_path / "docs"
    shutil.copytree(seeds_index.docs_dir, docs)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_STORE="milvus", QA_DOCS_DIR=str(docs), QA_INDEX_DIR=str(tmp_path / "index"))

    def qa(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "qa.cli", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)

    built = qa("index", "build")
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "index" / "milvus.db").exists()
    verified = qa("index", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("ok: v-"), verified.stderr
    asked = qa("ask", "Which borough stayed good in 2019?")
    assert asked.returncode == 0, asked.stderr
    assert "Hammersmith and Fulham" in asked.stdout.splitlines()[0]


@pytest.mark.slow
def test_qa_serve_over_a_milvus_lite_file_uploads_deletes_and_rebuilds(
    tmp_path: Path, seeds_index: Settings
) -> None:
    """A real ``qa serve`` with ``QA_STORE=milvus`` and no URI (a Lite file in the index folder):
    upload, answer with exact citations, delete, full rebuild."""
    import time

    import httpx

    from bench.server import live_server

    docs = tmp_path / "docs"
    shutil.copytree(seeds_index.docs_dir, docs)
    env = {"QA_STORE": "milvus"}
    with live_server(docs, tmp_path / "index", env=env) as server:
        assert httpx.get(server.url + "health").json()["store"] == "milvus"
        assert (tmp_path / "index" / "milvus.db").exists()
        files = [("files", ("late.txt", LATE.encode(), "text/plain"))]
        uploaded = httpx.post(server.url + "documents", files=files, timeout=300)
        assert uploaded.status_code == 200, uploaded.text
        doc_id = uploaded.json()["added"][0]["doc_id"]
        asked = {"question": "When was the Quillmarsh lantern fair first held?"}
        answer = httpx.post(server.url + "answer", json=asked, timeout=120).json()
        assert answer["found"] and "1901" in answer["answer"]
        cited = answer["passages"][0]
        text = httpx.get(server.url + f"documents/{cited['doc_id']}").json()["text"]
        assert cited["doc_id"] == doc_id and text[cited["start"] : cited["end"]] == cited["text"]

        assert httpx.delete(server.url + f"documents/{doc_id}", timeout=300).status_code == 200
        answer = httpx.post(server.url + "answer", json=asked, timeout=120).json()
        assert doc_id not in {p["doc_id"] for p in answer["passages"]}

        before = httpx.get(server.url + "health").json()["index_version"]
        started = httpx.post(server.url + "index/rebuild?full=true", timeout=60)
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 300
        while (health := httpx.get(server.url + "health").json())["rebuild"]["running"] or (
            health["index_version"] == before
        ):
            assert time.monotonic() < deadline, health
            time.sleep(1)
        assert health["rebuild"]["last_error"] is None and health["documents"] == 5
