"""Reading files of each supported format into ``Document`` objects with their metadata.

The text of a ``Document`` is what citation offsets point into; for ``.txt``, ``.md`` and ``.rst``
it is the file's own text (decoded by ``qa.encodings``) less the running headers and footers of a
text laid out in pages (``qa.paged_text``), for other formats the text extracted from them.
A reader failing for any reason fails that one file, with the reason (``UnreadableDocument``).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from qa.archives import check_zip
from qa.chunking import split_units
from qa.dates import find_dates, publication_date
from qa.encodings import WIDE_BOMS, decode_html, decode_text
from qa.errors import QAError, UnreadableDocument, UnsupportedFileType
from qa.front_matter import front_matter
from qa.html_text import html_to_text
from qa.layout import Kind, heading_text
from qa.paged_text import without_page_furniture
from qa.pdf_text import pdf_text_with_pages

log = logging.getLogger(__name__)

# Read as plain text, the layout reading their markup: plain text, Markdown, reStructuredText
# and AsciiDoc, under the names their writers give them.
TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".rst", ".adoc", ".asciidoc"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"}
# For messages and labels: "(.adoc .asciidoc .docx ...)".
SUPPORTED_LIST = " ".join(sorted(SUPPORTED_SUFFIXES))
# Names with no type are read as plain text too, as licences, READMEs and change logs are named
# ("COPYING", "GPL-3"), and so are names whose last dot starts a version ("Apache-2.0",
# "LGPL-2.1"): their content is checked to be text (``check_content_matches_name``).
_VERSION_SUFFIX = re.compile(r"\.\d+\Z")
# Files of a software project that are named with no type but are instructions to a program.
_BUILD_FILES = {"makefile", "gnumakefile", "dockerfile", "containerfile", "vagrantfile",
                "jenkinsfile", "gemfile", "rakefile", "procfile"}  # fmt: skip
# roff, the source of a man page (".TH", a '.\"' comment): its markup is not for reading.
_ROFF_SOURCE = re.compile(rb"\A\s*(?:\.TH\s|\.Dd\s|[.']\\\")")
_TITLE_MAX = 200
_TITLE_SCAN_CHARS = 2000
_FULLER_TITLE_CHARS = 20_000  # where a fuller name of the opening heading is looked for


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
    page_starts: list[int] | None = None  # a PDF's page i+1 starts at text[page_starts[i]]


def name_words(source: str) -> str:
    """The words of a document's file name, without its type: "sil-ofl-1.1-source-code-pro.txt"
    gives "sil ofl 1.1 source code pro", "GPL-3" gives "GPL 3"."""
    name = PurePosixPath(source).name
    suffix = PurePosixPath(name).suffix
    if suffix.lower() in SUPPORTED_SUFFIXES:
        name = name[: -len(suffix)]
    return " ".join(re.split(r"[-_\s]+", name)).strip()


def doc_id_for(source: str) -> str:
    """A stable id from the document's place in the docs folder, so an edited file keeps its id."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def reader_suffix(name: str) -> str:
    """The suffix that picks ``name``'s reader: its own, or ".txt" for a name with no type that
    has a word in it ("%00", a name made of marks, names no document)."""
    path = Path(name)
    untyped = not path.suffix or _VERSION_SUFFIX.match(path.suffix)
    if untyped and any(c.isalpha() for c in path.name):
        return ".txt"
    return path.suffix.lower()


def is_document_name(name: str) -> bool:
    """Whether a file of this name is one qa reads (its content is checked when it is read)."""
    return reader_suffix(name) in SUPPORTED_SUFFIXES and name.lower() not in _BUILD_FILES


