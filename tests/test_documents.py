"""Tests for qa.documents: each format read from real files, and bad files refused with a reason."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
from datetime import date
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from qa.documents import (
    Document,
    doc_id_for,
    iter_document_paths,
    name_words,
    parse_document,
)
from qa.errors import UnreadableDocument, UnsupportedFileType

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Ofsted rates services outstanding</title></head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/contact">Contact us</a></li></ul></nav>
<article>
<h1>Ofsted rates services outstanding</h1>
<p>Published 29 March 2016</p>
<p>Two London boroughs are the first to have their children's services rated outstanding.</p>
<p>Inspectors praised strong leadership and the quality of social work in Westminster.</p>
<p>The third borough, Hammersmith and Fulham, was rated good after a four week visit.</p>
</article>
<footer>Copyright 2016 Example Council. Cookie settings.</footer>
</body></html>"""


def _pdf_bytes(title: str | None, lines: list[str]) -> bytes:
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for line in lines:
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _docx_bytes(title: str | None, paragraphs: list[str]) -> bytes:
    document = docx.Document()
    if title:
        document.core_properties.title = title
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _replace_in_zip(data: bytes, name: str, content: bytes) -> bytes:
    """A copy of the zip ``data`` with member ``name`` holding ``content``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, content if item.filename == name else source.read(item))
    return buffer.getvalue()


def _corrupt_deflate_stream(data: bytes, name: str) -> bytes:
    """The zip ``data`` with member ``name`` made an invalid deflate stream."""
    offset = zipfile.ZipFile(io.BytesIO(data)).getinfo(name).header_offset
    name_len, extra_len = struct.unpack("<HH", data[offset + 26 : offset + 30])
    start = offset + 30 + name_len + extra_len
    return data[:start] + b"\xff" + data[start + 1 :]


def _load(tmp_path: Path, name: str, data: bytes) -> Document:
    """The document a build would read from ``tmp_path / name`` holding ``data``."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return parse_document(path.read_bytes(), path.relative_to(tmp_path).as_posix())


@pytest.mark.parametrize(
    "suffix", [".txt", ".text", ".md", ".markdown", ".rst", ".adoc", ".asciidoc"]
)
def test_text_file_text_is_the_file_text_exactly(tmp_path: Path, suffix: str) -> None:
    """Citation offsets point into the file itself, so not a byte may change."""
    text = "# Ofsted report\r\n\nPublished 29 March 2016\n\n  Indented “quoted” line — café\t \n"
    document = _load(tmp_path, f"notes/report{suffix}", text.encode("utf-8"))
    assert document.text == text
    assert document.title == "Ofsted report"  # the heading's words, without its marks
    assert document.published == "2016-03-29"
    assert document.source == f"notes/report{suffix}"
    assert document.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_utf8_byte_order_mark_is_not_part_of_the_text(tmp_path: Path) -> None:
    document = _load(tmp_path, "bom.txt", b"\xef\xbb\xbfHello world")
    assert document.text == "Hello world"


def test_title_falls_back_to_first_line_and_is_capped(tmp_path: Path) -> None:
    document = _load(tmp_path, "long.txt", b"\n\n   " + b"x" * 300 + b"\nbody")
    assert document.title == "x" * 200
    assert document.published is None


def test_an_underlined_heading_is_a_title_without_its_rule(tmp_path: Path) -> None:
    text = b"3. Binary packages\n******************\n\nThe Debian distribution.\n"
    assert _load(tmp_path, "policy.txt", text).title == "3. Binary packages"


def test_front_matter_names_the_title_and_date_and_stays_in_the_text(tmp_path: Path) -> None:
    text = (
        '---\ntitle: "Berthing: the rules"\ndate: 2026-03-01\ntags:\n  - harbour\n---\n\n'
        "# Harbour Rules\n\nThe harbour dries at low water springs.\n"
    )
    document = _load(tmp_path, "rules.md", text.encode("utf-8"))
    assert document.text == text
    assert (document.title, document.published) == ("Berthing: the rules", "2026-03-01")
    untitled = text.replace('title: "Berthing: the rules"\n', "")
    assert _load(tmp_path, "untitled.md", untitled.encode("utf-8")).title == "Harbour Rules"


