"""Text files and HTML pages decoded faithfully (qa.encodings through qa.documents): legacy and
UTF-16/32 files read as every editor reads them, a page's declared charset honoured, and nothing
ever stored with U+FFFD in place of bytes that could not be decoded."""

from __future__ import annotations

import codecs
import os

import pytest

from qa.documents import parse_document
from qa.encodings import decode_html, decode_text
from qa.errors import UnreadableDocument

POUND = "The Wyvern Trust charges £40 a year for membership of the café.\n"
TEXT = "Wyvern Trust notes\n\n" + POUND + "Its library opens at nine.\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("cp1252"), "cp1252"),  # Windows-1252 (and Latin-1) £ and é
        (TEXT.encode("utf-16"), "utf-16"),  # with its byte-order mark, little-endian here
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
        (TEXT.encode("utf-32"), "utf-32"),
    ],
    ids=["utf-8", "utf-8-bom", "cp1252", "utf-16-le", "utf-16-be", "utf-32"],
)
def test_text_files_decode_exactly_and_keep_their_encoding(data: bytes, encoding: str) -> None:
    document = parse_document(data, "trust.txt")
    assert document.text == TEXT  # offsets point into this text: not a character may differ
    assert document.encoding == encoding
    assert document.title == "Wyvern Trust notes"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Zażółć gęślą jaźń. Wszyscy ludzie rodzą się wolni i równi w godności.\n", "cp1250"),
        ("Все люди рождаются свободными и равными в своем достоинстве и правах.\n", "cp1251"),
    ],
)
def test_other_legacy_encodings_are_detected(text: str, encoding: str) -> None:
    decoded = decode_text(text.encode(encoding))
    assert decoded.text == text and decoded.encoding == encoding


def _page(charset_tag: str, body: str) -> str:
    return (
        f"<html><head>{charset_tag}<title>Café notes</title></head><body>"
        f"<p>{body}</p></body></html>"
    )


BODY = "The café on Wyvern Street has sold tea for £2 since 1999, its owner said."


@pytest.mark.parametrize(
    "tag",
    [
        '<meta charset="iso-8859-1">',
        "<meta charset=windows-1252>",
        '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">',
    ],
)
def test_html_declared_charset_is_honoured(tag: str) -> None:
    data = _page(tag, BODY).encode("cp1252")
    document = parse_document(data, "page.html")
    assert BODY in document.text and "\ufffd" not in document.text
    assert document.title == "Café notes"
    assert document.encoding == "cp1252"


def test_html_byte_order_mark_wins_and_undeclared_pages_are_utf8_or_detected() -> None:
    page = _page('<meta charset="iso-8859-1">', BODY)
    assert decode_html(page.encode("utf-16")).text == page  # the mark outranks the declaration
    undeclared = _page("", BODY)
    assert decode_html(undeclared.encode("utf-8")).encoding == "utf-8"
    assert decode_html(undeclared.encode("cp1252")).text == undeclared


def test_a_page_that_breaks_its_own_declaration_is_refused() -> None:
    data = _page('<meta charset="utf-8">', BODY).encode("cp1252")
    with pytest.raises(UnreadableDocument, match="declared charset"):
        parse_document(data, "broken.html")


def test_bytes_no_encoding_explains_are_refused_not_replaced() -> None:
    noise = bytes(b or 1 for b in os.urandom(4000))  # no NUL: not refused as binary first
    with pytest.raises(UnreadableDocument, match="save it as UTF-8"):
        parse_document(noise, "noise.txt")


def test_utf16_without_a_byte_order_mark_is_still_binary() -> None:
    with pytest.raises(UnreadableDocument, match="binary"):
        parse_document(TEXT.encode("utf-16-le"), "bare.txt")
