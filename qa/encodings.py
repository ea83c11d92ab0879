"""Bytes -> text for text files and HTML pages: decoded faithfully, or refused with the reason.

Text files (.txt, .md, .rst and the like): UTF-8 (with or without its byte-order mark), then a byte-order mark
(UTF-16, UTF-32), then detection (charset-normalizer). HTML: a byte-order mark, then the charset
the page declares (``<meta charset>``, ``<meta http-equiv="Content-Type">``, the XML declaration),
then UTF-8, then detection. Undecodable bytes are never replaced with U+FFFD: a page that breaks
its own declaration, or bytes no encoding explains, are refused (``UnreadableDocument``). The
encoding used is kept with the document (``Document.encoding``, shown by ``GET /documents``).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from qa.errors import UnreadableDocument

# Longest first: the UTF-32 little-endian mark begins with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
WIDE_BOMS = tuple(bom for bom, name in _BOMS if name != "utf-8-sig")  # text with NUL bytes
# Where a page's charset declaration is looked for (browsers look at the first 1024 bytes; some
# pages put scripts first).
_PRESCAN_BYTES = 4096
_DECLARED = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)"""
    rb"""|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)
# Labels that browsers read as another encoding (the WHATWG Encoding Standard): a page saying
# "iso-8859-1" is decoded as Windows-1252, whose extra characters (€, curly quotes) such pages use.
# Keys are Python's codec names (``codecs.lookup(label).name``).
_AS_BROWSERS_READ = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gbk",
    "euc_kr": "cp949",
    # A declaration of UTF-16 or UTF-32 inside bytes that could be read to find it is wrong.
    "utf-16": "utf-8",
    "utf-16-le": "utf-8",
    "utf-16-be": "utf-8",
    "utf-32": "utf-8",
    "utf-32-le": "utf-8",
    "utf-32-be": "utf-8",
}
# Detection on short Western text cannot tell Windows-1252 from its neighbours (a £ is Ł in
# Windows-1250): the commonest legacy encoding wins when it explains the bytes as cleanly as the
# best guess and reads nearly as coherently. Polish, Greek or Cyrillic text reads as mess in
# Windows-1252, so their own encodings still win.
_PREFERRED_LEGACY = "cp1252"
_COHERENCE_MARGIN = 0.1


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python's codec name: utf-8, utf-8-sig, utf-16, utf-32, cp1252, …


def decode_text(data: bytes) -> Decoded:
    """A .txt or .md file's text: UTF-8 (its byte-order mark dropped), else by byte-order mark
    (UTF-16, UTF-32), else detected."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, "utf-8-sig", "its byte-order mark")
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return _by_bom(data) or _detected(data)


def decode_html(data: bytes) -> Decoded:
    """An HTML page's text: by byte-order mark, else as it declares, else UTF-8, else detected."""
    marked = _by_bom(data)
    if marked is not None:
        return marked
    declared = declared_charset(data)
    if declared is not None:
        return _strict(data, declared, f"its declared charset ({declared})")
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return _detected(data)


def declared_charset(data: bytes) -> str | None:
    """The codec for the charset a page declares near its start, as browsers read it; None when
    it declares none or one Python does not know."""
    match = _DECLARED.search(data[:_PRESCAN_BYTES])
    if match is None:
        return None
    label = (match.group(1) or match.group(2)).decode("ascii", errors="replace")
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _AS_BROWSERS_READ.get(name, name)


def _by_bom(data: bytes) -> Decoded | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _strict(data, name, "its byte-order mark")
    return None


def _detected(data: bytes) -> Decoded:
    from charset_normalizer import from_bytes  # imported here: only non-UTF-8 files need it

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise UnreadableDocument(
            "not UTF-8, and no text encoding explains its bytes; save it as UTF-8"
        )
    choice = best.encoding
    for match in matches:
        if (
            match.encoding == _PREFERRED_LEGACY
            and match.chaos <= best.chaos
            and match.coherence >= best.coherence - _COHERENCE_MARGIN
        ):
            choice = _PREFERRED_LEGACY
    return _strict(data, choice, "detection")


def _strict(data: bytes, encoding: str, found_by: str) -> Decoded:
    """``data`` decoded with no byte replaced; Windows-1252's five unassigned bytes are read as
    Latin-1 reads them (as browsers do)."""
    try:
        return _checked(data.decode(encoding), encoding)
    except UnicodeDecodeError as error:
        if encoding == "cp1252":
            return _checked(data.decode("latin-1"), "cp1252")
        raise UnreadableDocument(
            f"not valid {encoding} (byte {error.start}), the encoding given by {found_by}; "
            "save it as UTF-8"
        ) from None
    except LookupError:
        raise UnreadableDocument(f"unknown text encoding {encoding!r}") from None


def _checked(text: str, encoding: str) -> Decoded:
    if "\x00" in text:
        raise UnreadableDocument("binary content in a text file")
    return Decoded(text, encoding)
