"""Readers' verdicts on answers, kept append-only, and turned into evaluation questions.

Each verdict (thumbs up or down on an answer, from the chat or ``POST /feedback``) is one row of
a SQLite file in the data folder (``QA_DATA_DIR``), which no build touches: feedback outlives
``qa index build --full``, a restart and a change of index version. The cited spans are checked
against the served index and their words stored with the row, so what a reader confirmed stays
readable whatever later happens to the document. Rows are never changed or deleted (SQLite
triggers refuse it): a reader who changes their mind adds a row, and the latest row for a
question wins on export.

``export_jsonl`` writes the evaluation format (``eval/README.md``): a confirmed answer gives its
sentence as the gold phrase, a confirmed "not found" an unanswerable question, a "this passage
answers it instead" that passage's words. ``qa eval`` then scores the engine on what readers
confirmed.

Writes need no admin token: feedback is what readers say, not a change to the documents, and a
reader of a public server has no token. What protects the server instead: bodies and comments are
small (``MAX_FEEDBACK_BODY``, ``MAX_COMMENT_CHARS``), spans must point into the served index
(nothing else is stored), and each client and the server as a whole are rate-limited
(``RateLimit``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import orjson

from qa.documents import Document
from qa.errors import QAError
from qa.question import checked_question

FEEDBACK_FILE = "feedback.sqlite"
VERDICTS = ("up", "down")
MAX_COMMENT_CHARS = 2000
MAX_SPAN_CHARS = 4000  # a passage is at most QA_MAX_CHARS (<= 4000) characters
MAX_FEEDBACK_BODY = 32 * 1024
PER_CLIENT_PER_MINUTE = 30  # a reader clicking through answers stays far below this
ALL_CLIENTS_PER_MINUTE = 600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    question TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('up', 'down')),
    doc_id TEXT, source TEXT, title TEXT, start INTEGER, "end" INTEGER, passage TEXT,
    answer_start INTEGER, answer_end INTEGER, answer_text TEXT,
    comment TEXT,
    better_doc_id TEXT, better_start INTEGER, better_end INTEGER, better_text TEXT,
    index_version TEXT
);
CREATE TRIGGER IF NOT EXISTS feedback_append_only_update BEFORE UPDATE ON feedback
BEGIN SELECT RAISE(ABORT, 'feedback is append-only'); END;
CREATE TRIGGER IF NOT EXISTS feedback_append_only_delete BEFORE DELETE ON feedback
BEGIN SELECT RAISE(ABORT, 'feedback is append-only'); END;
"""


class BadFeedback(QAError):
    """Feedback that cannot be stored: a span outside the served index, an unknown verdict."""


class TooMuchFeedback(QAError):
    """A client (or everyone together) sent more feedback than the rate limit allows."""


@dataclass(frozen=True)
class Span:
    """``documents[doc_id].text[start:end]``."""

    doc_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Verdict:
    """One reader's verdict: on the answer sentence (``answer`` set: it lies inside
    ``passage``), on a cited passage that was not the answer (``answer`` None), or, with no
    ``passage``, on a "not found in the documents" reply."""

    question: str
    verdict: str
    passage: Span | None = None
    answer: Span | None = None
    comment: str | None = None
    better: Span | None = None  # "this passage answers it instead"


@dataclass(frozen=True)
class ExportReport:
    entries: int  # feedback rows read
    questions: int  # questions written
    answerable: int
    unanswerable: int
    skipped: int  # latest verdict says nothing a question can be scored on (a bare thumbs down)


