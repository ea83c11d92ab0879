"""Calling the web page's Gradio events the way a hostile client can: straight through the queue
routes, with whatever data it likes (no browser, no gradio_client checks)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

# Components whose values are never sent by the browser (held on the server).
_SERVER_HELD = {"state"}


@dataclass(frozen=True)
class Event:
    """One Gradio event: its dependency id, what triggers it, and its inputs' component types."""

    fn_index: int
    trigger_id: int
    api_name: str | None
    input_types: list[str]


def events(client: httpx.Client) -> list[Event]:
    """Every event the page declares, read from Gradio's /config."""
    config = client.get("/config").json()
    types = {component["id"]: component["type"] for component in config["components"]}
    found = []
    for dependency in config["dependencies"]:
        targets = dependency.get("targets") or [[None]]
        trigger = targets[0][0] if targets[0][0] is not None else -1
        found.append(
            Event(
                dependency["id"],
                trigger,
                dependency.get("api_name"),
                [types.get(i, "?") for i in dependency["inputs"]],
            )
        )
    return found


def file_data(path: str) -> dict[str, Any]:
    """What Gradio's upload route hands the browser for a stored file, pointing at ``path``."""
    return {
        "path": path,
        "orig_name": path.rsplit("/", 1)[-1],
        "meta": {"_type": "gradio.FileData"},
    }


def call(
    client: httpx.Client, event: Event, data: list[Any], timeout: float = 120.0
) -> tuple[int, dict[str, Any] | None]:
    """Join the queue with ``data`` and read the event's outcome from the stream.

    Returns the join's HTTP status and the ``process_completed`` message (None if the join was
    refused or the stream ended without one)."""
    session = uuid.uuid4().hex
    joined = client.post(
        "/gradio_api/queue/join",
        json={
            "data": data,
            "fn_index": event.fn_index,
            "trigger_id": event.trigger_id,
            "session_hash": session,
            "event_data": None,
        },
    )
    if joined.status_code != 200:
        return joined.status_code, None
    with client.stream(
        "GET", "/gradio_api/queue/data", params={"session_hash": session}, timeout=timeout
    ) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                return joined.status_code, message
            if message.get("msg") == "close_stream":
                break
    return joined.status_code, None


def sent_by_browser(event: Event) -> list[int]:
    """Positions of the inputs a client sends (server-held state is not among them)."""
    return [i for i, kind in enumerate(event.input_types) if kind not in _SERVER_HELD]
