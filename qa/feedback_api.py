"""``POST /feedback`` and ``GET /feedback/counts``: readers' verdicts on answers (``qa.feedback``).

Open like ``/answer`` (no admin token: readers give feedback, and a reader has no token), but
small, checked against the served index and rate-limited; see ``qa.feedback`` for why.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from qa.api_models import ErrorOut, ValidationErrorOut
from qa.app import QAApp
from qa.feedback import MAX_COMMENT_CHARS, MAX_FEEDBACK_BODY, Span, Verdict
from qa.question import MAX_QUESTION_CHARS

FEEDBACK_PATH = "/feedback"
_OFFSET = Field(ge=0, le=2**31 - 1, strict=True)


class SpanIn(BaseModel):
    """A span of an indexed document, as the answer object gives it."""

    model_config = ConfigDict(extra="forbid")

    doc_id: Annotated[str, Field(min_length=1, max_length=64, strict=True)]
    start: Annotated[int, _OFFSET]
    end: Annotated[int, _OFFSET]


class CitedPassageIn(SpanIn):
    """The cited passage from the answer object (``passages[i]``): its ``answer_start`` and
    ``answer_end`` are set when it holds the answer sentence."""

    answer_start: Annotated[int | None, _OFFSET] = None
    answer_end: Annotated[int | None, _OFFSET] = None


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "question": "which borough stayed good in 2019",
                    "verdict": "up",
                    "passage": {
                        "doc_id": "…",
                        "start": 0,
                        "end": 420,
                        "answer_start": 120,
                        "answer_end": 230,
                    },
                }
            ]
        },
    )

    question: Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS, strict=True)]
    verdict: Literal["up", "down"]
    passage: CitedPassageIn | None = Field(
        None,
        description="The cited passage judged (with its answer span if it held the answer); "
        'null for a "not found in the documents" reply.',
    )
    comment: Annotated[str | None, Field(max_length=MAX_COMMENT_CHARS, strict=True)] = None
    better: SpanIn | None = Field(None, description="This passage answers it instead.")


class FeedbackOut(BaseModel):
    id: int = Field(description="The stored row's number.")
    counts: dict[str, int] = Field(description="Verdicts stored so far: up, down, total.")


def _span(given: SpanIn | None) -> Span | None:
    return None if given is None else Span(given.doc_id, given.start, given.end)


def feedback_router(qa: QAApp) -> APIRouter:
    router = APIRouter(tags=["feedback"])

    @router.post(
        FEEDBACK_PATH,
        response_model=FeedbackOut,
        max_body_size=MAX_FEEDBACK_BODY,
        responses={
            400: {"model": ErrorOut, "description": "Body unreadable (not UTF-8 JSON)"},
            413: {"model": ErrorOut, "description": "Request body too large"},
            422: {
                "model": ErrorOut | ValidationErrorOut,
                "description": "A passage the index does not hold, or a field is invalid",
            },
            429: {"model": ErrorOut, "description": "Too much feedback from this client"},
        },
    )
    def feedback(body: FeedbackRequest, request: Request) -> dict[str, Any]:
        """Record a reader's thumbs up or down on an answer; append-only, kept across rebuilds."""
        passage = body.passage
        answer = None
        if passage is not None and (passage.answer_start, passage.answer_end) != (None, None):
            answer = Span(passage.doc_id, passage.answer_start or 0, passage.answer_end or 0)
        verdict = Verdict(
            question=body.question,
            verdict=body.verdict,
            passage=_span(passage),
            answer=answer,
            comment=body.comment,
            better=_span(body.better),
        )
        data = qa.service.retriever  # one served version for the whole check
        client = request.client.host if request.client else "unknown"
        row = qa.feedback.submit(verdict, data.data.documents, data.index.version, client)
        return {"id": row, "counts": qa.feedback.store.counts()}

    @router.get(f"{FEEDBACK_PATH}/counts", response_model=dict[str, int])
    def counts() -> dict[str, int]:
        """Verdicts stored so far: up, down, total."""
        return qa.feedback.store.counts()

    return router
