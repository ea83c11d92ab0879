"""An answer worker: a process of its own that answers questions, so a server can use every core.

One Python process answers on about 1.5 cores at best: its threads take turns holding the GIL,
and the event loop that serves /health waits its turn among them. ``qa.answer_pool`` starts a few
of these processes (``python -m qa.answer_worker``) and hands each question to an idle one.

A worker loads the model and one index version, and answers one question at a time. It speaks
length-prefixed frames on stdin and stdout:

1. in: the server's settings (JSON) and the index version to load; out: ``READY``;
2. then, per question, in: ``{"version", "question", "top_k", "history"}`` (JSON); out:
   ``ANSWERED`` + the Answer as JSON (the /answer body), or ``FAILED`` + why (UTF-8 text).

A question naming another version than the one loaded loads that version first: the server
names the version it serves, so workers follow its swaps. A worker never writes to the index.
It exits when stdin closes, which is also what happens when the server dies.
"""

from __future__ import annotations

import logging
import os
import struct
import sys
from typing import IO, Any

import orjson

from qa.answering import answer_question
from qa.config import Settings
from qa.embedding import Embedder
from qa.errors import QAError
from qa.priority import lower_this_process
from qa.retrieval import Retriever, open_retriever

log = logging.getLogger(__name__)

FRAME_HEADER = struct.Struct(">I")  # the payload's length in bytes
READY = b"R"
ANSWERED = b"A"
FAILED = b"E"


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame's payload; None when the stream has ended (the server has gone)."""
    header = stream.read(FRAME_HEADER.size)
    if len(header) < FRAME_HEADER.size:
        return None
    (length,) = FRAME_HEADER.unpack(header)
    payload = stream.read(length)
    return payload if len(payload) == length else None


def frame(payload: bytes) -> bytes:
    return FRAME_HEADER.pack(len(payload)) + payload


def hello(settings: Settings, version: str) -> bytes:
    """The first frame a worker reads: what to load."""
    return orjson.dumps({"settings": settings.model_dump(mode="json"), "version": version})


class Answerer:
    """The model and the one index version a worker holds."""

    def __init__(self, settings: Settings, version: str) -> None:
        self.settings = settings
        self.embedder = Embedder.from_settings(settings)
        self.retriever: Retriever | None = open_retriever(settings, self.embedder, version)
        self.embedder.encode(["warm up"])

    def answer(self, request: dict[str, Any]) -> bytes:
        retriever = self.retriever
        if retriever is None or retriever.index.version != request["version"]:
            self.retriever = retriever = None  # one version in memory at a time
            retriever = open_retriever(self.settings, self.embedder, request["version"])
            self.retriever = retriever
        answer = answer_question(
            retriever, request["question"], request["top_k"], request["history"]
        )
        return orjson.dumps(answer)


def serve(requests: IO[bytes], replies: IO[bytes]) -> int:
    """Load what the hello frame names, say READY, then answer until ``requests`` ends."""
    first = read_frame(requests)
    if first is None:
        return 1
    start = orjson.loads(first)
    settings = Settings.model_validate(start["settings"])
    answerer = Answerer(settings, start["version"])
    replies.write(frame(READY))
    replies.flush()
    while (payload := read_frame(requests)) is not None:
        try:
            reply = ANSWERED + answerer.answer(orjson.loads(payload))
        except QAError as error:  # the server answers it itself, and reports it the usual way
            reply = FAILED + str(error).encode()
        except Exception as error:
            log.exception("answer worker %d failed on a question", os.getpid())
            reply = FAILED + f"{type(error).__name__}: {error}".encode()
        replies.write(frame(reply))
        replies.flush()
    return 0


def main() -> int:
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    # Replies go to the real stdout only; anything a library prints lands in the server's log
    # (stderr) instead of corrupting a frame.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    lower_this_process()  # below the server's event loop, so /health is never queued behind us
    try:
        return serve(sys.stdin.buffer, replies)
    except KeyboardInterrupt:  # the server's Ctrl-C reaches its whole process group
        return 0


if __name__ == "__main__":
    sys.exit(main())
