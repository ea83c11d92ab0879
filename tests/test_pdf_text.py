"""qa.pdf_text: a PDF's printed lines back into paragraphs, without running heads and feet."""

from __future__ import annotations

import io

from fpdf import FPDF
from pypdf import PdfReader

from qa.pdf_lines import pages_text_with_gaps
from qa.pdf_margins import right_edges
from qa.pdf_text import pdf_text

PARAGRAPHS = [
    "Ofsted has praised the work at each of the boroughs in the aftermath of the split, and "
    "inspectors said there was a strong focus on improving support for children.",
    "Hammersmith and Fulham has retained its good rating. The rating was for leadership, child "
    "protection, supporting those in care and leaving care.",
]


def test_wrapped_lines_become_paragraphs_and_hyphenation_is_undone() -> None:
    pages = [
        "Inspection report\nOfsted has praised the work at each of the bor-\n"
        "oughs in the aftermath of the split, and a well-\nknown inspector said so.\n"
        "The well-known inspector added more.\n3"
    ]
    assert pdf_text(pages).split("\n\n") == [
        "Inspection report",
        "Ofsted has praised the work at each of the boroughs in the aftermath of the split, and a "
        "well-known inspector said so.",  # a short line ending a sentence ends the paragraph
        "The well-known inspector added more.",
    ]


def test_running_heads_feet_and_page_numbers_are_left_out() -> None:
    pages = [
        f"Tri-borough inspections 2019\n{PARAGRAPHS[n % 2]}\nPage {n + 1} of 4" for n in range(4)
    ]
    text = pdf_text(pages)
    assert "Tri-borough inspections" not in text and "Page" not in text
    assert text.split("\n\n") == [PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[0], PARAGRAPHS[1]]


def test_a_books_running_heads_that_name_each_page_are_left_out_by_their_page_numbers() -> None:
    # A two-sided book: the page number, then the chapter on the left; the section, then the
    # page number on the right. No two heads read alike, but their numbers count the pages, and
    # the sentence each page break cut runs on.
    heads = ["12 3. HARBOUR RULES", "3.2. MOORING 13", "14 3. HARBOUR RULES", "3.4. FEES 15"]
    bodies = [
        "Boats may moor at the north quay from dawn until the harbour master\ncloses the gate",
        "at dusk, and they must leave a clear channel for the ferry.\nThe ferry has right of way.",
        "Fees are paid at the office before a boat leaves the harbour, in\ncash or by card, and",
        "a receipt is given for every payment made there.\nReceipts are kept for a year.",
    ]
    text = pdf_text([f"{head}\n{body}" for head, body in zip(heads, bodies, strict=True)])
    assert "HARBOUR RULES" not in text and "MOORING" not in text and "FEES" not in text
    assert "the harbour master closes the gate at dusk, and they must" in text
    assert "in cash or by card, and a receipt is given" in text


def test_a_numbered_heading_opening_one_page_is_kept() -> None:
    # One number at a page's top is a heading, not the printed numbering of the pages.
    pages = [
        f"{n + 1} Harbour notes\n{PARAGRAPHS[n % 2]}" if n == 0 else PARAGRAPHS[n % 2]
        for n in range(4)
    ]
    assert pdf_text(pages).startswith("1 Harbour notes")


def test_titles_numbered_one_to_a_page_are_kept() -> None:
    # A deck of slides: each page opens with its numbered title. The numbers count the pages,
    # but all at the start of the line, never at the end as on a book's facing pages.
    titles = ["1 Inspections", "2 Ratings", "3 Leadership", "4 Next steps"]
    pages = [f"{title}\n{PARAGRAPHS[n % 2]}" for n, title in enumerate(titles)]
    text = pdf_text(pages)
    assert all(title in text for title in titles)


def test_a_real_pdf_reads_back_as_its_paragraphs() -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    written = []
    for number in ("first", "second", "third"):
        pdf.add_page()
        pdf.cell(0, 8, "Children's services bulletin", new_x="LMARGIN", new_y="NEXT")
        for paragraph in PARAGRAPHS:
            written.append(f"{paragraph} This is the {number} page.")
            pdf.multi_cell(0, 6, written[-1], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    reader = PdfReader(io.BytesIO(bytes(pdf.output())))
    text = pdf_text([page.extract_text() for page in reader.pages])
    assert text.split("\n\n") == written  # the running head is gone


def test_lines_set_apart_by_space_are_separate_paragraphs() -> None:
    """A title over a paragraph, and one-sentence paragraphs that end at the margin, are told
    apart only by the space between them: the extraction reads it (``qa.pdf_lines``)."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    title = "Inspectors praise the quality of support at the former tri-borough children's services"
    pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    body = [
        "The quality of children's services at the three London councils has held up well after "
        "the split of the shared arrangement, according to the inspectors who visited them.",
        "Hammersmith and Fulham, Kensington and Chelsea, and Westminster had formed a joint "
        "arrangement for children's services, adult social care and public health in 2011.",
        "The arrangement ended two years ago when two of the councils announced that they meant "
        "to leave it and form a new partnership of their own for children's services instead.",
    ]
    for paragraph in body:
        pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pages = list(PdfReader(io.BytesIO(bytes(pdf.output()))).pages)
    assert pdf_text(pages_text_with_gaps(pages)).split("\n\n") == [title, *body]
    # Without the gaps, the title runs into the first paragraph.
    assert not pdf_text([page.extract_text() for page in pages]).startswith(f"{title}\n\n")


def _page_with_margin_notes() -> bytes:
    """Twelve lines of a paragraph, a two-line note in the right margin beside the fourth and a
    one-line note beside the ninth, written between the lines as LaTeX writes them."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    words = " ".join(PARAGRAPHS * 3).split()
    for number in range(12):
        line = " ".join(words[number * 6 : number * 6 + 6])
        pdf.text(x=pdf.l_margin, y=30 + 6 * number, text=line)
        notes = {3: ["New", "feature"], 8: ["Updated"]}.get(number, [])
        pdf.set_font(size=8)
        for below, note in enumerate(notes):
            pdf.text(x=pdf.w - pdf.r_margin + 2, y=30 + 6 * number + 3 * below, text=note)
        pdf.set_font(size=11)
    return bytes(pdf.output())


def test_margin_notes_are_left_out_of_the_paragraph_beside_them() -> None:
    data = _page_with_margin_notes()
    pages = list(PdfReader(io.BytesIO(data)).pages)
    words = " ".join(PARAGRAPHS * 3).split()[:72]
    read = " ".join(pdf_text(pages_text_with_gaps(pages, right_edges(data))).split())
    assert read == " ".join(words)
    # pypdf alone reads the notes into the paragraph.
    assert "feature" in pdf_text(pages_text_with_gaps(pages))
    # Edges for pages the reader did not find (pdfium and pypdf may count apart) are ignored.
    extra = pages_text_with_gaps(pages, [*right_edges(data), 1.0])
    assert " ".join(pdf_text(extra).split()) == read


def test_text_past_the_edge_from_a_body_line_is_kept() -> None:
    """A line running past the others into the margin (an overfull line) is the body's, not a
    note: no line holds margin text alone."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    line = "The body of the page runs from the left margin nearly to the right one, line by line"
    for number in range(12):
        pdf.text(x=pdf.l_margin, y=30 + 6 * number, text=line)
    pdf.text(x=pdf.w - pdf.r_margin + 2, y=30 + 6 * 11, text="overfull")
    data = bytes(pdf.output())
    pages = list(PdfReader(io.BytesIO(data)).pages)
    assert "overfull" in pdf_text(pages_text_with_gaps(pages, right_edges(data)))