def test_a_rule_over_prose_is_not_front_matter(tmp_path: Path) -> None:
    text = "---\nNote: the harbour dries on 2 March.\nTake care on the mud.\n---\n\nMore text.\n"
    document = _load(tmp_path, "ruled.md", text.encode("utf-8"))
    assert document.title.startswith("Note: the harbour dries")  # not the text after the block


def test_a_saved_mail_is_titled_by_its_subject_and_dated_by_its_date(tmp_path: Path) -> None:
    text = (
        "From: Jane Doe <jane@example.org>\nTo: harbour-users@example.org\n"
        "Subject: Re: Berthing at low water\n  (boats over two metres)\n"
        "Date: Tue, 3 Mar 2026 10:12:00 +0000\n\n"
        "The harbour dries at low water springs, so plan to arrive near high water.\n"
    )
    document = _load(tmp_path, "mail.txt", text.encode("utf-8"))
    assert document.text == text
    assert (document.title, document.published) == ("Re: Berthing at low water", "2026-03-03")


def test_labelled_lines_are_not_headers_without_a_subject_or_a_blank_line(
    tmp_path: Path,
) -> None:
    notes = b"Note: the harbour dries.\nWarning: mud.\n\nMore text.\n"
    assert _load(tmp_path, "notes.txt", notes).title.startswith("Note: the harbour dries")
    run_on = b"Title: Harbour\nDate: 2026-03-01\nThe harbour dries at low water.\n"
    assert _load(tmp_path, "run_on.txt", run_on).title != "Harbour"


def test_asciidoc_headings_lose_their_marks(tmp_path: Path) -> None:
    text = b"= Harbour Rules\n\n== Arrival\n\nThe harbour dries at low water springs.\n"
    assert _load(tmp_path, "rules.txt", text).title == "Harbour Rules"


@pytest.mark.parametrize("name", ["page.html", "page.xhtml"])
def test_html_main_text_and_title(tmp_path: Path, name: str) -> None:
    document = _load(tmp_path, name, _HTML.encode("utf-8"))
    assert document.title == "Ofsted rates services outstanding"
    assert "first to have their children's services rated outstanding" in document.text
    assert "Hammersmith and Fulham, was rated good" in document.text
    assert "Contact us" not in document.text  # navigation is boilerplate
    assert document.published == "2016-03-29"


def test_xhtml_with_its_xml_declaration_is_read_as_html(tmp_path: Path) -> None:
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Harbour rules</title></head>\n'
        "<body><h1>Harbour rules</h1><p>The harbour master charges fourteen pounds a night "
        "for a mooring beside the café.</p></body></html>"
    ).encode()
    document = _load(tmp_path, "rules.xhtml", data)
    assert document.title == "Harbour rules"
    assert "a mooring beside the café." in document.text and "<" not in document.text


def test_pdf_text_and_metadata_title(tmp_path: Path) -> None:
    data = _pdf_bytes(
        "Inspection summary", ["Published 29 March 2016", "Westminster is outstanding."]
    )
    document = _load(tmp_path, "summary.pdf", data)
    assert document.title == "Inspection summary"
    assert "Westminster is outstanding." in document.text
    assert document.published == "2016-03-29"
    assert document.sha256 == hashlib.sha256(data).hexdigest()


def test_a_stated_title_that_is_a_file_name_gives_way_to_the_opening_heading(
    tmp_path: Path,
) -> None:
    data = _pdf_bytes("Microsoft Word - harbour_rules_v3.docx", ["Harbour rules", "Boats moor."])
    assert _load(tmp_path, "rules.pdf", data).title == "Harbour rules"
    data = _docx_bytes("minutes.doc", ["Board minutes", "Services are outstanding."])
    assert _load(tmp_path, "minutes.docx", data).title == "Board minutes"
    # A title that names a format in its words is still a title.
    data = _pdf_bytes("Reading PDF files", ["Chapter one", "Text."])
    assert _load(tmp_path, "guide.pdf", data).title == "Reading PDF files"


