"""Words a PDF's text runs together get their spaces back from pdfium's reading of the page."""

from __future__ import annotations

import io

from pypdf import PdfReader

from qa.documents import parse_document
from qa.pdf_spaces import respaced

SENTENCE = "This family of commands is used to create document commands."


def _pdf_with_wide_space_glyph(words: list[str]) -> bytes:
    """A one-line PDF set as TeX sets it: words placed apart by kerning inside one TJ array, in
    a font whose space code has a glyph twice a letter's width (so pypdf reads no spaces)."""
    kerned = " -250 ".join(f"({word})" for word in words)
    content = f"BT /F1 11 Tf 72 720 Td [{kerned}] TJ ET"
    widths = " ".join(["1000"] + ["500"] * 94)
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
        " /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
        f" /FirstChar 32 /LastChar 126 /Widths [{widths}] >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    return out + f"startxref\n{xref}\n%%EOF\n".encode()


def test_a_pdf_whose_words_pypdf_runs_together_is_read_with_its_spaces() -> None:
    data = _pdf_with_wide_space_glyph(SENTENCE.split())
    glued = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Thisfamilyofcommands" in glued  # the fault this module is for

    document = parse_document(data, "commands.pdf")

    assert document.text.strip() == SENTENCE


def test_a_run_gets_the_spaces_the_reference_puts_between_its_words() -> None:
    assert respaced("see Thisfamilyof(commands) here", "see This family of (commands) here") == (
        "see This family of (commands) here"
    )


def test_spaces_the_reference_puts_inside_marks_and_numbers_are_not_taken() -> None:
    text = "the difficulties2, of a′b and LATEX2ε here"
    reference = "the difficulties2 , of a ′ b and LATEX 2ε here"

    assert respaced(text, reference) == text


def test_a_run_the_reference_spaces_two_ways_is_left_as_it_is() -> None:
    text = "call setuptools and setuptools again"
    reference = "call set up tools and setup tools again"

    assert respaced(text, reference) == text


def test_a_run_the_reference_does_not_hold_is_left_as_it_is() -> None:
    assert respaced("the ﬁnalword here", "the final word here") == "the ﬁnalword here"
