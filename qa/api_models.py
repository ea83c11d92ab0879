"""Request and response bodies of the HTTP API, so /docs and /openapi.json describe every field.

The answer models mirror ``qa.answering.Answer`` field for field (a test checks they stay in step).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from qa.question import (
    DEFAULT_TOP_K,
    MAX_HISTORY,
    MAX_QUESTION_CHARS,
    MAX_TOP_K,
    normalise_question,
)


def _whole_number(value: Any) -> Any:
    """JSON has one number type: 5.0 is the integer 5 (JSON Schema agrees); 5.5 stays invalid."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class AnswerRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": "which borough stayed good in 2019"}]},
    )

    question: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_QUESTION_CHARS,
            strict=True,
            description="The question, in plain words; not blank.",
        ),
    ]
    top_k: Annotated[
        int,
        Field(ge=1, le=MAX_TOP_K, strict=True, description="How many passages to return."),
        BeforeValidator(_whole_number),
    ] = DEFAULT_TOP_K
    history: Annotated[
        list[Annotated[str, Field(max_length=MAX_QUESTION_CHARS, strict=True)]] | None,
        Field(
            max_length=MAX_HISTORY,
            description="Earlier questions of the conversation, oldest first, for follow-ups.",
        ),
    ] = None

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not normalise_question(value):  # what the ask seam would be left with
            raise ValueError("must not be blank (invisible characters do not count)")
        return value


class SourceOut(BaseModel):
    """Another place the same passage appears."""

    doc_id: str
    title: str
    source: str
    published: str | None
    start: int
    end: int
    revision: str


_REVISION = (
    "The document's revision the offsets point into: the sha256 of its file's bytes. "
    "GET /documents/{doc_id}?revision=… serves it while an index version keeps it."
)


class PassageOut(BaseModel):
    """One cited passage, best first; ``GET /documents/{doc_id}?revision=…`` text[start:end]
    == text."""

    rank: int
    score: float
    text: str
    doc_id: str
    title: str
    source: str = Field(description="Path of the file, relative to the docs folder.")
    published: str | None = Field(description="Publication date, YYYY-MM-DD, if known.")
    start: int = Field(description="Offset of the passage in the document text.")
    end: int
    revision: str = Field(description=_REVISION)
    answer_start: int | None = Field(description="The answer sentence, as document offsets.")
    answer_end: int | None
    also_in: list[SourceOut] = Field(description="Other documents quoting the same passage.")
    page: int | None = Field(
        None, description="PDFs: the 1-based page the passage starts on; null for other formats."
    )
    page_end: int | None = Field(None, description="PDFs: the page it ends on.")


class AnswerOut(BaseModel):
    question: str
    answer: str | None = Field(description="The answering sentence with its [rank], or null.")
    found: bool = Field(description="False when the documents do not cover the question.")
    confidence: float = Field(ge=0, le=1)
    took_ms: float
    passages: list[PassageOut]
    resolved_question: str | None = Field(
        description="The follow-up merged with the conversation, if it was."
    )
    page: int | None = Field(
        None, description="PDFs: the page of the answer sentence; null for other formats."
    )
    page_end: int | None = Field(None, description="PDFs: the page the answer sentence ends on.")


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    source: str
    published: str | None
    passages: int | None = Field(
        description="Passages indexed from it; null for an earlier revision (counted only for "
        "the served version)."
    )
    sha256: str = Field(description="Its revision: the sha256 of the file's bytes.")
    encoding: str | None = Field(
        description="The text encoding the file was decoded from (text and HTML files: declared "
        "or detected); null for PDF and .docx, and for documents indexed before it was recorded."
    )


class DocumentTextOut(DocumentOut):
    text: str = Field(description="The full text that citation offsets point into.")


class RebuildStatusOut(BaseModel):
    running: bool
    done: int = Field(description="Texts embedded so far by the running build.")
    total: int
    started_at: float | None = Field(description="Unix time the last build started.")
    last_report: dict[str, Any] | None
    last_error: str | None


class ReconciledSourcesOut(BaseModel):
    added: list[str]
    changed: list[str]
    removed: list[str]
    failed: list[dict[str, str]] = Field(description="Files that could not be read, with why.")


class ReconciledOut(BaseModel):
    at: str | None = Field(description="When the last pass ended; null before the first.")
    added: int = Field(description="Files in the docs folder the index did not hold.")
    changed: int = Field(description="Files whose bytes differed from the indexed revision.")
    removed: int = Field(description="Indexed documents whose file was gone.")
    failed: int = Field(description="Files in the docs folder that could not be read.")
    sources: ReconciledSourcesOut = Field(description="Their names (the first 20 of each).")
    version: str | None = Field(description="The index version the pass built, if it built one.")
    error: str | None = Field(description="Why the pass could not bring the index in step.")


class WatchOut(BaseModel):
    enabled: bool = Field(description="Whether the docs folder is watched (QA_WATCH).")
    folder: str | None
    changes_seen: int = Field(description="Batches of changes that were indexed.")
    last_change_at: float | None = Field(description="Unix time of the last such batch.")
    last_indexed_at: float | None = Field(description="Unix time its index was served.")
    last_error: str | None


class FeedbackCountsOut(BaseModel):
    up: int
    down: int
    total: int


class HealthOut(BaseModel):
    status: str
    model: str
    documents: int
    passages: int
    index_version: str
    index_built_at: str
    store: str = Field(description="Where the index lives: `embedded` or `milvus` (QA_STORE).")
    rebuild: RebuildStatusOut
    notice: str | None = Field(description="Why the served index is not the newest, if it is not.")
    answer_workers: int = Field(
        description="Answer worker processes running; with none, the server answers itself."
    )
    reconciled: ReconciledOut = Field(
        description="The last comparison of the docs folder with the index (start-up, then "
        "every QA_RECONCILE_EVERY_S)."
    )
    watch: WatchOut | None = Field(None, description="The docs folder watch (qa serve --watch).")
    feedback: FeedbackCountsOut = Field(
        description="Readers' verdicts stored so far (POST /feedback, the chat's thumbs)."
    )


class StoredOut(BaseModel):
    name: str = Field(description="The safe name the file is stored under.")
    doc_id: str


class SkippedOut(StoredOut):
    reason: str


class RejectedOut(BaseModel):
    name: str = Field(description="The file name as sent.")
    reason: str
    error: str


class UploadOut(BaseModel):
    added: list[StoredOut]
    updated: list[StoredOut] = Field(description="Same name, new content.")
    skipped: list[SkippedOut] = Field(description="Content already stored (same sha256).")
    rejected: list[RejectedOut]
    index: dict[str, Any] | None = Field(description="The build report, if anything was written.")


class DeleteOut(BaseModel):
    doc_id: str
    source: str
    index: dict[str, Any]


class RebuildStartedOut(BaseModel):
    started: bool
    full: bool
    detail: str


class ErrorOut(BaseModel):
    detail: str


class FieldErrorOut(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """FastAPI's 422 shape: one entry per invalid field."""

    detail: list[FieldErrorOut]