def test_docx_paragraphs_and_core_title(tmp_path: Path) -> None:
    data = _docx_bytes(
        "Board minutes", ["Date: 15/10/2019", "", "", "", "Services are outstanding."]
    )
    document = _load(tmp_path, "minutes.docx", data)
    assert document.title == "Board minutes"
    assert document.text == "Date: 15/10/2019\n\nServices are outstanding."
    assert document.published == "2019-10-15"


def test_formats_without_a_title_use_the_first_line(tmp_path: Path) -> None:
    assert (
        _load(tmp_path, "a.pdf", _pdf_bytes(None, ["First line", "Second"])).title == "First line"
    )
    assert _load(tmp_path, "a.docx", _docx_bytes(None, ["", "Heading", "Body"])).title == "Heading"


_GOOD_DOCX = _docx_bytes("T", ["Hello"])
_GOOD_PDF = _pdf_bytes("T", ["Hello"])


def _zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


_BAD_FILES: list[tuple[str, bytes, type[UnreadableDocument]]] = [
    ("empty.txt", b"", UnreadableDocument),
    ("blank.md", b" \n\t\n", UnreadableDocument),
    ("junk.txt", b"ab\x00\x01\x02\xffcd", UnsupportedFileType),
    ("nul.html", b"<html>\x00</html>", UnsupportedFileType),
    ("broken.pdf", b"%PDF-1.4 garbage", UnreadableDocument),
    ("text.pdf", b"This is just text pretending to be a PDF.", UnsupportedFileType),
    ("text.docx", b"This is just text pretending to be a .docx.", UnsupportedFileType),
    ("badzip.docx", b"PK\x03\x04 not really a zip", UnreadableDocument),
    ("notword.docx", _zip_of({"hello.txt": b"hi"}), UnreadableDocument),
    ("blank.pdf", _pdf_bytes("Scan", []), UnreadableDocument),  # no text layer
    ("empty-body.docx", _docx_bytes("Title only", []), UnreadableDocument),
    ("sheet.rtf", b"{\\rtf1 hello}", UnsupportedFileType),
    ("Makefile", b"all:\n\techo hi\n", UnsupportedFileType),
    ("configure", b"#!/bin/sh\necho configuring\n", UnsupportedFileType),
    ("ls.1", b'.\\" Copyright\n.TH LS 1\n.SH NAME\nls \\- list\n', UnsupportedFileType),
    ("program", b"\x7fELF\x02\x01\x01\x00\x00\x00 machine code", UnsupportedFileType),
    # Corrupt content inside a valid container: the library's own error must be wrapped.
    (
        "badxml.docx",
        _replace_in_zip(_GOOD_DOCX, "word/document.xml", b"<w:document"),
        UnreadableDocument,
    ),
    ("deflate.docx", _corrupt_deflate_stream(_GOOD_DOCX, "word/document.xml"), UnreadableDocument),
    ("filter.pdf", _GOOD_PDF.replace(b"/FlateDecode", b"/FlateDecodX"), UnreadableDocument),
]


@pytest.mark.parametrize(("name", "data", "error"), _BAD_FILES, ids=[row[0] for row in _BAD_FILES])
def test_bad_file_raises_unreadable_document_with_reason(
    tmp_path: Path, name: str, data: bytes, error: type[UnreadableDocument]
) -> None:
    """Any bad file must surface as the domain error, so the CLI and API can show its reason."""
    with pytest.raises(error) as caught:
        _load(tmp_path, name, data)
    message = str(caught.value)
    assert message and "\n" not in message