def iter_document_paths(docs_dir: Path) -> Iterator[Path]:
    """Files under ``docs_dir`` that look like documents, in a stable order; hidden files skipped."""
    for path in sorted(docs_dir.rglob("*")):
        relative = path.relative_to(docs_dir)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if is_document_name(path.name):
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
    suffix = reader_suffix(source)
    if not data.strip():
        raise UnreadableDocument("the file is empty")
    check_content_matches_name(data, source)
    declared: date | None = None  # a date the format states apart from the text
    encoding = None
    page_starts: list[int] | None = None
    if suffix in TEXT_SUFFIXES:
        text, encoding = _read_text(data)
        front = front_matter(text)
        title = front.title or (title_from_text(text[front.end :]) if front.end else None)
        declared = _parsed_date(front.date)
    elif suffix in HTML_SUFFIXES:
        text, title, declared, encoding = _read_html(data)
    elif suffix == ".pdf":
        text, title, page_starts = _read_pdf(data)
    else:
        text, title = _read_docx(data)
    if not text.strip():
        raise UnreadableDocument("no text could be extracted")
    published = declared or publication_date(text)
    if title and _FILE_NAME_TITLE.search(title.strip()):
        title = None
    return Document(
        doc_id=doc_id_for(source),
        source=source,
        title=(title or title_from_text(text))[:_TITLE_MAX],
        published=published.isoformat() if published else None,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
        page_starts=page_starts,
    )


def check_content_matches_name(data: bytes, source: str) -> None:
    """Refuse files whose bytes are not what their name claims (checked by content)."""
    suffix = reader_suffix(source)
    if not is_document_name(Path(source).name):
        shown = Path(source).suffix or Path(source).name
        raise UnsupportedFileType(f"unsupported file type {shown}; supported: {SUPPORTED_LIST}")
    if suffix == ".pdf" and not data.lstrip()[:5] == b"%PDF-":
        raise UnsupportedFileType("not a PDF file (no %PDF header)")
    if suffix == ".docx" and not data[:4] == b"PK\x03\x04":
        raise UnsupportedFileType("not a .docx file (not a zip container)")
    textual = suffix in TEXT_SUFFIXES or suffix in HTML_SUFFIXES
    if textual and b"\x00" in data[:8192] and not data.startswith(WIDE_BOMS):
        raise UnsupportedFileType("binary content in a text file")
    untyped = Path(source).suffix.lower() not in SUPPORTED_SUFFIXES  # "COPYING", "GPL-3"
    if untyped and data.startswith(b"#!"):
        raise UnsupportedFileType("a script (it starts with #!), not a document")
    if untyped and _ROFF_SOURCE.match(data):
        raise UnsupportedFileType(
            "roff source (a man page before rendering): add its text, as `man -P cat` prints it"
        )


# A title a PDF or a Word file states that is only the name of the file it was made from
# ("Microsoft Word - minutes_final.docx", "report.tex", "Slides.pptx"): word processors write
# it when nobody gave one. A passage counts its document's title words as its own (its
# coverage, ``qa.evidence``), so the text's own opening heading is the better title.
_FILE_NAME_TITLE = re.compile(
    r"\.(?:docx?|odt|rtf|txt|tex|dvi|ps|pdf|pptx?|xlsx?|indd|qxd)\Z", re.I
)


def title_from_text(text: str) -> str:
    """A title for a format that carries none: the opening heading, read whole even when it
    wraps onto a second line, else the first sentence (rules drawn over it passed over); and
    where a later heading repeats the opening one in full with more words ("Attribution 4.0
    International" over "Creative Commons Attribution 4.0 International Public License"), that
    fuller name."""
    head = text[:_TITLE_SCAN_CHARS]
    for unit in split_units(head, _TITLE_MAX):
        title = " ".join(heading_text(head[unit.start : unit.end]).split())
        if any(c.isalnum() for c in title):  # not a rule drawn over the text
            if unit.kind == Kind.HEADING:
                return _fuller_title(text[:_FULLER_TITLE_CHARS], unit.end, title)
            return title
    return ""


