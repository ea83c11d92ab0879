"""Text laid out in pages (form feeds, running headers and footers) is read as the text it holds."""

from __future__ import annotations

import textwrap

from qa.chunking import chunk_text, split_units
from qa.documents import parse_document
from qa.paged_text import without_page_furniture

PARAGRAPHS = [
    "The harbour dries at low water springs. Vessels drawing more than two metres must arrive "
    "within three hours either side of high water, and should expect to take the ground on the "
    "soft mud of the inner basin if they stay longer than one tide.",
    "A crew requests a berth by calling the harbour office on the working channel at least one "
    "hour before arrival. The request states the vessel's name, its length overall, its "
    "draught and the number of nights it intends to stay.",
    "Multihulls pay one and a half times the charge of a monohull of the same length, because "
    "they occupy two berths along the inner pontoon. Vessels rafted alongside another vessel "
    "pay the full charge all the same.",
    "Children under twelve must wear a buoyancy aid at all times while on the pontoons, whether "
    "or not they are accompanied by an adult. The harbour office lends buoyancy aids free of "
    "charge to visiting crews who have not brought their own.",
    "Diesel is sold at the fuel berth by the litre; petrol is not sold in the harbour and must "
    "be carried from the garage in the town in approved containers.",
]
HEADER = "RFC 9999                 Harbour Berthing Rules            December 2026"
FOOTER = "Doe                          Informational                     [Page {}]"


def body_lines() -> list[str]:
    lines = ["Berthing Rules for a Small Tidal Harbour", ""]
    for paragraph in PARAGRAPHS:
        lines += textwrap.wrap(paragraph, 69, initial_indent="   ", subsequent_indent="   ")
        lines.append("")
    return lines


def paginate(lines: list[str], page_lines: int, header: bool = True) -> str:
    """Pages as RFCs lay them out: a footer, a form feed on its own line, the next header."""
    pages = [lines[i : i + page_lines] for i in range(0, len(lines), page_lines)]
    out: list[str] = []
    for number, page in enumerate(pages, start=1):
        if number > 1:
            out += ["\f"] + ([HEADER, "", ""] if header else [])
        out += page + ["", FOOTER.format(number)]
    return "\n".join(out) + "\n"


def test_running_headers_and_footers_are_left_out_and_cut_sentences_rejoined() -> None:
    paged = paginate(body_lines(), 7)
    assert paged.count("\f") >= 3  # the page size cuts sentences mid-way
    clean = without_page_furniture(paged)
    assert "Informational" not in clean and "RFC 9999" not in clean and "\f" not in clean
    # The text the pages held, in order and whole: only line breaks and indents differ.
    assert clean.split() == "\n".join(body_lines()).split()
    sentences = [clean[u.start : u.end] for u in split_units(clean, 700)]
    for paragraph in PARAGRAPHS:
        first = paragraph.split(". ")[0].rstrip(".") + "."
        assert first in [" ".join(s.split()) for s in sentences], first


def test_a_page_that_ends_a_sentence_ends_its_paragraph() -> None:
    lines = body_lines()
    # Page 1 ends with the first paragraph's last line, a sentence end, and no blank line.
    first_end = lines.index("", 2)
    pages = [lines[:first_end]] + [lines[i : i + 5] for i in range(first_end + 1, len(lines), 5)]
    paged = "\n\f\n".join(
        "\n".join(([HEADER, ""] if n else []) + page + ["", FOOTER.format(n + 1)])
        for n, page in enumerate(pages)
    )
    clean = without_page_furniture(paged)
    assert "one tide.\n\n   A crew requests" in clean
    assert "[Page" not in clean and HEADER not in clean


def test_footers_alone_are_enough_and_page_numbers_may_differ() -> None:
    clean = without_page_furniture(paginate(body_lines(), 6, header=False))
    assert "[Page" not in clean
    assert clean.split() == "\n".join(body_lines()).split()


def test_a_books_heads_naming_each_page_are_left_out_by_their_page_numbers() -> None:
    # Two-sided: the page number and the chapter on even pages, the section and the page number
    # on odd ones. No head repeats, so only the numbers, counting the pages, tell them.
    pages = [body_lines()[i : i + 7] for i in range(0, len(body_lines()), 7)]
    heads = [
        f"{n + 20}    HARBOUR RULES" if n % 2 == 0 else f"SECTION {n}. BERTHING    {n + 20}"
        for n in range(len(pages))
    ]
    paged = "\n\f".join(
        "\n".join([head, "", *page]) for head, page in zip(heads, pages, strict=True)
    )
    clean = without_page_furniture(paged)
    assert clean.startswith("20    HARBOUR RULES")  # the first page's top is the document's own
    assert clean.count("HARBOUR RULES") == 1 and "BERTHING" not in clean
    assert clean.split()[3:] == "\n".join(body_lines()).split()


def test_text_without_repeated_page_edges_is_left_as_it_is() -> None:
    # Form feeds as section separators (an Emacs habit), nothing repeated at the pages' edges.
    sections = "\f\n".join(f"Section {n}\n\n{p}\n" for n, p in enumerate(PARAGRAPHS))
    assert without_page_furniture(sections) == sections
    two_pages = paginate(body_lines(), 20)
    assert two_pages.count("\f") == 1
    assert without_page_furniture(two_pages) == two_pages  # too few pages to tell


def test_the_first_pages_title_is_kept_though_the_running_header_repeats_it() -> None:
    lines = body_lines()
    title = lines[0]
    pages = [lines[i : i + 6] for i in range(0, len(lines), 6)]
    paged = "\n\f\n".join(
        ("\n".join(page) if n == 0 else f"{title}\n\n" + "\n".join(page))
        for n, page in enumerate(pages)
    )
    clean = without_page_furniture(paged)
    assert clean.startswith(title)
    assert clean.count(title) == 1


def test_a_paged_text_file_is_indexed_without_its_furniture() -> None:
    paged = paginate(body_lines(), 7)
    document = parse_document(paged.encode("utf-8"), "rfc9999.txt")
    assert document.text == without_page_furniture(paged)
    assert document.title == "Berthing Rules for a Small Tidal Harbour"
    for chunk in chunk_text(document.text):
        passage = document.text[chunk.start : chunk.end]
        assert "Informational" not in passage and "December 2026" not in passage
