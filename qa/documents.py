"""Reading files of each supported format into ``Document`` objects with their metadata.

The text of a ``Document`` is what citation offsets point into; for ``.txt`` and ``.md`` it is the
file's own text (decoded by ``qa.encodings``), for other formats the text extracted from them.
A reader failing for any reason fails that one file, with the reason (``UnreadableDocument``).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.archives import check_zip
from qa.dates import publication_date
from qa.encodings import WIDE_BOMS, decode_html, decode_text
from qa.errors import QAError, UnreadableDocument, UnsupportedFileType

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"}
_TITLE_MAX = 200


@dataclass(frozen=True)
class Document:
    """One source document: its text and what a citation needs to name it."""

    doc_id: str
    source: str  # path relative to the docs folder, with forward slashes
    title: str
    published: str | None  # ISO date, YYYY-MM-DD
    text: str
    sha256: str
    encoding: str | None = None  # what a text or HTML file was decoded from (qa.encodings)


def doc_id_for(source: str) -> str:
    """A stable id from the document's place in the docs folder, so an edited file keeps its id."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def iter_document_paths(docs_dir: Path) -> Iterator[Path]:
    """Files under ``docs_dir`` that look like documents, in a stable order; hidden files skipped."""
    for path in sorted(docs_dir.rglob("*")):
        relative = path.relative_to(docs_dir)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield path


def parse_document(data: bytes, source: str) -> Document:
    """Turn a file's bytes into a Document; ``source`` names it and its suffix picks the reader.

    Any failure is ``UnreadableDocument`` with a one-line reason, an unexpected one (a reader's
    missing dependency, a bug in a library) included: one bad file never stops a build."""
    try:
        return _parse(data, source)
    except QAError:
        raise
    except Exception as error:
        log.exception("reading %s failed unexpectedly", source)
        raise UnreadableDocument(f"could not be read ({type(error).__name__}: {error})") from None


def _parse(data: bytes, source: str) -> Document:
    suffix = Path(source).suffix.lower()
    if not data.strip():
        raise UnreadableDocument("the file is empty")
    check_content_matches_suffix(data, suffix)
    encoding = None
    if suffix in TEXT_SUFFIXES:
        (text, encoding), title = _read_text(data), None
    elif suffix in HTML_SUFFIXES:
        # _read_html decodes the page again: a millisecond beside extracting its text.
        encoding = decode_html(data).encoding
        text, title = _read_html(data)
    elif suffix == ".pdf":
        text, title = _read_pdf(data)
    else:
        text, title = _read_docx(data)
    if not text.strip():
        raise UnreadableDocument("no text could be extracted")
    published = publication_date(text)
    return Document(
        doc_id=doc_id_for(source),
        source=source,
        title=(title or first_line(text))[:_TITLE_MAX],
        published=published.isoformat() if published else None,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
    )


def check_content_matches_suffix(data: bytes, suffix: str) -> None:
    """Refuse files whose bytes are not what their extension claims (checked by content)."""
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileType(
            f"unsupported file type {suffix or '(none)'}; "
            f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    if suffix == ".pdf" and not data.lstrip()[:5] == b"%PDF-":
        raise UnsupportedFileType("not a PDF file (no %PDF header)")
    if suffix == ".docx" and not data[:4] == b"PK\x03\x04":
        raise UnsupportedFileType("not a .docx file (not a zip container)")
    textual = suffix in TEXT_SUFFIXES or suffix in HTML_SUFFIXES
    if textual and b"\x00" in data[:8192] and not data.startswith(WIDE_BOMS):
        raise UnsupportedFileType("binary content in a text file")


def first_line(text: str) -> str:
    """The first non-blank line, used as a title when the format carries none."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _read_text(data: bytes) -> tuple[str, str]:
    """The file's own text and the encoding it was decoded from."""
    decoded = decode_text(data)
    return decoded.text, decoded.encoding


def _read_html(data: bytes) -> tuple[str, str | None]:
    import trafilatura  # imported here: it is slow to import and only HTML needs it

    html = decode_html(data).text
    text = trafilatura.extract(html, include_comments=True, include_tables=True, favor_recall=True)
    if not text:  # trafilatura finds no "main text" in tiny pages: fall back to all visible text
        text = trafilatura.html2txt(html) or ""
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title if metadata and metadata.title else None
    return text, title


def _read_pdf(data: bytes) -> tuple[str, str | None]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata and reader.metadata.title else None
    except Exception as error:  # pypdf raises many types on hostile files; all mean "unreadable"
        raise UnreadableDocument(f"broken PDF: {type(error).__name__}: {error}") from None
    return "\n\n".join(page.strip() for page in pages), title


def _read_docx(data: bytes) -> tuple[str, str | None]:
    import docx

    check_zip(data)  # before python-docx inflates anything: zip bombs are refused here
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = [p.text for p in document.paragraphs]
        for table in document.tables:  # tables hold text too (figures, ratings)
            paragraphs += [" | ".join(cell.text for cell in row.cells) for row in table.rows]
    except Exception as error:  # zip, XML and zlib errors alike mean "unreadable"
        raise UnreadableDocument(f"broken .docx: {type(error).__name__}: {error}") from None
    text = re.sub(r"\n{3,}", "\n\n", "\n\n".join(paragraphs)).strip()
    title = document.core_properties.title or None
    return text, title