def test_iter_document_paths_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    names = [
        "a.txt", "b.md", "c.html", "d.htm", "e.pdf", "f.docx", "sub/g.TXT", "k.rst",
        "l.markdown", "m.adoc", "n.xhtml", "COPYING", "GPL-3", "Apache-2.0",
        "h.rtf", "i.doc", "Makefile", "o.py", ".hidden.txt", ".git/config.md", "sub/.cache/j.md",
    ]  # fmt: skip
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "folder.txt").mkdir()  # a directory with a document-like name
    found = [p.relative_to(tmp_path).as_posix() for p in iter_document_paths(tmp_path)]
    assert found == [
        "Apache-2.0", "COPYING", "GPL-3", "a.txt", "b.md", "c.html", "d.htm", "e.pdf", "f.docx",
        "k.rst", "l.markdown", "m.adoc", "n.xhtml", "sub/g.TXT",
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["COPYING", "GPL-3", "Apache-2.0", "LGPL-2.1", "docs/README"])
def test_a_text_named_with_no_type_is_read_as_plain_text(tmp_path: Path, name: str) -> None:
    """Licences, READMEs and change logs are often named with no type, or with a version after
    the last dot; they are plain text, read exactly as a .txt file is."""
    text = "                    GNU GENERAL PUBLIC LICENSE\n                       Version 3\n\n"
    text += "  Everyone is permitted to copy and distribute verbatim copies\nof this licence.\n"
    document = _load(tmp_path, name, text.encode("utf-8"))
    assert document.text == text
    assert document.title == "GNU GENERAL PUBLIC LICENSE"
    assert document.source == name


def test_doc_id_is_stable_per_source_and_survives_edits(tmp_path: Path) -> None:
    first = _load(tmp_path, "notes/a.txt", b"first version")
    edited = _load(tmp_path, "notes/a.txt", b"second version")
    other = _load(tmp_path, "notes/b.txt", b"first version")
    assert first.doc_id == edited.doc_id == doc_id_for("notes/a.txt")
    assert first.sha256 != edited.sha256
    assert other.doc_id != first.doc_id
    assert other.sha256 == first.sha256
    assert len({doc_id_for(f"doc{i}.txt") for i in range(1000)}) == 1000


def test_seed_documents_load_with_their_dates() -> None:
    paths = list(iter_document_paths(SEEDS))
    assert len(paths) == 5
    documents = [parse_document(path.read_bytes(), path.name) for path in paths]
    for document, path in zip(documents, paths, strict=True):
        assert document.text.strip() and document.title
        assert document.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert document.source == path.name
    assert len({d.doc_id for d in documents}) == 5
    published = {date.fromisoformat(d.published) for d in documents if d.published}
    assert {date(2016, 3, 29), date(2019, 10, 15), date(2019, 10, 16)} <= published


def test_a_word_table_is_read_where_it_stands(tmp_path: Path) -> None:
    # Under the paragraph that introduces it, not after the document's last paragraph.
    document = docx.Document()
    document.add_paragraph("Ratings by borough:")
    table = document.add_table(rows=2, cols=2)
    for row, (borough, rating) in zip(
        table.rows, [("Westminster", "outstanding"), ("Hammersmith", "good")], strict=True
    ):
        row.cells[0].text, row.cells[1].text = borough, rating
    document.add_paragraph("The inspectors will return in 2019.")
    buffer = io.BytesIO()
    document.save(buffer)

    text = _load(tmp_path, "ratings.docx", buffer.getvalue()).text

    assert text == (
        "Ratings by borough:\n\n| Westminster | outstanding |\n\n| Hammersmith | good |\n\n"
        "The inspectors will return in 2019."
    )


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("sil-ofl-1.1-source-code-pro.txt", "sil ofl 1.1 source code pro"),
        ("licences/GPL-3", "GPL 3"),
        ("Apache-2.0", "Apache 2.0"),
        ("release_notes.md", "release notes"),
    ],
)
def test_a_file_name_gives_its_words_without_its_type(source: str, words: str) -> None:
    assert name_words(source) == words
