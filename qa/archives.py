"""Checking a zip container (a .docx) before a reader inflates it, so a zip bomb costs nothing.

A 1.2 MB .docx whose word/document.xml inflates to 1.2 GB took the server to 3.8 GB before it
was refused. The limits, in the order they are checked:
- the central directory's sizes (what the archive claims): at most ``MAX_ENTRIES`` entries,
  each at most ``MAX_ENTRY_BYTES`` inflated and, past ``RATIO_FLOOR_BYTES``, at most
  ``MAX_RATIO`` times its compressed size; all together at most ``MAX_TOTAL_BYTES``;
- then every entry is actually inflated, a chunk at a time with nothing kept, counting: headers
  can lie, so an entry yielding more than it claims, or the archive more than the total limit,
  is refused as soon as it does.
Office documents stay far inside these limits: XML compresses 5–20 times; images, which are most
of a large document's bytes, hardly at all; a 300-page report's document.xml is a few MB.
"""

from __future__ import annotations

import io
import zipfile

from qa.errors import UnreadableDocument

MAX_ENTRIES = 2000
MAX_ENTRY_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 4 * 1024 * 1024  # smaller entries may compress as well as they like
_CHUNK = 1024 * 1024


def check_zip(data: bytes, kind: str = ".docx") -> None:
    """Refuse (``UnreadableDocument``, 422 at the API) a zip whose contents would inflate past
    the limits above; returns once every entry has been inflated within them."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            _check_declared(entries, kind)
            _check_inflated(archive, entries, kind)
    except UnreadableDocument:
        raise
    except Exception as error:  # bad zip, bad CRC, zlib, encrypted or unknown compression alike
        raise UnreadableDocument(f"broken {kind}: {type(error).__name__}: {error}") from None


def _check_declared(entries: list[zipfile.ZipInfo], kind: str) -> None:
    if len(entries) > MAX_ENTRIES:
        raise UnreadableDocument(f"refused {kind}: {len(entries)} parts (at most {MAX_ENTRIES})")
    total = 0
    for entry in entries:
        size = entry.file_size
        if size > MAX_ENTRY_BYTES:
            raise _too_big(kind, entry.filename, size, f"{_mb(MAX_ENTRY_BYTES)} limit for one part")
        if size > RATIO_FLOOR_BYTES and size > MAX_RATIO * max(entry.compress_size, 1):
            ratio = size / max(entry.compress_size, 1)
            raise UnreadableDocument(
                f"refused {kind}: {entry.filename} would inflate {ratio:.0f} times "
                f"(to {_mb(size)}; at most {MAX_RATIO} times past {_mb(RATIO_FLOOR_BYTES)}): "
                "a zip bomb"
            )
        total += size
    if total > MAX_TOTAL_BYTES:
        raise _too_big(kind, "its parts", total, f"{_mb(MAX_TOTAL_BYTES)} limit for all parts")


def _check_inflated(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], kind: str) -> None:
    total = 0
    for entry in entries:
        inflated = 0
        with archive.open(entry) as stream:
            while chunk := stream.read(_CHUNK):
                inflated += len(chunk)
                total += len(chunk)
                if inflated > entry.file_size or inflated > MAX_ENTRY_BYTES:
                    raise UnreadableDocument(
                        f"refused {kind}: {entry.filename} inflates past the "
                        f"{_mb(entry.file_size)} its header claims"
                    )
                if total > MAX_TOTAL_BYTES:
                    raise _too_big(kind, "its parts", total, f"{_mb(MAX_TOTAL_BYTES)} limit")


def _too_big(kind: str, what: str, size: int, limit: str) -> UnreadableDocument:
    return UnreadableDocument(
        f"refused {kind}: {what} would inflate to {_mb(size)}, over the {limit}"
    )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