def _fuller_title(text: str, after: int, title: str) -> str:
    """The first heading after ``after`` that writes ``title`` as it is and adds only words in
    capitals or numbers around it (a name's fuller form, not "10 Responses to ..." or "How does
    ... work?"), else ``title``. Only the paragraphs whose line holding the title reads so are
    laid out: most mentions sit in prose, and laying out the whole text cost ten times more."""
    written = re.compile(rf"(?<!\S){re.escape(title)}(?!\S)")
    for mention in written.finditer(text, after):
        line_start = text.rfind("\n", 0, mention.start()) + 1
        line_end = text.find("\n", mention.end())
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        if not _adds_only_names(heading_text(line), written):
            continue
        start = text.rfind("\n\n", 0, mention.start())
        start = 0 if start < 0 else start + 2
        end = text.find("\n\n", mention.end())
        block = text[start : end if end >= 0 else len(text)]
        for unit in split_units(block, _TITLE_MAX):
            heading = " ".join(heading_text(block[unit.start : unit.end]).split())
            if unit.kind == Kind.HEADING and _adds_only_names(heading, written):
                return heading
    return title


def _adds_only_names(heading: str, written: re.Pattern[str]) -> bool:
    """Whether ``heading`` holds the title (``written``) and more, every word it adds in
    capitals or a number."""
    found = written.search(heading)
    added = (heading[: found.start()] + heading[found.end() :]).split() if found else []
    return bool(added) and all(word[:1].isupper() or word[:1].isdigit() for word in added)


def _parsed_date(value: str | None) -> date | None:
    """A declared date ("2019-10-16T09:00:00Z", "16 October 2019"), or None."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        found = find_dates(value)
        return found[0].value if found else None


def _read_text(data: bytes) -> tuple[str, str]:
    """The file's own text, page furniture left out, and the encoding it was decoded from."""
    decoded = decode_text(data)
    return without_page_furniture(decoded.text), decoded.encoding


def _read_html(data: bytes) -> tuple[str, str | None, date | None, str]:
    """The page's logical text, title, declared date, and the encoding it was decoded from."""
    decoded = decode_html(data)
    content = html_to_text(decoded.text)
    return content.text, content.title, _parsed_date(content.published), decoded.encoding


def _read_pdf(data: bytes) -> tuple[str, str | None, list[int]]:
    from pypdf import PdfReader

    from qa.pdf_lines import pages_text_with_gaps
    from qa.pdf_margins import right_edges
    from qa.pdf_spaces import pdfium_page_texts, respaced_pages

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = pages_text_with_gaps(list(reader.pages), right_edges(data))
        pages = respaced_pages(pages, pdfium_page_texts(data))
        title = reader.metadata.title if reader.metadata and reader.metadata.title else None
    except Exception as error:  # pypdf raises many types on hostile files; all mean "unreadable"
        raise UnreadableDocument(f"broken PDF: {type(error).__name__}: {error}") from None
    text, starts = pdf_text_with_pages(pages)
    return text, title, starts


def _docx_paragraph(paragraph: Any) -> str:
    """A Word paragraph as one line (its soft line breaks are wraps); list items marked."""
    words = " ".join(paragraph.text.split())
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    return f"- {words}" if words and "List" in style else words


def _docx_table_rows(table: Any) -> list[str]:
    """A Word table's rows, a row a line: its cells between bars, or a one-cell row's text."""
    rows = []
    for row in table.rows:  # tables hold text too (figures, ratings)
        cells = [" ".join(cell.text.split()).replace("|", "/") for cell in row.cells]
        rows.append("| " + " | ".join(cells) + " |" if len(cells) > 1 else cells[0])
    return rows


def _read_docx(data: bytes) -> tuple[str, str | None]:
    import docx
    import docx.table

    check_zip(data)  # before python-docx inflates anything: zip bombs are refused here
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs: list[str] = []
        # In the document's order: a table is read under the heading and after the paragraph
        # that introduce it ("Ratings by borough:"), as the reader sees it.
        for item in document.iter_inner_content():
            if isinstance(item, docx.table.Table):
                paragraphs.extend(_docx_table_rows(item))
            else:
                paragraphs.append(_docx_paragraph(item))
    except Exception as error:  # zip, XML and zlib errors alike mean "unreadable"
        raise UnreadableDocument(f"broken .docx: {type(error).__name__}: {error}") from None
    text = "\n\n".join(p for p in paragraphs if p.strip())
    title = document.core_properties.title or None
    return text, title
