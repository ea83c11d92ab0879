"""The HTTP API's read side and its input checks, with the real model, index and service
(TestClient) over the session's seeds index. Writes are in test_api_writes.py."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qa.answering import Answer, CitedPassage, Source
from qa.api import create_api
from qa.api_models import AnswerOut, PassageOut, SourceOut
from qa.app import compose
from qa.config import Settings
from qa.embedding import Embedder

SAMPLE_QUESTION = "which borough stayed good in 2019"
WORKER_START_TIMEOUT = 120.0


@pytest.fixture(scope="module")
def reader(seeds_index: Settings, embedder: Embedder) -> Iterator[TestClient]:
    """A client over the shared seeds index; read-only tests only. Its questions are answered
    by an answer worker process, as a served API's are."""
    settings = seeds_index.model_copy(
        update={"admin_token": None, "host": "127.0.0.1", "answer_workers": 1}
    )
    with TestClient(create_api(compose(settings, embedder))) as client:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while client.get("/health").json()["answer_workers"] < 1:
            assert time.monotonic() < deadline, "the answer worker did not start"
            time.sleep(0.1)
        yield client


def assert_offsets_valid(client: TestClient, answer: dict[str, Any]) -> None:
    """Every cited span is exactly the document text between its offsets."""
    texts: dict[str, str] = {}
    for passage in answer["passages"]:
        for cited in [passage, *passage["also_in"]]:
            doc_id = cited["doc_id"]
            if doc_id not in texts:
                texts[doc_id] = client.get(f"/documents/{doc_id}").json()["text"]
        assert texts[passage["doc_id"]][passage["start"] : passage["end"]] == passage["text"]
        for twin in passage["also_in"]:
            assert 0 <= twin["start"] < twin["end"] <= len(texts[twin["doc_id"]])


# --- reading ---------------------------------------------------------------------------------


def test_sample_question_cites_the_2019_rating_with_exact_offsets(reader: TestClient) -> None:
    response = reader.post("/answer", json={"question": SAMPLE_QUESTION})
    assert response.status_code == 200
    answer = response.json()
    assert any('retained its "good" rating' in p["text"] for p in answer["passages"][:3])
    assert [p["rank"] for p in answer["passages"]] == list(range(1, len(answer["passages"]) + 1))
    assert_offsets_valid(reader, answer)


def test_answer_body_is_the_documented_model_and_the_service_answer(reader: TestClient) -> None:
    """/answer writes the Answer dataclass as JSON itself, so check it against both ends."""
    response = reader.post("/answer", json={"question": SAMPLE_QUESTION, "top_k": 3})
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    AnswerOut.model_validate(body, strict=True)
    qa = reader.app.state.qa  # type: ignore[attr-defined]
    expected = qa.service.ask(SAMPLE_QUESTION, 3).as_dict()
    for timing in (body, expected):
        timing.pop("took_ms")
    assert body == expected


def test_top_k_and_history_are_honoured(reader: TestClient) -> None:
    response = reader.post(
        "/answer",
        json={"question": "and in 2019?", "top_k": 2, "history": ["which borough stayed good"]},
    )
    assert response.status_code == 200
    assert len(response.json()["passages"]) == 2


def test_health_and_documents_describe_the_index(reader: TestClient) -> None:
    health = reader.get("/health").json()
    assert health["status"] == "ok" and health["documents"] == 5 and health["passages"] > 0
    assert health["answer_workers"] == 1
    assert health["rebuild"]["running"] is False
    documents = reader.get("/documents").json()
    assert len(documents) == 5
    assert sum(d["passages"] for d in documents) == health["passages"]
    one = reader.get(f"/documents/{documents[0]['doc_id']}").json()
    assert one["sha256"] == documents[0]["sha256"] and len(one["text"]) > 100


def test_openapi_documents_every_endpoint(reader: TestClient) -> None:
    schema = reader.get("/openapi.json").json()
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert operations >= {
        ("/answer", "post"),
        ("/health", "get"),
        ("/documents", "get"),
        ("/documents", "post"),
        ("/documents/{doc_id}", "get"),
        ("/documents/{doc_id}", "delete"),
        ("/index/rebuild", "post"),
        ("/v1/models", "get"),
        ("/v1/chat/completions", "post"),
        ("/feedback", "post"),
        ("/feedback/counts", "get"),
    }
    question = schema["components"]["schemas"]["AnswerRequest"]["properties"]["question"]
    assert question["maxLength"] == 2000 and question["minLength"] == 1
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    assert reader.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("model", "dataclass"),
    [(AnswerOut, Answer), (PassageOut, CitedPassage), (SourceOut, Source)],
)
def test_response_models_mirror_the_answer_object(model: Any, dataclass: Any) -> None:
    assert set(model.model_fields) == {f.name for f in dataclasses.fields(dataclass)}


# --- bad input: always its 4xx, with the field named, never a 5xx or a traceback --------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": "   \n\t"}, "question"),
        ({"question": "x" * 2001}, "question"),
        ({"question": 5}, "question"),
        ({"question": None}, "question"),
        ({"question": "q", "top_k": 0}, "top_k"),
        ({"question": "q", "top_k": 51}, "top_k"),
        ({"question": "q", "top_k": "five"}, "top_k"),
        ({"question": "q", "top_k": 2.5}, "top_k"),
        ({"question": "q", "top_k": True}, "top_k"),
        ({"question": "q", "history": "earlier question"}, "history"),
        ({"question": "q", "history": ["earlier"] * 21}, "history"),
        ({"question": "q", "history": ["x" * 2001]}, "history"),
        ({"question": "q", "colour": "red"}, "colour"),
        ([], "body"),
    ],
)
def test_bad_answer_requests_get_422_naming_the_field(
    reader: TestClient, body: Any, field: str
) -> None:
    response = reader.post("/answer", json=body)
    assert response.status_code == 422
    messages = [error["msg"] for error in response.json()["detail"]]
    assert any(message.startswith(field) for message in messages), messages


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"question": "unterminated', "application/json", 422),
        (b"not json at all", "application/json", 422),
        (b"question=hello", "text/plain", 422),
        (b'{"question": "' + b"x" * 300_000 + b'"}', "application/json", 413),
    ],
)
def test_malformed_bodies_get_4xx(
    reader: TestClient, content: bytes, content_type: str, status: int
) -> None:
    response = reader.post("/answer", content=content, headers={"content-type": content_type})
    assert response.status_code == status
    assert "Traceback" not in response.text and "detail" in response.json()


def test_unknown_ids_paths_and_methods_get_4xx(reader: TestClient) -> None:
    assert reader.get("/documents/no-such-doc").status_code == 404
    assert reader.delete("/documents/no-such-doc").status_code == 404
    assert reader.get("/answer").status_code == 405
    assert reader.get("/nowhere").status_code == 404
    assert reader.post("/index/rebuild?full=maybe").status_code == 422
