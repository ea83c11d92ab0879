"""The one ask seam (qa.asking) over the real model and the seeds index: every face's question is
normalised the same way before use, so invisible characters cannot change an answer, and a
question that is nothing once normalised is refused alike by the API, the chat and the CLI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from qa.answering import Answer
from qa.api import create_api
from qa.app import QAApp, compose
from qa.cli import main as cli_main
from qa.config import Settings
from qa.embedding import Embedder
from qa.question import normalise_question

QUESTION = "Which borough stayed good in 2019?"
# Right-to-left override, byte-order mark (zero-width no-break space), right-to-left mark.
INVISIBLE = ["\u202e", "\ufeff", "\u200f"]


@pytest.fixture(scope="module")
def seeds_app(seeds_index: Settings, embedder: Embedder) -> QAApp:
    return compose(seeds_index, embedder)


@pytest.fixture(scope="module")
def client(seeds_app: QAApp) -> Iterator[TestClient]:
    with TestClient(create_api(seeds_app)) as opened:
        yield opened


def essentials(answer: Answer | dict) -> tuple[object, ...]:
    """What a user sees: the question as understood, the answer, the cited spans."""
    data = answer.as_dict() if isinstance(answer, Answer) else answer
    spans = [(p["doc_id"], p["start"], p["end"]) for p in data["passages"]]
    return data["question"], data["answer"], data["found"], spans


def test_normalisation() -> None:
    assert normalise_question("\u202eWhich\u200b borough\u00a0 stayed\n good?\ufeff") == (
        "Which borough stayed good?"
    )
    assert normalise_question("ｗｈｉｃｈ ｂｏｒｏｕｇｈ") == "which borough"  # fullwidth (NFKC)
    assert normalise_question("a\x00b\x1bc") == "a b c"  # control characters read as spaces
    assert normalise_question("\u200f \ufeff") == ""


def test_invisible_characters_do_not_change_the_answer(seeds_app: QAApp) -> None:
    expected = asyncio.run(seeds_app.asker.answer(QUESTION))
    assert expected.found and "Hammersmith and Fulham" in (expected.answer or "")
    for mark in INVISIBLE:
        for marked in (mark + QUESTION, QUESTION.replace(" ", f" {mark}", 1)):
            got = asyncio.run(seeds_app.asker.answer(marked))
            assert essentials(got) == essentials(expected), repr(mark)


def test_the_api_normalises_the_same_way(client: TestClient) -> None:
    expected = client.post("/answer", json={"question": QUESTION}).json()
    for mark in INVISIBLE:
        response = client.post("/answer", json={"question": mark + QUESTION})
        assert response.status_code == 200
        assert essentials(response.json()) == essentials(expected)
    blank = client.post("/answer", json={"question": "\u200b\u202e"})
    assert blank.status_code == 422 and "blank" in blank.json()["detail"][0]["msg"]


def test_the_cli_normalises_the_same_way(
    seeds_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = ["--docs", str(seeds_index.docs_dir), "--index", str(seeds_index.index_dir)]
    answers = []
    for question in (QUESTION, INVISIBLE[0] + QUESTION):
        assert cli_main(["ask", "--json", question, *paths]) == 0
        answers.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    assert essentials(answers[1]) == essentials(answers[0])
    assert cli_main(["ask", "\ufeff", *paths]) == 2
    assert "empty" in capsys.readouterr().err
    assert cli_main(["ask", "--top-k", "0", QUESTION, *paths]) == 2
