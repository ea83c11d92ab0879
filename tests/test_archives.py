"""DOCX files are checked before anything in them is inflated (qa.archives through
qa.documents): zip bombs, parts that lie about their size and oversized parts are refused with a
reason; an ordinary document is read as before."""

from __future__ import annotations

import io
import struct
import zipfile

import docx
import pytest

from qa.archives import MAX_ENTRY_BYTES, MAX_TOTAL_BYTES
from qa.documents import parse_document
from qa.errors import UnreadableDocument

PART = "word/document.xml"


def _docx(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _with_part(data: bytes, name: str, content: bytes, stored: bool = False) -> bytes:
    """A copy of the zip ``data`` with part ``name`` holding ``content`` (added if new)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", method) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item.filename, source.read(item))
        target.writestr(name, content)
    return buffer.getvalue()


def streamed_bomb(data: bytes, name: str, unit: bytes, size: int) -> bytes:
    """A copy of the docx ``data`` whose part ``name`` inflates to ``size`` bytes of ``unit``,
    compressed as it is written (the inflated part is never in memory)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item.filename, source.read(item))
        block = unit * (1024 * 1024 // len(unit))
        with target.open(name, "w", force_zip64=True) as part:
            for _ in range(size // len(block)):
                part.write(block)
    return buffer.getvalue()


def _lying_about(data: bytes, name: str, claimed: int) -> bytes:
    """The zip ``data`` with ``name``'s uncompressed size set to ``claimed`` in both its local
    header and its central directory record."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    patched = bytearray(data)
    struct.pack_into("<I", patched, info.header_offset + 22, claimed)
    position = data.index(b"PK\x01\x02")
    while True:  # this part's central directory record: 46 fixed bytes, then its name
        length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46 : position + 46 + length] == name.encode():
            break
        position = data.index(b"PK\x01\x02", position + 4)
    struct.pack_into("<I", patched, position + 24, claimed)
    return bytes(patched)


GOOD = _docx(["Board minutes", "The board met on 15 October 2019 and approved the plan."])


def test_an_ordinary_docx_is_read() -> None:
    document = parse_document(GOOD, "minutes.docx")
    assert "approved the plan" in document.text and document.encoding is None


def test_a_zip_bomb_is_refused_before_it_inflates() -> None:
    """64 MB of XML in a fraction of a megabyte: refused from the sizes the archive declares."""
    data = streamed_bomb(GOOD, PART, b"<w:p/>", 64 * 1024 * 1024)
    assert len(data) < 1024 * 1024
    with pytest.raises(UnreadableDocument, match="would inflate"):
        parse_document(data, "bomb.docx")


def test_a_highly_compressed_part_is_refused_by_its_ratio() -> None:
    data = _with_part(GOOD, "word/media/fill.xml", b"a" * (MAX_ENTRY_BYTES // 2))
    with pytest.raises(UnreadableDocument, match="zip bomb"):
        parse_document(data, "ratio.docx")


def test_parts_over_the_total_limit_are_refused() -> None:
    part = bytes(range(256)) * (MAX_TOTAL_BYTES // 3 // 256 + 1)
    data = GOOD
    for number in range(4):  # each under the part limit and barely compressible (stored)
        data = _with_part(data, f"word/media/image{number}.bin", part, stored=True)
    with pytest.raises(UnreadableDocument, match="limit for all parts"):
        parse_document(data, "large.docx")


def test_a_part_that_lies_about_its_size_is_refused_when_inflated() -> None:
    """Headers claim 1 KB; the part inflates to 8 MB: counted while inflating, never trusted."""
    data = _with_part(GOOD, "word/media/liar.xml", b"<x/>" * (2 * 1024 * 1024))
    with pytest.raises(UnreadableDocument, match="CRC|inflates past"):
        parse_document(_lying_about(data, "word/media/liar.xml", 1024), "liar.docx")