class FeedbackStore:
    """The append-only SQLite file; one short connection per call (writes are rare)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FEEDBACK_FILE
        self._lock = threading.Lock()  # one writer at a time in this process
        self._counted: tuple[object, dict[str, int]] | None = None  # (file signature, counts)

    @contextmanager
    def _connect(self, create: bool) -> Iterator[sqlite3.Connection | None]:
        if not create and not self.path.exists():
            yield None
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
            yield connection

    def add(self, verdict: Verdict, documents: Mapping[str, Document], version: str) -> int:
        """Check ``verdict`` against the served ``documents`` and append it; its row id.

        Anything wrong raises ``BadFeedback`` before the file is opened: nothing is stored."""
        row = _checked_row(verdict, documents)
        row["at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        row["index_version"] = version
        names = ", ".join(f'"{name}"' for name in row)
        marks = ", ".join("?" for _ in row)
        with self._lock, self._connect(create=True) as connection:
            assert connection is not None
            with connection:
                cursor = connection.execute(
                    f"INSERT INTO feedback ({names}) VALUES ({marks})", list(row.values())
                )
            return int(cursor.lastrowid or 0)

    def rows(self) -> list[dict[str, Any]]:
        """Every row, oldest first."""
        with self._connect(create=False) as connection:
            if connection is None:
                return []
            connection.row_factory = sqlite3.Row
            return [dict(r) for r in connection.execute("SELECT * FROM feedback ORDER BY id")]

    def counts(self) -> dict[str, int]:
        """Rows by verdict, and all of them (what the Documents tab and /health show).

        Read again only when the file or its write-ahead log has changed since the last read
        (any process may have written): /health answers on the event loop, and opens no
        database while nothing was added."""
        signature = self._signature()
        counted = self._counted
        if counted is not None and counted[0] == signature:
            return dict(counted[1])
        counts = self._read_counts()
        self._counted = (signature, counts)  # a write in between only makes the next call read
        return dict(counts)

    def _signature(self) -> object:
        """Modification time and size of the file and of its write-ahead log (None if absent)."""
        marks: list[tuple[int, int] | None] = []
        for path in (self.path, self.path.with_name(self.path.name + "-wal")):
            try:
                stat = path.stat()
            except OSError:
                marks.append(None)
            else:
                marks.append((stat.st_mtime_ns, stat.st_size))
        return tuple(marks)

    def _read_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(VERDICTS, 0)
        with self._connect(create=False) as connection:
            if connection is not None:
                query = "SELECT verdict, COUNT(*) FROM feedback GROUP BY verdict"
                for verdict, count in connection.execute(query):
                    counts[verdict] = int(count)
        return {**counts, "total": sum(counts.values())}

    def export_jsonl(self, out: TextIO) -> ExportReport:
        """Write the evaluation questions readers confirmed (see the module's docstring)."""
        rows = self.rows()
        latest: dict[str, dict[str, Any]] = {}
        for row in rows:  # oldest first: a later verdict on the same question replaces it
            latest[" ".join(row["question"].lower().split())] = row
        answerable = unanswerable = skipped = 0
        for row in latest.values():
            item = evaluation_item(row)
            if item is None:
                skipped += 1
                continue
            out.write(orjson.dumps(item).decode() + "\n")
            if item.get("unanswerable"):
                unanswerable += 1
            else:
                answerable += 1
        return ExportReport(len(rows), answerable + unanswerable, answerable, unanswerable, skipped)


def evaluation_item(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """A stored verdict as one evaluation question, or None if it confirms nothing."""
    base = {"q": row["question"], "feedback_id": row["id"]}
    if row["better_text"]:
        return {**base, "gold": [" ".join(row["better_text"].split())]}
    if row["verdict"] != "up":
        return None
    if row["answer_text"]:
        return {**base, "gold": [" ".join(row["answer_text"].split())]}
    if row["doc_id"] is None:  # "not found in the documents", confirmed
        return {**base, "gold": [], "unanswerable": True}
    return None  # a thumbs up on a passage that was not the answer: no sentence to score


def _checked_row(verdict: Verdict, documents: Mapping[str, Document]) -> dict[str, Any]:
    """The row to store, with the spans' words read from the served documents."""
    try:
        question = checked_question(verdict.question)
    except QAError as error:
        raise BadFeedback(str(error)) from None
    if verdict.verdict not in VERDICTS:
        raise BadFeedback(f"verdict must be 'up' or 'down', not {verdict.verdict[:20]!r}")
    comment = (verdict.comment or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT_CHARS:
        raise BadFeedback(f"the comment is over {MAX_COMMENT_CHARS} characters")
    if verdict.answer is not None and verdict.passage is None:
        raise BadFeedback("an answer span needs the passage it was cited in")
    row: dict[str, Any] = {"question": question, "verdict": verdict.verdict, "comment": comment}
    if verdict.passage is not None:
        document, text = _span_text(verdict.passage, documents, "passage")
        row.update(
            doc_id=document.doc_id,
            source=document.source,
            title=document.title,
            start=verdict.passage.start,
            end=verdict.passage.end,
            passage=text,
        )
        answer = verdict.answer
        if answer is not None:
            inside = answer.doc_id == verdict.passage.doc_id and (
                verdict.passage.start <= answer.start < answer.end <= verdict.passage.end
            )
            if not inside:
                raise BadFeedback("the answer span must lie inside the cited passage")
            row.update(
                answer_start=answer.start,
                answer_end=answer.end,
                answer_text=document.text[answer.start : answer.end],
            )
    if verdict.better is not None:
        _, text = _span_text(verdict.better, documents, "better passage")
        row.update(
            better_doc_id=verdict.better.doc_id,
            better_start=verdict.better.start,
            better_end=verdict.better.end,
            better_text=text,
        )
    return row


def _span_text(span: Span, documents: Mapping[str, Document], what: str) -> tuple[Document, str]:
    document = documents.get(span.doc_id)
    if document is None:
        raise BadFeedback(f"the {what} names no indexed document ({span.doc_id[:40]!r})")
    if not 0 <= span.start < span.end <= len(document.text):
        raise BadFeedback(f"the {what}'s offsets lie outside its document")
    if span.end - span.start > MAX_SPAN_CHARS:
        raise BadFeedback(f"the {what} is over {MAX_SPAN_CHARS} characters")
    text = document.text[span.start : span.end]
    if not text.strip():
        raise BadFeedback(f"the {what} is blank")
    return document, text


class RateLimit:
    """At most ``per_client`` events a minute from one client and ``overall`` from all of them.

    Sliding one-minute windows held in memory: a restart forgets them, which is fine for a
    limit meant to stop a script flooding the file, not to count readers. Behind a reverse proxy
    every reader shares the proxy's address, so the per-client limit becomes a shared one."""

    WINDOW_S = 60.0

    def __init__(self, per_client: int, overall: int) -> None:
        self.per_client, self.overall = per_client, overall
        self._clients: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Count one event from ``client``, or raise ``TooMuchFeedback`` without counting it."""
        now = time.monotonic()
        with self._lock:
            recent = self._clients.setdefault(client, deque())
            for window in (recent, self._all):
                while window and now - window[0] > self.WINDOW_S:
                    window.popleft()
            if len(recent) >= self.per_client or len(self._all) >= self.overall:
                raise TooMuchFeedback("too much feedback at once; try again in a minute")
            recent.append(now)
            self._all.append(now)
            if len(self._clients) > 10_000:  # forget idle clients, so the map stays small
                self._clients = {c: w for c, w in self._clients.items() if w}


class FeedbackDesk:
    """Where the faces hand a verdict in: rate-limited, checked against the served index, stored.

    The API's ``POST /feedback`` and the chat's thumbs both come here."""

    def __init__(self, store: FeedbackStore, limit: RateLimit | None = None) -> None:
        self.store = store
        self.limit = limit or RateLimit(PER_CLIENT_PER_MINUTE, ALL_CLIENTS_PER_MINUTE)

    def submit(
        self, verdict: Verdict, documents: Mapping[str, Document], version: str, client: str
    ) -> int:
        """Store ``verdict`` from ``client`` (its address); its row id. A refused verdict
        (``BadFeedback``) still counts against the client's limit: checking costs work too."""
        self.limit.check(client)
        return self.store.add(verdict, documents, version)
