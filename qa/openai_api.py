"""An OpenAI-compatible face: ``GET /v1/models`` and ``POST /v1/chat/completions``.

Chat front-ends and scripts that speak OpenAI's chat API can use qa as a "model" named ``qa``.
The last user message is the question and the earlier user turns are its history (the same
follow-up context as ``/answer``'s ``history``); system and assistant messages are accepted and
ignored, since an answer is chosen from the documents, never generated. The reply's
``choices[0].message.content`` is the answer sentence with a numbered "Sources" list; the whole
answer object rides along under ``qa``. It is a read, open exactly as ``/answer`` is, through the
same ask seam (``qa.asking``) with the same limits. OpenAI's sampling parameters (temperature,
max_tokens …) are ignored: there is nothing to sample.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from qa.answering import Answer
from qa.api_models import AnswerOut, ErrorOut, _whole_number
from qa.app import QAApp
from qa.citations import answer_sentence, quoted, source_parts, sources_heading
from qa.question import (
    DEFAULT_TOP_K,
    MAX_ASK_BODY,
    MAX_QUESTION_CHARS,
    MAX_TOP_K,
    normalise_question,
)

MODEL_ID = "qa"
MODEL_CREATED = 1_767_225_600  # 2026-01-01: a fixed date, so /v1/models is the same every call
MAX_MESSAGES = 200  # a long conversation; the body limit (MAX_ASK_BODY) bounds it too
CHAT_PATH = "/v1/chat/completions"


class ContentPart(BaseModel):
    """One part of a message's content in OpenAI's list form; only text parts carry words."""

    model_config = ConfigDict(extra="ignore")

    type: Annotated[str, Field(max_length=40)]
    text: Annotated[str | None, Field(max_length=MAX_ASK_BODY)] = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: (
        Annotated[str, Field(max_length=MAX_ASK_BODY)]
        | Annotated[list[ContentPart], Field(max_length=64)]
        | None
    ) = None

    def text(self) -> str:
        """The message's words: a string as it is, text parts joined by spaces."""
        if isinstance(self.content, str):
            return self.content
        return " ".join(part.text or "" for part in self.content or [] if part.type == "text")


class ChatCompletionRequest(BaseModel):
    """OpenAI's request body; fields qa has no use for are accepted and ignored."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "model": MODEL_ID,
                    "messages": [{"role": "user", "content": "which borough stayed good in 2019"}],
                }
            ]
        },
    )

    # The schema names the one model; the route answers another name with OpenAI's 404.
    model: Annotated[
        str,
        Field(
            max_length=200,
            description="Must be `qa`.",
            json_schema_extra={"pattern": f"^{MODEL_ID}$"},
        ),
    ] = MODEL_ID
    messages: Annotated[
        list[ChatMessage],
        Field(
            min_length=1,
            max_length=MAX_MESSAGES,
            description="The conversation; the last message must be the user's question.",
        ),
    ]
    stream: Annotated[bool, Field(description="Send server-sent events (chunks).")] = False
    top_k: Annotated[
        int,
        Field(ge=1, le=MAX_TOP_K, strict=True, description="qa's own: passages to cite."),
        BeforeValidator(_whole_number),
    ] = DEFAULT_TOP_K

    @model_validator(mode="after")
    def _asks_a_question(self) -> ChatCompletionRequest:
        """The same checks as /answer's question, on every user turn (earlier ones are history)."""
        if self.messages[-1].role != "user":
            raise ValueError("the last message must be the user's question (role 'user')")
        for message in self.messages:
            if message.role == "user" and len(message.text()) > MAX_QUESTION_CHARS:
                raise ValueError(f"a user message is over {MAX_QUESTION_CHARS} characters")
        if not normalise_question(self.messages[-1].text()):
            raise ValueError("the question (the last user message) must not be blank")
        return self

    def question(self) -> str:
        return self.messages[-1].text()

    def history(self) -> list[str]:
        return [m.text() for m in self.messages[:-1] if m.role == "user"]


class AssistantMessageOut(BaseModel):
    role: Literal["assistant"]
    content: str


class ChoiceOut(BaseModel):
    index: int
    message: AssistantMessageOut
    finish_reason: Literal["stop"]


class ChatCompletionOut(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChoiceOut]
    qa: AnswerOut = Field(description="The whole answer object, as POST /answer returns it.")


class ModelOut(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelListOut(BaseModel):
    object: Literal["list"]
    data: list[ModelOut]


def completion_text(answer: Answer) -> str:
    """The message a chat front-end shows: the answer sentence (its ``[n]`` pointing into the
    list), then each cited passage, numbered, with title, date, page and its quoted words."""
    lines = [answer_sentence(answer)]
    if answer.passages:
        lines += ["", f"{sources_heading(answer)}:"]
        for passage in answer.passages:
            lines.append(
                f'[{passage.rank}] {", ".join(source_parts(passage))}: "{quoted(passage.text)}"'
            )
    return "\n".join(lines)


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def _chunk(
    completion_id: str, created: int, delta: dict[str, Any], finish: str | None
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


async def _events(answer: Answer) -> AsyncIterator[bytes]:
    """OpenAI's chunk stream for an answer already chosen: the role, the content a line at a
    time (so a front-end shows it as it comes), a last chunk with ``finish_reason`` and the
    answer object, then ``[DONE]``."""
    completion_id, created = _completion_id(), int(time.time())
    yield _event(_chunk(completion_id, created, {"role": "assistant", "content": ""}, None))
    for line in completion_text(answer).splitlines(keepends=True):
        yield _event(_chunk(completion_id, created, {"content": line}, None))
    last = _chunk(completion_id, created, {}, "stop")
    last["qa"] = answer.as_dict()
    yield _event(last)
    yield b"data: [DONE]\n\n"


def _event(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def openai_router(qa: QAApp) -> APIRouter:
    """The two routes over ``qa``'s ask seam; ``qa.api`` includes them and limits the body."""
    router = APIRouter(tags=["openai"])

    @router.get("/v1/models", response_model=ModelListOut)
    def models() -> dict[str, Any]:
        """The one model, `qa`: answers quoted from the documents."""
        return {
            "object": "list",
            "data": [
                {"id": MODEL_ID, "object": "model", "created": MODEL_CREATED, "owned_by": "qa"}
            ],
        }

    @router.post(
        CHAT_PATH,
        response_model=ChatCompletionOut,
        max_body_size=MAX_ASK_BODY,
        responses={
            200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
            400: {"model": ErrorOut, "description": "Body unreadable (not UTF-8 JSON)"},
            404: {"model": ErrorOut, "description": "A model other than `qa`"},
            413: {"model": ErrorOut, "description": "Request body too large"},
        },
    )
    async def chat_completions(request: ChatCompletionRequest) -> Response:
        """Answer the last user message, OpenAI-style; `stream: true` sends server-sent events."""
        if request.model != MODEL_ID:
            raise HTTPException(
                404, f"no model {request.model[:80]!r}; the one model is {MODEL_ID!r}"
            )
        answer = await qa.asker.answer(request.question(), request.top_k, request.history())
        if request.stream:
            return StreamingResponse(
                _events(answer),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        body = {
            "id": _completion_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL_ID,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": completion_text(answer)},
                    "finish_reason": "stop",
                }
            ],
            "qa": answer.as_dict(),
        }
        return Response(orjson.dumps(body), media_type="application/json")

    return router
