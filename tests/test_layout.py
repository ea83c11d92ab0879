"""qa.layout and the units qa.chunking builds on it: line breaks in wrapped text are wraps, not
sentence ends; headings, list items, table rows and code are units of their own; offsets exact."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.chunking import chunk_text, split_units
from qa.documents import title_from_text
from qa.layout import Kind, blocks, heading_text, lines_of
from qa.lines import looks_like_code
from qa.reading import reading_text
from qa.wrap_widths import line_wrap_widths, wrap_width

PARAGRAPHS = [
    "Hammersmith and Fulham has retained its good rating by Ofsted, and inspectors said there "
    "was a strong focus on improving support for children among managers and councillors.",
    "The rating was for leadership, child protection, supporting those in care and leaving care, "
    "as well as for overall effectiveness. Westminster was judged outstanding again.",
    "However, inspectors warned that caseloads remain high in some teams, and that the quality "
    "of supervision was not yet consistent across the service as a whole.",
]


def units(text: str) -> list[tuple[str, str]]:
    return [(u.kind.name, text[u.start : u.end]) for u in split_units(text, 700)]


def test_a_wrapped_paragraph_is_read_as_sentences_not_lines() -> None:
    text = "\n\n".join(textwrap.fill(p, 72) for p in PARAGRAPHS)
    assert wrap_width(text, lines_of(text)) is not None
    found = [reading_text(t) for _, t in units(text)]
    assert found[0] == reading_text(PARAGRAPHS[0])  # one sentence across three lines
    assert "The rating was for leadership" in found[1] and found[1].endswith("effectiveness.")
    assert found[2] == "Westminster was judged outstanding again."


def test_the_same_content_wrapped_at_other_widths_gives_the_same_sentences() -> None:
    plain = "\n\n".join(PARAGRAPHS)
    expected = [reading_text(t) for _, t in units(plain)]
    for width in (50, 66, 72, 79):
        wrapped = "\n\n".join(textwrap.fill(p, width) for p in PARAGRAPHS)
        assert [reading_text(t) for _, t in units(wrapped)] == expected, width


def test_a_stretch_wrapped_narrower_than_the_rest_is_read_as_paragraphs() -> None:
    # A licence bundle: a preface wrapped at 50 columns, then terms wrapped at 79. Against the
    # text's one width (the terms'), every preface line would end "well short" and stand alone.
    preface = [textwrap.fill(p, 50) for p in PARAGRAPHS]
    item = textwrap.fill(
        "1. Your application must have material additional functionality, beyond the "
        "included portions of the kit, and must be distributed in object code form only.",
        50,
        initial_indent="  ",
        subsequent_indent="    ",  # a hanging indent two columns short of the item's text
    )
    terms = "\n\n".join(textwrap.fill(p * 4, 79) for p in PARAGRAPHS)
    text = "\n\n".join([*preface[:2], item, preface[2], terms])
    lines = lines_of(text)
    narrow, wide = line_wrap_widths(text, lines)[0], line_wrap_widths(text, lines)[-1]
    assert narrow is not None and wide is not None and narrow < wide
    found = [(kind, reading_text(t)) for kind, t in units(text)]
    assert ("PROSE", reading_text(PARAGRAPHS[0])) in found
    assert ("PROSE", "Westminster was judged outstanding again.") in found
    assert ("LIST_ITEM", reading_text(item)) in found
    assert "HEADING" not in {kind for kind, _ in found}


def test_unwrapped_text_keeps_each_line_break_as_a_boundary() -> None:
    text = "Joe Lepper\nWednesday, October 16, 2019\n\nThe quality of services is good.\nIt added more."
    assert wrap_width(text, lines_of(text)) is None
    assert units(text) == [
        ("HEADING", "Joe Lepper"),
        ("HEADING", "Wednesday, October 16, 2019"),
        ("PROSE", "The quality of services is good."),
        ("PROSE", "It added more."),
    ]


def test_list_items_headings_tables_and_code_are_units_of_their_own() -> None:
    text = (
        "Sorting Basics\n\nA simple sort is easy: call the sorted() function:\n\n"
        "```\n>>> sorted([5, 2, 3])\n[2, 3, 5]\n```\n\n"
        "- first item of a list\n- second item, which is longer\n\n"
        "| package | size |\n| grub-pc | 534 |\n"
    )
    kinds = [kind for kind, _ in units(text)]
    assert kinds == ["HEADING", "PROSE", "CODE", "LIST_ITEM", "LIST_ITEM", "TABLE_ROW", "TABLE_ROW"]


def test_a_setext_heading_keeps_its_rule() -> None:
    text = "3.1. The package name\n=====================\n\nEvery package must have a name."
    assert units(text)[0] == ("HEADING", "3.1. The package name\n=====================")


def test_a_title_wrapped_onto_two_lines_is_one_heading() -> None:
    title = "Inspectors praise quality of support at former tri-borough children services"
    text = textwrap.fill(title, 60) + "\n\n" + "\n\n".join(textwrap.fill(p, 60) for p in PARAGRAPHS)
    kind, first = units(text)[0]
    assert kind == "HEADING" and reading_text(first) == title


def test_an_interpreter_session_is_code_even_without_fences() -> None:
    text = "It returns a new list:\n\n>>> sorted([5, 2, 3, 1, 4])\n[1, 2, 3, 4, 5]\n"
    assert [kind for kind, _ in units(text)] == ["PROSE", "CODE"]


def test_a_wrapped_line_of_words_in_brackets_is_prose_not_code() -> None:
    # Wrapped so that the acronym in brackets lands alone on a line, as an editor wraps Markdown.
    sentence = (
        "The tri-borough arrangement has only stayed in place for some back office functions "
        "and specialist services, including the multi-agency safeguarding hub (Mash)"
    )
    text = "\n\n".join([*(textwrap.fill(p, 80) for p in PARAGRAPHS), textwrap.fill(sentence, 79)])
    assert text.endswith("\n(Mash)")
    kind, last = units(text)[-1]
    assert kind == "PROSE" and reading_text(last) == sentence


def test_code_spans_in_a_line_of_prose_are_names_and_shell_code_stays_code() -> None:
    # Markdown and reStructuredText quote names in backticks; their marks are no code symbols.
    assert not looks_like_code("The ``aws s3`` transfer commands, which include ``cp``, ``mv``,")
    assert not looks_like_code(
        "- ``TTLCache.expire()`` returns iterable of expired ``(key, value)``"
    )
    assert not looks_like_code("`bash_completion.d/_python-argcomplete <https://example.org/a>`_")
    assert looks_like_code("x=`ls -l`; echo $x")
    assert looks_like_code("const greeting = `hello ${name}`;")


def test_prose_opening_like_code_with_words_in_brackets_is_prose_and_a_formula_is_not() -> None:
    # "for" opens a Python loop too; what is in the brackets is a clause, not arguments.
    assert not looks_like_code("for kibibytes (KiB, units of 1024 bytes)")
    assert looks_like_code("for (i, j) in pairs")
    assert looks_like_code("print(f(x, 1024), units)")


def test_a_readmes_row_of_badges_is_markup_not_prose() -> None:
    badges = (
        "[![Build](https://ci.example.org/harbourctl/badge.svg)](https://ci.example.org/h) "
        "![Coverage](https://img.example.org/coverage-91.svg) "
        '[![Licence: MIT](https://img.example.org/mit.svg "MIT")](https://example.org/mit)'
    )
    text = f"# harbourctl\n\n{badges}\n\nharbourctl books berths in tidal harbours.\n"
    assert [kind for kind, _ in units(text)] == ["HEADING", "CODE", "PROSE"]
    # An image in a sentence leaves it a sentence.
    described = "The gate ![gate](gate.png) opens at dawn.\n"
    assert [kind for kind, _ in units(described)] == ["PROSE"]


def test_a_price_by_the_period_is_stated_not_a_heading() -> None:
    # A short line without a full stop is a label, unless it says what something costs.
    text = "Digital membership\n\nFrom £15 / month\n\nPrint membership\n\n£120 per year\n"
    assert units(text) == [
        ("HEADING", "Digital membership"),
        ("PROSE", "From £15 / month"),
        ("HEADING", "Print membership"),
        ("PROSE", "£120 per year"),
    ]
    # A headline with an amount in it is still a headline.
    assert units("£4m boost for children's services\n\nThe grant was announced today.\n")[0][0] == (
        "HEADING"
    )


def test_a_command_usage_is_code_and_a_manual_page_header_is_a_heading() -> None:
    text = (
        "LS(1)                       User Commands                       LS(1)\n\n"
        "NAME\n       ls - list directory contents\n\n"
        "SYNOPSIS\n       ls [OPTION]... [FILE]...\n\n"
        "DESCRIPTION\n       List information about the FILEs (the current directory by "
        "default).\n"
    )
    found = units(text)
    assert found[0] == (
        "HEADING",
        "LS(1)                       User Commands                       LS(1)",
    )
    assert ("CODE", "ls [OPTION]... [FILE]...") in found
    assert found[-1][0] == "PROSE"
    # The description after the synopsis is prose, so an answer can be made of it.
    assert all(kind != "CODE" for kind, t in found if "List information" in t)


def test_a_sentence_explaining_a_syntax_and_an_elision_stay_prose() -> None:
    explained = "The format of a symbolic mode is [ugoa...][[-+=][perms...]...], where perms is"
    quoted = "He said the report [...] was late and it was."
    assert not looks_like_code(explained)
    assert not looks_like_code(quoted)
    assert looks_like_code("grep [OPTION...] PATTERNS [FILE...]")
    # A manual page reference is a name; a call's brackets, a method's too, are code.
    assert not looks_like_code("See also crontab(5), cron(8)")
    assert looks_like_code("x = f(y)(z)[0]")
    assert looks_like_code("f.seek(0)") and looks_like_code("os.write(1)")


def test_items_numbered_in_roman_numerals_are_list_items_each_whole() -> None:
    text = (
        "Rights in a chart include, but are not limited to, the following:\n\n"
        "  i. the right to reproduce, adapt, distribute, perform, display,\n"
        "     communicate, and translate a chart;\n"
        " ii. Moral rights retained by the original surveyor or surveyors;\n"
        "iii. rights protecting the extraction, dissemination, use and reuse of\n"
        "     data in a chart.\n"
    )
    found = [(kind, reading_text(t)) for kind, t in units(text)]
    assert found[1:] == [
        (
            "LIST_ITEM",
            "i. the right to reproduce, adapt, distribute, perform, display, communicate, and "
            "translate a chart;",
        ),
        ("LIST_ITEM", "ii. Moral rights retained by the original surveyor or surveyors;"),
        (
            "LIST_ITEM",
            "iii. rights protecting the extraction, dissemination, use and reuse of data in a "
            "chart.",
        ),
    ]


def test_a_numbered_definition_is_one_sentence_and_a_cross_reference_still_ends_one() -> None:
    rule = (
        "Berth holders must not build sheds, huts or other structures on the quay or on the "
        "slipway, and they must not leave trailers there overnight, except those listed in "
        "section 9.1.2. However, they may store gear in the lockers as they wish, provided that "
        "the lockers are kept closed and the keys are handed back at the end of the season."
    )
    wrapped = textwrap.fill(rule, 60)
    assert "\n9.1.2. However" in wrapped  # the cross-reference opens a wrapped line
    found = [reading_text(t) for _, t in units(wrapped)]
    assert found[0].endswith("except those listed in section 9.1.2.")
    assert found[1].startswith("However, they may store gear")
    definition = (
        '1.1. "Berth Holder"\n'
        "    means each person who holds a written permission to keep a vessel\n"
        "    at a berth of the harbour.\n"
    )
    assert [reading_text(t) for _, t in units(definition)] == [
        '1.1. "Berth Holder" means each person who holds a written permission to keep a vessel '
        "at a berth of the harbour."
    ]


def test_a_numeral_ending_a_wrapped_sentence_is_not_an_item_number() -> None:
    wrapped = (
        "The harbour office keeps its tide tables and its mooring lists in plain\n"
        "text files, one for each quay, so that the staff can always edit them with\n"
        "vi. The tables for next year are published in November, together with\n"
        "the dues and the dates of the dredging, and they are posted on the quay.\n"
    )
    assert [reading_text(t) for _, t in units(wrapped)] == [
        "The harbour office keeps its tide tables and its mooring lists in plain text files, "
        "one for each quay, so that the staff can always edit them with vi.",
        "The tables for next year are published in November, together with the dues and the "
        "dates of the dredging, and they are posted on the quay.",
    ]


def test_a_wrapped_line_starting_with_v_or_an_initial_is_not_a_list_item() -> None:
    sentence = (
        "The court followed the reasoning of the appeal judges in the case of Saltmere Trust "
        "v. Jones and the later note by I. Jackson on the same harbour dues, which it cited."
    )
    starts = set()
    for width in range(30, 90):
        text = textwrap.fill(sentence, width)
        starts.update(line.split()[0] for line in text.splitlines())
        assert all(u.kind != Kind.LIST_ITEM for u in split_units(text, 700))
    assert {"v.", "I."} <= starts  # some widths put each at a line's start


def test_a_remark_left_without_its_full_stop_is_prose_not_a_heading() -> None:
    remark = (
        "The report doesn’t seem to say what is actually done well or how. "
        "It seems to lack meaningful content"
    )
    text = f"  3. Laura March 30, 2016 at 8:54 pm #\n\n    {remark}\n\n  4. Next comment"
    assert ("PROSE", "The report doesn’t seem to say what is actually done well or how.") in units(
        text
    )
    assert ("PROSE", "It seems to lack meaningful content") in units(text)
    for title in ("Chapter 2. Getting Started", "The Python Tutorial. Release 3.11"):
        assert units(f"{title}\n\n{PARAGRAPHS[0]}")[0] == ("HEADING", title)


def test_clauses_broken_after_their_commas_are_prose_and_an_address_is_not() -> None:
    # As the seeds' article is converted to Markdown: every line of a verse-like quote its own
    # paragraph. Read as headings, they would start passages that the plain text does not.
    verse = ["Doctor and hospital visits declined,", "mental health appeared to improve,"]
    text = "\n\n".join([*verse, "and more teenagers completed high school."])
    assert [kind for kind, _ in units(text)] == ["PROSE", "PROSE", "PROSE"]
    address = "Westminster City Council,\n\n64 Victoria Street,\n\nLondon SW1E 6QP"
    assert [kind for kind, _ in units(address)] == ["HEADING", "HEADING", "HEADING"]


def test_a_paragraph_wrapped_by_hand_in_capitals_is_one_unit() -> None:
    """Licences wrap by hand, short of where the next word would have stopped fitting, and shout
    their disclaimers: case and width say nothing there, a line stopping mid-sentence does."""
    clause = (
        "5. PSF SHALL NOT BE LIABLE TO LICENSEE OR ANY OTHER USERS OF PYTHON\n"
        "FOR ANY INCIDENTAL, SPECIAL, OR CONSEQUENTIAL DAMAGES OR LOSS AS\n"
        "A RESULT OF MODIFYING, DISTRIBUTING, OR OTHERWISE USING PYTHON,\n"
        "OR ANY DERIVATIVE THEREOF, EVEN IF ADVISED OF THE POSSIBILITY THEREOF."
    )
    others = [textwrap.fill(p, 70) for p in PARAGRAPHS]
    text = "\n\n".join([*others, clause, *others])
    assert ("LIST_ITEM", clause) in units(text)


def test_lines_of_records_are_not_joined_as_a_hand_wrap() -> None:
    """Lines starting with symbols or figures (an option summary, a crontab) are records."""
    records = [
        "--xattrs, -X             preserve extended attributes of th",
        "--owner, -o              preserve owner (super-user only)",
    ]
    others = [textwrap.fill(p, 72) for p in PARAGRAPHS]
    text = "\n\n".join([*others, "\n".join(records), *others])
    found = [t for _, t in units(text)]
    assert not any(records[0].split()[0] in t and records[1].split()[0] in t for t in found)


def test_a_wrapped_prose_line_dense_with_symbols_stays_in_its_paragraph() -> None:
    # A man page's justified paragraph; its second line is mostly symbols by share of characters.
    lines = [
        "       Step values can be used in conjunction with ranges.  Following a  range",
        "       with  ``/<number>''  specifies  skips of the number's value through the",
        "       range.  For example, ``0-23/2'' can be used in the hours field to specify",
        "       command execution every other hour.",
    ]
    others = [textwrap.indent(textwrap.fill(p, 73), "       ") for p in PARAGRAPHS]
    text = "\n\n".join([*others, "\n".join(lines), *others])
    found = [(kind, reading_text(t)) for kind, t in units(text)]
    assert (
        "PROSE",
        "Following a range with ``/<number>'' specifies skips of the number's value "
        "through the range.",
    ) in found
    assert all(kind == "PROSE" for kind, _ in found)


def test_a_description_wrapped_onto_a_word_closing_its_bracket_is_one_unit() -> None:
    # "used)" alone is a fifth symbols, as code is; after a line that filled the width and
    # stops mid-sentence, it is the sentence's last word.
    others = [textwrap.indent(textwrap.fill(p, 73), "       ") for p in PARAGRAPHS]
    entry = (
        "       -size n\n"
        "              File uses n units of space.  The following suffixes can be used:\n\n"
        "              `b'    for 512-byte blocks (this is the default if no suffix is\n"
        "                     used)"
    )
    text = "\n\n".join([*others, entry, *others])
    found = [(kind, reading_text(t)) for kind, t in units(text)]
    assert ("PROSE", "for 512-byte blocks (this is the default if no suffix is used)") in found


def test_code_after_a_wrapped_paragraph_is_still_code() -> None:
    # The paragraph's last line reaches the wrap width, so only the script's own look (symbols,
    # mostly not words) keeps it out of the paragraph.
    paragraphs = [textwrap.indent(textwrap.fill(p, 73), "       ") for p in PARAGRAPHS]
    script = '       if [ "$RET" = "true" ] ; then'
    text = "\n\n".join(paragraphs) + "\n" + script + "\n"
    assert units(text)[-1] == ("CODE", script.strip())


def test_a_passage_starts_at_a_heading_and_carries_the_section_heading() -> None:
    sections = [f"Section {n}\n\n" + "\n\n".join(PARAGRAPHS) for n in (1, 2)]
    text = "\n\n".join(sections)
    chunks = chunk_text(text, 400, 1)
    starts = [text[c.start : c.end].split("\n")[0] for c in chunks]
    assert "Section 2" in starts  # the second section's heading opens a passage
    later = [c for c in chunks if c.heading is not None]
    assert later and all(text[c.heading.start : c.heading.end].startswith("Section") for c in later)


def test_a_numbered_section_title_at_the_margin_over_indented_text_is_a_heading() -> None:
    body = [textwrap.fill(p, 69, initial_indent="   ", subsequent_indent="   ") for p in PARAGRAPHS]
    text = f"1.  Requesting a Berth\n\n{body[0]}\n\n2.  Charges\n\n{body[1]}\n"
    kinds = units(text)
    assert ("HEADING", "1.  Requesting a Berth") in kinds and ("HEADING", "2.  Charges") in kinds
    second = next(c for c in chunk_text(text, 400) if text[c.start :].startswith("2."))
    assert second.heading is not None  # the section opens a passage of its own


def test_numbered_items_stay_list_items() -> None:
    steps = "Steps:\n\n1. Open the valve\n\nThe tank fills in a minute.\n"
    assert ("LIST_ITEM", "1. Open the valve") in units(steps)  # the text after is not indented
    thread = (
        "Comments\n\n  1. Lisa March 30, 2016 at 11:34 am #\n\n"
        "    Low caseloads make the difference here.\n"
    )
    assert ("LIST_ITEM", "1. Lisa March 30, 2016 at 11:34 am #") in units(thread)  # indented
    sentence = "1.  The harbour dries at low water.\n\n   Vessels must wait for the tide.\n"
    assert units(sentence)[0] == ("LIST_ITEM", "1.  The harbour dries at low water.")


def test_a_title_ruled_over_and_under_is_one_heading() -> None:
    rule = "=" * 17
    text = f"{rule}\nHarbour Rules\n{rule}\n\nArrival\n-------\n\n{PARAGRAPHS[0]}\n"
    assert units(text)[:2] == [
        ("HEADING", f"{rule}\nHarbour Rules\n{rule}"),
        ("HEADING", "Arrival\n-------"),
    ]
    assert title_from_text(text) == "Harbour Rules"
    # A sentence between two rules is not a title.
    other = f"{PARAGRAPHS[0]}\n\n{rule}\n{PARAGRAPHS[1]}\n{rule}\n"
    assert all(not text.startswith(rule) for _, text in units(other)[1:] if "\n" in text)


def test_a_numbered_part_of_a_text_is_named_with_its_sentence_or_as_a_heading() -> None:
    text = (
        "ARTICLE II\nCHARGES\n\n"
        "Section 2. The Authority may levy charges on every vessel entering the\n"
        "harbour, at rates published on its notice board before the first day\n"
        "of April in each year.\n\n"
        "CHAPTER IV.\n\n"
        "§ 3. A vessel that leaves before six in the evening pays a third.\n"
    )
    found = [(kind, reading_text(t)) for kind, t in units(text)]
    assert (
        "PROSE",
        "Section 2. The Authority may levy charges on every vessel entering the "
        "harbour, at rates published on its notice board before the first day of April in "
        "each year.",
    ) in found
    assert ("HEADING", "CHAPTER IV.") in found
    assert ("PROSE", "§ 3. A vessel that leaves before six in the evening pays a third.") in found
    # Inside a paragraph, a sentence ending on a section's name still ends.
    inside = "The rates are set out in Section 2. The Authority publishes them in April.\n"
    assert len(units(inside)) == 2


def test_asciidoc_section_titles_are_headings_that_open_passages() -> None:
    text = f"= Harbour Rules\n\n== Arrival\n\n{PARAGRAPHS[0]}\n\n== Charges\n\n{PARAGRAPHS[1]}\n"
    assert [kind for kind, _ in units(text)][:3] == ["HEADING", "HEADING", "PROSE"]
    starts = [text[c.start : c.end].split("\n")[0] for c in chunk_text(text, 300)]
    assert "== Charges" in starts
    assert heading_text("== Charges") == "Charges"


def test_a_provision_leading_in_with_a_dash_is_prose_not_a_heading() -> None:
    text = (
        "2 Interpretation\nIn this Order—\n"
        "“berth” means any place in the harbour at which a vessel may lie alongside a quay;\n\n"
        "3 Charges\n(2) The charges must be published on the notice board each year, and—\n"
        "(a) a multihull pays one and a half times the charge of a monohull.\n"
    )
    kinds = dict((body, kind) for kind, body in units(text))
    assert kinds["2 Interpretation"] == "HEADING" and kinds["3 Charges"] == "HEADING"
    assert kinds["In this Order—"] == "PROSE"
    # A numbered subsection is an item, as its lettered paragraphs are; never a heading.
    assert kinds["(2) The charges must be published on the notice board each year, and—"] == (
        "LIST_ITEM"
    )


def test_reading_text_undoes_line_end_hyphenation_and_layout() -> None:
    assert reading_text("the config\u2010\n       uration file") == "the configuration file"
    assert reading_text("the bug-\n       tracking system") == "the bug-tracking system"
    assert reading_text("Anglo-\nSaxon and tri-\nborough") == "Anglo-Saxon and tri-borough"
    assert reading_text("a list -\nitem") == "a list - item"  # a dash, not a hyphen
    assert reading_text("```\n>>> x = 1\n```") == ">>> x = 1"


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10)
_SENTENCE = st.lists(_WORD, min_size=3, max_size=25).map(lambda w: " ".join(w).capitalize() + ".")


@settings(max_examples=100, deadline=None)
@given(
    paragraphs=st.lists(st.lists(_SENTENCE, min_size=1, max_size=5).map(" ".join), min_size=2),
    width=st.integers(min_value=45, max_value=100),
)
def test_property_wrapping_never_changes_the_sentences(paragraphs: list[str], width: int) -> None:
    plain = "\n\n".join(paragraphs)
    wrapped = "\n\n".join(textwrap.fill(p, width) for p in paragraphs)
    assert [reading_text(t) for _, t in units(wrapped)] == [
        reading_text(t) for _, t in units(plain)
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "   \n"])
def test_blank_text_has_no_blocks(text: str) -> None:
    assert blocks(text) == []
    assert Kind.PROSE == 0  # stored in the index as an int8


@pytest.mark.parametrize(
    ("heading", "words"),
    [
        ("3. Binary packages\n******************", "3. Binary packages"),
        ("=======\nHistory\n=======", "History"),
        ("## Options ##", "Options"),
        ("Sorting HOW TO¶", "Sorting HOW TO"),
        ("-----", "-----"),  # a rule alone is what it is
    ],
)
def test_heading_text_drops_marks_and_rules(heading: str, words: str) -> None:
    assert heading_text(heading) == words


def test_a_sentence_closed_by_a_footnote_reference_is_prose_not_a_heading() -> None:
    # Read as a short block that does not end like a sentence, it was a heading: never an
    # answer, and the context of the passages after it.
    wrapped = textwrap.fill(
        "The archive holds the packages of each release, and every package in it is built "
        "from a source package that the archive also holds, so that anyone may rebuild it.",
        70,
    )
    text = (
        f"Packages\n\n{wrapped}\n\nEvery package in main must comply with the DFSG (Debian "
        f"Free\nSoftware Guidelines).  [3]\n\n{wrapped}\n"
    )
    kinds = {body.split()[0]: kind for kind, body in units(text)}
    assert kinds["Every"] == "PROSE"
    assert kinds["Packages"] == "HEADING"


def test_a_footnote_set_with_a_hanging_indent_is_one_item() -> None:
    # Its first line at the margin, the rest indented under its words: the indent is the
    # footnote's, not a new block's (before, the first line alone was a unit, at times a heading).
    notes = (
        f"{textwrap.fill(PARAGRAPHS[0], 70)}\n\n"
        "[2] The relations were previously allowed, but they were\n"
        "    confusingly defined to mean earlier or equal rather than\n"
        "    strictly earlier.\n"
        "\n"
        "[3] This approach makes dependency resolution much easier. If two\n"
        "    packages A and B are being upgraded together, both are unpacked.\n"
    )
    assert [(kind, reading_text(t)) for kind, t in units(notes)][-3:] == [
        (
            "LIST_ITEM",
            "[2] The relations were previously allowed, but they were confusingly defined to "
            "mean earlier or equal rather than strictly earlier.",
        ),
        ("LIST_ITEM", "[3] This approach makes dependency resolution much easier."),
        ("LIST_ITEM", "If two packages A and B are being upgraded together, both are unpacked."),
    ]


def test_a_citation_opening_a_wrapped_line_goes_on_with_its_sentence() -> None:
    sentence = (
        "The harbour office keeps its tide tables in the format that is described in [2] and "
        "publishes them each November, together with the list of the dues for every quay."
    )
    wrapped = textwrap.fill(sentence, 75)
    assert "\n[2] and" in wrapped  # the citation opens a wrapped line
    assert [reading_text(t) for _, t in units(wrapped)] == [sentence]


def test_a_line_ending_mid_phrase_goes_on_and_a_note_numbered_in_parentheses_is_an_item() -> None:
    # "... licensed under the" ends neither a heading nor a sentence, though the next word would
    # have fitted on its line; "(1)" numbers a note as "[1]" does, its hanging lines with it.
    text = (
        "Footnotes:\n\n"
        "(1) GPL-compatible doesn't mean that we're distributing Python under\n"
        "    the GPL.  All Python licenses, unlike the GPL, let you distribute\n"
        "    a modified version without making your changes open source.\n\n"
        "Python software and documentation are licensed under the\n"
        "Python Software Foundation License Version 2.\n"
    )
    found = [(kind, reading_text(t)) for kind, t in units(text)]
    assert found[1:] == [
        (
            "LIST_ITEM",
            "(1) GPL-compatible doesn't mean that we're distributing Python under the GPL.",
        ),
        (
            "LIST_ITEM",
            "All Python licenses, unlike the GPL, let you distribute a modified version without "
            "making your changes open source.",
        ),
        (
            "PROSE",
            "Python software and documentation are licensed under the Python Software "
            "Foundation License Version 2.",
        ),
    ]


def test_a_short_line_ending_mid_phrase_goes_on_in_wrapped_text() -> None:
    # In text wrapped at 70 columns a line ending 40 columns short is a paragraph's last, unless
    # it stops on "the".
    wrapped = "\n\n".join(textwrap.fill(paragraph, 70) for paragraph in PARAGRAPHS)
    text = f"{wrapped}\n\nEach release is licensed under the\nPSF License.\n"
    assert [reading_text(t) for _, t in units(text)][-1] == (
        "Each release is licensed under the PSF License."
    )


def test_a_title_underlined_with_tildes_is_a_heading_and_a_short_tilde_line_a_fence() -> None:
    # Plain-text documents rule their fourth-level titles with tildes; read as a Markdown fence,
    # "~~~~" made everything up to the next such title code.
    text = (
        "5.6.12.1. Epochs should be used sparingly\n"
        "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n\n"
        "Epochs should not be used when a package needs to be rolled back.\n\n"
        "5.6.12.2. Special version conventions\n"
        "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n\n"
        "Example:\n~~~\nversion = 2.3+really2.2-1\n~~~\n"
    )
    assert [(kind, reading_text(t)) for kind, t in units(text)] == [
        ("HEADING", "5.6.12.1. Epochs should be used sparingly " + "~" * 41),
        ("PROSE", "Epochs should not be used when a package needs to be rolled back."),
        ("HEADING", "5.6.12.2. Special version conventions " + "~" * 37),
        ("PROSE", "Example:"),
        ("CODE", "version = 2.3+really2.2-1"),
    ]


def test_lines_that_each_name_something_after_a_dash_are_entries_not_a_wrap() -> None:
    # A list of modules looks wrapped (lines of like length, none ending a sentence), but each
    # line names something and says what it is.
    modules = "\n".join(
        f"{name} - interface for the XSLT {what} handling and its support functions"
        for name, what in [
            ("attributes", "attribute"),
            ("documents", "document"),
            ("namespaces", "namespace"),
            ("keys", "key"),
            ("numbers", "number"),
        ]
    )
    assert len(units(modules)) == 5


def test_examples_set_out_under_a_lead_in_are_code_not_headings() -> None:
    # Short and without a full stop, each example looks like a title; as one, it became the
    # heading of the passages after it. The subsection title after them is still a heading.
    text = (
        "The script may be called in the following ways:\n\n"
        "   prerm remove\n\n"
        "   $ prerm failed-upgrade\n\n"
        "   prerm upgrade new-version\n\n"
        "It must not fail.\n\n"
        "Error unwind\n\n"
        "The script is called again.\n"
    )
    assert units(text) == [
        ("PROSE", "The script may be called in the following ways:"),
        ("CODE", "prerm remove"),
        ("CODE", "$ prerm failed-upgrade"),
        ("CODE", "prerm upgrade new-version"),
        ("PROSE", "It must not fail."),
        ("HEADING", "Error unwind"),
        ("PROSE", "The script is called again."),
    ]


def after_wrapped_prose(snippet: str) -> str:
    """``snippet`` after paragraphs wrapped at 70 columns, so that the text's width is known."""
    wrapped = "\n\n".join(textwrap.fill(paragraph, 70) for paragraph in PARAGRAPHS * 3)
    return f"{wrapped}\n\n{snippet}"


def test_a_sentence_broken_where_its_writer_chose_goes_on_and_lines_of_a_table_do_not() -> None:
    # Markdown writers break lines at will ("semantic line breaks"); a line that ends no
    # sentence and a next line in lower case are one sentence, in text wrapped at 70 columns as
    # in any other. Labelled fields, commands and aligned columns stay lines of their own.
    text = after_wrapped_prose(
        "We must have documentation\nthat is suitable for beginners.\n\n"
        "method: compression method\ncrc: the checksum of the data\n\n"
        "make install copies the files into place\nmake clean removes what the build made\n\n"
        "tar -cvf etc.tar /etc\nor with compression\n\n"
        "day of month   0-31\nmonth          0-12\n"
    )
    found = [reading_text(t) for _, t in units(text)]
    assert "We must have documentation that is suitable for beginners." in found
    assert "method: compression method" in found and "crc: the checksum of the data" in found
    assert "make install copies the files into place" in found
    assert "tar -cvf etc.tar /etc" in found
    assert "month 0-12" in found
    # The same holds in a short text, whose width cannot be told.
    fields = "method: compression method\ncrc: the checksum of the data\n"
    assert len(units(fields)) == 2


def test_a_sentence_goes_on_into_a_line_that_opens_with_a_name_or_a_link() -> None:
    # Written a clause to a line, as Node.js's documentation is: a line that stops after a comma,
    # or after the first words of a sentence begun within it, goes on though the next line
    # opens with a capital. Tips one to a line, the first ending on an option's comma, do not.
    text = after_wrapped_prose(
        "If the blob is found, it executes the script in the blob. Otherwise\n"
        "Node.js operates as it normally does.\n\n"
        "If the path passed to it isn't absolute,\n"
        "Node.js will use the path relative to the current working directory.\n\n"
        "Should you experience a problem, run\n"
        "[`corepack disable`][] to remove the proxies from your system.\n\n"
        "Functions that need only the library, such as\n"
        "[URL][] parsing, are fully supported.\n\n"
        "The categories covered by this\n`Tracing` object.\n\n"
        "The command has [flags][]. Consult the detailed\nManual for them.\n\n"
        "Print event counts in CSV format with: perf stat -x,\n"
        "If you have debuginfo enabled, try: perf report -s sym,srcline\n"
    )
    found = [reading_text(t) for _, t in units(text)]
    assert "Otherwise Node.js operates as it normally does." in found
    assert (
        "If the path passed to it isn't absolute, Node.js will use the path relative to the "
        "current working directory." in found
    )
    assert (
        "Should you experience a problem, run [`corepack disable`][] to remove the proxies from "
        "your system." in found
    )  # a line opening with a link goes on as its words would
    assert (
        "Functions that need only the library, such as [URL][] parsing, are fully supported."
        in found
    )  # ... after a line that stops mid-phrase too
    assert "The categories covered by this `Tracing` object." in found
    assert "Consult the detailed Manual for them." in found  # after "[flags][]."
    assert "Print event counts in CSV format with: perf stat -x," in found


def test_an_html_comment_in_markdown_is_no_unit_and_the_text_around_it_is_read() -> None:
    # Node.js's pages note each API's history in comments; read as text, "pr-url: ..." was a
    # heading and "description: ..." a candidate answer.
    text = (
        "## Class: `tty.ReadStream`\n\n"
        "<!-- YAML\nadded: v0.5.8\nchanges:\n  - pr-url: https://example.org/pull/1\n"
        "    description: Added support for raw mode.\n-->\n\n"
        "Represents the readable side of a TTY.\n\n"
        "<!-- TOC -->\n"
        "<!-- a note --> Text after a comment is read.\n\n"
        "<!-- never closed\n\nThe rest is text.\n"
    )
    found = units(text)
    assert ("HEADING", "## Class: `tty.ReadStream`") in found
    assert ("PROSE", "Represents the readable side of a TTY.") in found
    assert not any("pr-url" in t or "added:" in t or "TOC" in t for _, t in found)
    assert any(t.endswith("Text after a comment is read.") for _, t in found)
    assert ("PROSE", "The rest is text.") in found


def test_a_line_at_an_items_text_column_goes_on_the_item() -> None:
    # In Markdown, as in most lists set in plain text, a line starting where the item's text
    # started is the item's, though the line before ended a sentence (as Node.js's pages set
    # their lists). Link definitions, one to a line, stay apart.
    text = (
        "The available categories are:\n\n"
        "* `node`: An empty placeholder.\n"
        "* `node.async_hooks`: Enables capture of detailed [`async_hooks`][] trace data.\n"
        "  The [`async_hooks`][] events have a unique `asyncId` and a special `triggerId`\n"
        "  `triggerAsyncId` property.\n"
        "* `node.bootstrap`: Enables capture of Node.js bootstrap milestones.\n\n"
        "There are also other tools, such as [Cargo], [rustfmt] and [Clippy].\n\n"
        "[Cargo]: https://github.com/rust-lang/cargo\n"
        "[rustfmt]: https://github.com/rust-lang/rustfmt\n"
        "[Clippy]: https://github.com/rust-lang/rust-clippy\n"
    )
    found = [(kind, reading_text(t)) for kind, t in units(text)]
    assert (
        "LIST_ITEM",
        "The [`async_hooks`][] events have a unique `asyncId` and a special `triggerId` "
        "`triggerAsyncId` property.",
    ) in found
    assert (
        "LIST_ITEM",
        "* `node.bootstrap`: Enables capture of Node.js bootstrap milestones.",
    ) in found
    assert (
        "PROSE",
        "There are also other tools, such as [Cargo], [rustfmt] and [Clippy].",
    ) in found


def test_markdown_link_definitions_are_no_units() -> None:
    # Where a link points is for the renderer: read as text, a page's block of definitions was
    # a passage that ranked second for a question on a name it lists.
    text = (
        "Use [`sea.getAsset()`][] to read an asset, as [the guide][guide] shows.\n\n"
        "[`sea.getAsset()`]: #seagetassetkey-encoding\n"
        '  [guide]: https://example.org/guide "The guide"\n'
        "[v8]: v8.md#startup-snapshot-api (V8's API)\n\n"
        "[1]: See the notes below, which are text.\n"
    )
    found = units(text)
    assert not any("#seagetassetkey" in t or "example.org" in t or "v8.md" in t for _, t in found)
    assert (
        "PROSE",
        "Use [`sea.getAsset()`][] to read an asset, as [the guide][guide] shows.",
    ) in found
    assert any("See the notes below, which are text." in t for _, t in found)


def test_a_line_opening_with_a_bracket_goes_on_the_sentence() -> None:
    # "(i.e. ...)", "(at your option)" go on a sentence the line before left unfinished, as
    # the words in the brackets would; an item marked "(a)" still starts an item of its own.
    text = (
        "Intro.\n\n"
        "  The ``cmake_path`` command handles paths in the format of the build system\n"
        "  (i.e. the host platform), not the target system.\n\n"
        "The definitions are as follows\n"
        "(a) the first term;\n"
        "(b) the second term.\n"
    )
    found = [(kind, reading_text(t)) for kind, t in units(text)]
    assert (
        "PROSE",
        "The ``cmake_path`` command handles paths in the format of the build system (i.e. the "
        "host platform), not the target system.",
    ) in found
    assert ("LIST_ITEM", "(a) the first term;") in found


def test_restructuredtext_roles_go_on_a_sentence_and_a_note_is_prose() -> None:
    # A line opening with a role (":func:`exec` ...") goes on the sentence of the line before.
    # A directive's line is markup: a note's text under ".. note::" is prose to answer from,
    # the block under ".. code-block::" is code.
    text = (
        "Some prose here that is long enough to read.\n\n"
        ".. note::\n\n"
        "   Python 3's :func:`py3:exec` doesn't take keyword arguments, so calling\n"
        "   :func:`exec` with them should be avoided.\n\n"
        "For example:\n\n"
        ".. code-block:: python\n\n"
        "   cache = TTLCache(maxsize=10, ttl=60)\n"
    )
    found = [(kind, reading_text(t)) for kind, t in units(text)]
    assert (
        "PROSE",
        "Python 3's :func:`py3:exec` doesn't take keyword arguments, so calling :func:`exec` with "
        "them should be avoided.",
    ) in found
    assert ("CODE", "cache = TTLCache(maxsize=10, ttl=60)") in found
    assert not any(t.startswith(".. ") for _, t in found)  # the directives' lines are no units
    option = units(".. option:: --fresh\n\n   Perform a fresh configuration of the build tree.\n")
    assert option[0] == ("HEADING", ".. option:: --fresh")  # what a directive documents is text


def test_in_restructuredtext_a_line_of_prose_that_ends_no_sentence_goes_on() -> None:
    # reStructuredText, like Markdown, joins a paragraph's lines; a text with its explicit
    # markup (directives, targets) is read so. The same lines in plain text keep the break.
    lines = (
        "Call the ``project()`` command near the top of the top-level\n"
        "``CMakeLists.txt``, but *after* calling the other command.\n"
    )
    joined = (
        "Call the ``project()`` command near the top of the top-level ``CMakeLists.txt``, but "
        "*after* calling the other command."
    )
    rst = f".. _project:\n\nproject\n-------\n\n{lines}\n.. code-block:: cmake\n\n  project(Foo)\n"
    assert ("PROSE", joined) in [(kind, reading_text(t)) for kind, t in units(rst)]
    plain = f"project\n-------\n\n{lines}"
    assert joined not in [reading_text(t) for _, t in units(plain)]


def test_restructuredtext_comments_and_targets_are_no_units() -> None:
    # A Sphinx page opens with a comment its readers never see; read as text, it was the
    # document's title, and a target over a heading ran into it as one unit.
    text = (
        ".. cmake-manual-description: CMake Language Reference\n\n"
        "cmake-language(7)\n*****************\n\n"
        ".. _`CMake Language Lists`:\n\n"
        "Lists\n=====\n\n"
        "A list of elements is represented as a string.\n\n"
        ".. No highlighting in the following example\n"
        "   (not supported by our lexer)\n\n"
        ".. _Lua: http://www.lua.org/\n"
        "..\n\n"
        ".. note::\n\n   Lists are meant for simple use cases.\n"
    )
    found = units(text)
    assert not any("manual-description" in t or "_`" in t or "lexer" in t for _, t in found)
    assert not any("lua.org" in t or t.strip() == ".." for _, t in found)
    assert ("HEADING", "Lists\n=====") in found
    assert ("PROSE", "A list of elements is represented as a string.") in found
    assert any("Lists are meant for simple use cases." in t for _, t in found)
    assert any("A footnote is text." in t for _, t in units(".. [1] A footnote is text.\n"))
    assert title_from_text(text) == "cmake-language(7)"


def test_in_markdown_a_line_of_prose_that_ends_no_sentence_goes_on() -> None:
    # Markdown joins a paragraph's lines whatever they end on; in a text headed as Markdown, a
    # line of prose that ends no sentence is no heading of its own. The same two lines in a text
    # without Markdown's headings keep the break (a plain text's title may run into its text).
    lines = "The JavaScript `string` type is described in\n[Section 6.1.4][] of the specification."
    markdown = f"# Strings\n\n{lines}\n\n## Numbers\n\nNumbers are doubles.\n"
    plain = f"Strings\n\n{lines}\n\nNumbers\n\nNumbers are doubles.\n"
    joined = "The JavaScript `string` type is described in [Section 6.1.4][] of the specification."
    assert ("PROSE", joined) in [(kind, reading_text(t)) for kind, t in units(markdown)]
    assert joined not in [reading_text(t) for _, t in units(plain)]
    assert joined in [reading_text(t) for _, t in units(f"# Strings\n\n{lines}\n")]  # a title
    # A shell comment in an example is no Markdown heading, nor is one such line alone.
    example = f"Strings\n\n{lines}\n\n# run it\nmake run\n\n# then\n\nmake check\n"
    assert joined not in [reading_text(t) for _, t in units(example)]


NOTICE = (
    "Redistribution and use in source and binary forms, with or without modification, are "
    "permitted provided that the following conditions are met. Redistributions of source code "
    "must retain the above copyright notice, this list of conditions and the disclaimer."
)


def test_a_notice_quoted_as_shell_comments_reads_as_prose() -> None:
    quoted = "\n".join(" # " + line for line in textwrap.wrap(NOTICE, 66))
    text = f"Dictionary data\n\n{quoted}\n #\n # All rights reserved by the authors of the list.\n"
    found = [(kind, reading_text(t)) for kind, t in units(text)]
    assert ("PROSE", reading_text(NOTICE.split(". ")[0]) + ".") in found
    assert ("PROSE", "All rights reserved by the authors of the list.") in found
    assert all(text[u.start] != "#" for u in split_units(text, 700))
    # Root prompts are commands, not a quote: they stay code.
    prompts = "# apt update\n# apt install foo\n# systemctl restart foo\n"
    assert {kind for kind, _ in units(prompts)} == {"CODE"}


def test_a_paragraph_whose_first_line_is_indented_reads_whole() -> None:
    # As the GNU licences set their paragraphs: the first line two columns in, no blank lines.
    paragraphs = [f"{p} {p}" for p in PARAGRAPHS]
    text = "\n".join(
        textwrap.fill(p, 72, initial_indent="  ", subsequent_indent="") for p in paragraphs
    )
    # A first line ended by hand where the next word would still have fitted.
    text += (
        "\n  Inspectors found that the council had kept its good rating for\n"
        "the third time, and they praised the stability of its leadership team.\n"
    )
    found = [reading_text(t) for _, t in units(text)]
    assert reading_text(PARAGRAPHS[0]) in found  # its first sentence, across the indent
    assert found[-1].startswith("Inspectors found") and found[-1].endswith("leadership team.")
    assert all(kind == "PROSE" for kind, _ in units(text))


def test_a_wrapped_line_that_cites_by_number_goes_on_as_prose() -> None:
    text = textwrap.fill(
        "The database is in the public domain and is intended to remain in the public domain. "
        "Therefore, BCPs 78 [RFC5378] and 79 [RFC3979] do not apply to the database or to the "
        "contributions that individuals make to it. No ownership claims will be made on it.",
        70,
    )
    text = "\n\n".join([text, *(textwrap.fill(p, 70) for p in PARAGRAPHS)])
    found = [(kind, reading_text(t)) for kind, t in units(text)]
    assert found[1] == (
        "PROSE",
        "Therefore, BCPs 78 [RFC5378] and 79 [RFC3979] do not apply to the database or to the "
        "contributions that individuals make to it.",
    )


def test_an_initial_does_not_end_a_sentence_but_a_key_or_a_language_may() -> None:
    text = (
        "It was revised by David A. Morris and Richard M. Stallman. See S. Lehtinen and C. "
        "Lonvick, The Secure Shell. Press Ctrl-D. Alternately, type exit. It is written in C. "
        "Read on."
    )
    assert [text[u.start : u.end] for u in split_units(text, 700)] == [
        "It was revised by David A. Morris and Richard M. Stallman.",
        "See S. Lehtinen and C. Lonvick, The Secure Shell.",
        "Press Ctrl-D.",
        "Alternately, type exit.",
        "It is written in C.",
        "Read on.",
    ]


def test_a_copyright_line_is_a_statement_not_a_heading() -> None:
    text = "install-sh\n\nCopyright 1991 by the Massachusetts Institute of Technology\n\nPermission is granted."
    assert units(text)[1] == (
        "PROSE",
        "Copyright 1991 by the Massachusetts Institute of Technology",
    )
    assert units(text)[0] == ("HEADING", "install-sh")


def test_a_table_set_out_with_spaces_is_rows_not_headings() -> None:
    table = (
        "    Release         Year        Owner       GPL-compatible?\n"
        "    0.9.0 thru 1.2  1991-1995   CWI         yes\n"
        "    1.6             2000        CNRI        no\n"
        "    2.2 and above   2001-now    PSF         yes\n"
    )
    text = f"History\n\nThe table below summarizes the releases.\n\n{table}\nFootnotes follow here."
    assert [kind for kind, _ in units(text)] == [
        "HEADING",
        "PROSE",
        *["TABLE_ROW"] * 4,
        "PROSE",
    ]
    # Justified prose pads with two spaces, which may fall in line by chance: still prose.
    justified = (
        "Surround  the matched  strings, matching lines, context lines, line\n"
        "numbers,  file names,  and separators with escape sequences so as to\n"
        "display them in color on the terminal.\n"
    )
    assert {kind for kind, _ in units(justified)} == {"PROSE"}


def test_an_item_whose_wrapped_lines_start_left_of_its_marker_reads_whole() -> None:
    # As BSD licences set their conditions: "  * Redistributions ..." over "copyright notice".
    item = (
        "  * Redistributions in binary form must reproduce the above\n"
        "copyright notice, this list of conditions and the disclaimer.\n"
    )
    text = "\n\n".join([*(textwrap.fill(p, 72) for p in PARAGRAPHS), item])
    assert units(text)[-1] == (
        "LIST_ITEM",
        item.strip(),
    )


def test_a_term_over_the_words_that_define_it_is_one_sentence() -> None:
    # As some licences set their definitions: the numbered term on a line of its own, its
    # definition indented under it, opening with "means", in a text wrapped at 72 columns.
    boatwright = (
        '1.1. "Boatwright"\n'
        "    means each individual or legal entity that creates, contributes to\n"
        "    the creation of, or owns Covered Vessels."
    )
    contribution = '1.3. "Contribution"\n    means Covered Vessels of a particular Boatwright.'
    grants = (
        "Each Boatwright hereby grants You a world-wide, royalty-free,\n"
        "non-exclusive license to use, reproduce, make available, modify,\n"
        "display, perform, distribute, and otherwise exploit its Contributions."
    )
    version = (
        '1.2. "Boatwright Version"\n'
        "    means the combination of the Contributions of others (if any) used\n"
        "    by a Boatwright and that particular Boatwright's Contribution."
    )
    lead_in = '1.4. "Incompatible"\n    means'  # over its items: it introduces them
    item = "    (a) that the initial Boatwright has attached the notice in Exhibit B."
    text = "\n\n".join(
        [
            "1. Definitions\n--------------",
            boatwright,
            version,
            contribution,
            lead_in,
            item,
            "2.1. Grants",
            grants,
        ]
    )
    assert units(text) == [
        ("HEADING", "1. Definitions\n--------------"),
        ("PROSE", boatwright),
        ("PROSE", version),
        ("PROSE", contribution),
        ("PROSE", lead_in),
        ("LIST_ITEM", item.strip()),
        ("HEADING", "2.1. Grants"),
        ("PROSE", grants),
    ]


def test_items_lettered_a_b_c_read_whole_with_their_marks() -> None:
    # As Creative Commons licences set their clauses: "a." items, wrapped under their text.
    first = (
        " a. No trademark or patent rights held by the Harbour Master are waived,\n"
        "    abandoned, surrendered, licensed or otherwise affected by this\n"
        "    document."
    )
    second = (
        " b. The Harbour Master offers the Berth as-is and makes no representations\n"
        "    or warranties of any kind concerning the Berth, express, implied,\n"
        "    statutory or otherwise."
    )
    text = f"4. Limitations and Disclaimers.\n\n{first}\n{second}\n"
    assert units(text)[1:] == [("LIST_ITEM", first.strip()), ("LIST_ITEM", second.strip())]
    # A letter and a full stop before a number, or a "v." between parties, open no item.
    wrapped = (
        "The rule was first set out in Harbour Board against Quayside Holdings, reported at\n"
        "p. 12 of the second volume, and followed in Harbour Board\n"
        "v. Jones, where the court read it narrowly.\n"
    )
    assert {kind for kind, _ in units(wrapped)} == {"PROSE"}


def test_items_bulleted_with_a_letter_o_read_whole() -> None:
    # As the zlib and FreeType licences set their conditions: "o" one or two spaces before the
    # text, wrapped under it.
    first = (
        "o  The origin of these charts must not be misrepresented; you must not\n"
        "   claim that you drew the original charts."
    )
    second = "o  This notice may not be removed or altered from any copy."
    text = (
        f"The charts may be shared, subject to the following restrictions:\n\n{first}\n\n{second}\n"
    )
    assert units(text)[-2:] == [("LIST_ITEM", first), ("LIST_ITEM", second)]
    # The word "o" in running text opens nothing, nor does a bullet read as a term's mark
    # ("o" before a wide gap, as groff sets it: ``qa.definitions`` reads it).
    assert units("Old charts say o for ocean and x for\nwreck on every sheet.\n") == [
        ("PROSE", "Old charts say o for ocean and x for\nwreck on every sheet.")
    ]


def test_a_later_heading_naming_the_title_in_full_is_the_title() -> None:
    rule = "=" * 40
    text = (
        f"Mooring 2.0 International\n\n{rule}\n\nThe Harbour Board publishes licences for berths.\n\n"
        "Using Harbour Licences\n\nHarbour licences set terms for mooring.\n\n"
        "Harbour Board Mooring 2.0 International Public Licence\n\n"
        "By mooring, You accept these terms.\n"
    )
    assert title_from_text(text) == "Harbour Board Mooring 2.0 International Public Licence"
    # A heading that adds words in lower case is a section about the subject, not its name.
    about = "Corepack\n\nCorepack manages package managers.\n\nHow does Corepack work?\n\nIt reads files.\n"
    assert title_from_text(about) == "Corepack"


def test_numbered_section_titles_of_a_licence_are_headings() -> None:
    # As the GNU licences title their sections: indented like the paragraphs under them.
    text = (
        "  This licence sets out how the harbour's charts may be copied and\n"
        "shared by anyone who sails with them.\n\n"
        "  0. Definitions.\n\n"
        '  "The Charts" refers to every chart the harbour publishes under\n'
        "this licence.\n\n"
        "  1. Conveying Verbatim Copies.\n\n"
        "  You may convey verbatim copies of the Charts as you receive them,\n"
        "in any medium.\n\n"
        "  2. Lisa March 30, 2016 at 11:34 am #\n\n"
        "  A reader's comment, set out as a numbered reply to the licence.\n"
    )
    found = units(text)
    assert ("HEADING", "0. Definitions.") in found
    assert ("HEADING", "1. Conveying Verbatim Copies.") in found
    assert ("LIST_ITEM", "2. Lisa March 30, 2016 at 11:34 am #") in found  # a byline
    # A title over lettered items, after a numbered paragraph, as CC0 sets its sections.
    waiver = (
        "3. Public License Fallback. Should any part of the Waiver for any reason be judged\n"
        "legally invalid, it shall be preserved to the maximum extent permitted.\n\n"
        "4. Limitations and Disclaimers.\n\n"
        " a. No trademark or patent rights held by the Harbour Master are waived.\n"
        " b. The Harbour Master offers the Berth as-is.\n"
    )
    assert [kind for kind, _ in units(waiver)] == [
        "LIST_ITEM",
        "LIST_ITEM",
        "HEADING",
        "LIST_ITEM",
        "LIST_ITEM",
    ]
    # Numbered lines one after another are a list's items, though each is a short title.
    steps = "Before sailing:\n\n1. Check The Tides\n\n2. Read The Charts\n\nThen cast off.\n"
    assert [kind for kind, _ in units(steps)] == ["PROSE", "LIST_ITEM", "LIST_ITEM", "PROSE"]


def test_a_sentence_ending_on_a_letter_is_no_item_where_a_wrap_breaks_it() -> None:
    text = (
        "The harbour's chart of moorings marks each berth with a letter, and\n"
        "the pilot boats always tie up at berth\n"
        "a. The ferries use the berths further along the quay.\n"
    )
    assert [kind for kind, _ in units(text)] == ["PROSE", "PROSE"]


def test_items_lettered_in_capitals_read_whole_where_they_run_in_order() -> None:
    # As the GNU Free Documentation License letters what a modified version must do.
    items = [
        "A. Use in the Title Page (and on the covers, if any) a title distinct\n"
        "   from that of the Chart, and from those of previous versions.",
        "B. List on the Title Page, as authors, one or more persons or entities\n"
        "   responsible for authorship of the modifications in the Modified\n"
        "   Chart.",
        "C. State on the Title page the name of the publisher of the\n"
        "   Modified Chart, as the publisher.",
    ]
    text = "In addition, you must do these things in the Modified Chart:\n\n" + "\n".join(items)
    assert units(text)[1:] == [("LIST_ITEM", item) for item in items]
    # A name's initial opens a line too: references by author are no lettered items.
    references = (
        "     S. Lehtinen and C. Lonvick, The Secure Shell (SSH) Protocol Assigned\n"
        "        Numbers, RFC 4250, January 2006.\n\n"
        "     T. Ylonen and C. Lonvick, The Secure Shell (SSH) Protocol Architecture,\n"
        "        RFC 4251, January 2006.\n"
    )
    assert {kind for kind, _ in units(references)} == {"PROSE"}


def test_a_question_marked_q_reads_whole() -> None:
    text = (
        "Q. I upgraded my system to the testing distribution and now my /etc/issue\n"
        'says "trixie/sid".\n\n'
        "A. That would be nice, but it is not possible because of the way the\n"
        "testing distribution works.\n"
    )
    assert [reading_text(t) for _, t in units(text)] == [
        'Q. I upgraded my system to the testing distribution and now my /etc/issue says "trixie/sid".',
        "A. That would be nice, but it is not possible because of the way the testing distribution works.",
    ]


def test_a_name_broken_across_lines_of_a_narrower_paragraph_reads_on() -> None:
    # A notice wrapped narrower than the text around it breaks a licence's name at a line end.
    wide = textwrap.fill(
        "The harbour charts in this folder were drawn by the pilots' guild over many years and "
        "are shared with every crew that moors at the east pier, under the notice below, "
        "which the guild asks every crew to keep with each copy it makes of the charts.",
        74,
    )
    notice = (
        "This library is free software; you can redistribute it and/or\n"
        "modify it under the terms of the GNU Lesser General Public\n"
        "License as published by the Free Software Foundation; either\n"
        "version 2.1 of the License, or (at your option) any later version."
    )
    found = units(f"{wide}\n\n{notice}\n\n{wide}\n\n{wide}\n")
    assert ("PROSE", notice) in found
    # Two lines of a title, each capitalised, stay apart from the text under them.
    titled = units(f"Harbour Lesser General Public\nLicense Notes\n\n{wide}\n")
    assert titled[0][0] == "HEADING"


def test_an_item_whose_lines_stand_off_its_text_column_reads_on_mid_phrase() -> None:
    # An item indented by hand: its lines two columns in from the mark, not at the text's column.
    item = (
        "    3. Grant of Patent License. Subject to the terms and conditions of\n"
        "      this License, each Contributor hereby grants to You a perpetual,\n"
        "      worldwide, non-exclusive, no-charge, royalty-free patent license."
    )
    wide = textwrap.fill(" ".join(PARAGRAPHS), 80)  # the text is wider than the item
    found = units(f"{wide}\n\n{item}\n\n{wide}\n")
    grant = [t for kind, t in found if "perpetual" in t]
    assert grant == [item.strip()[len("3. Grant of Patent License. ") :]]


def test_a_sentence_stopping_on_at_leads_into_the_address_under_it() -> None:
    text = (
        "   Licensed under the Harbour License, Version 2.0 (the License);\n"
        "   you may not use this file except in compliance with the License.\n"
        "   You may obtain a copy of the License at\n\n"
        "       http://harbour.example.org/licenses/LICENSE-2.0\n\n"
        "   Unless required by applicable law or agreed to in writing, charts\n"
        "   distributed under the License are distributed on an AS IS BASIS.\n"
    )
    found = units(text)
    assert ("PROSE", "You may obtain a copy of the License at") in found  # a lead-in, no title
    assert ("CODE", "http://harbour.example.org/licenses/LICENSE-2.0") in found
    # A title may end on the same word, capitalised.
    assert units("Warning Messages You Might See\n\nSome text follows here.\n")[0][0] == "HEADING"


def test_a_full_stop_alone_on_its_line_is_a_blank_line() -> None:
    # Debian's copyright files write a licence's blank lines as " ." (indented text, a dot).
    text = (
        " The Harbour Licence (HL)\n"
        " .\n"
        " Everyone may copy the charts.\n"
        " .\n"
        " 1. Definitions\n"
        " .\n"
        " A chart is any map the pilots draw.\n"
    )
    assert units(text) == [
        ("HEADING", "The Harbour Licence (HL)"),
        ("PROSE", "Everyone may copy the charts."),
        ("HEADING", "1. Definitions"),
        ("PROSE", "A chart is any map the pilots draw."),
    ]


def test_an_item_wrapped_back_to_its_mark_reads_whole_but_its_title_stands_alone() -> None:
    wide = textwrap.fill(" ".join(PARAGRAPHS), 100)  # far wider than the items
    # As the Artistic License wraps its items: back to the column of the mark.
    item = (
        "     a) place your modifications in the Public Domain or otherwise make them\n"
        "     Freely Available, such as by posting said modifications to Usenet or\n"
        "     an equivalent medium."
    )
    found = units(f"{wide}\n\n{item}\n")
    assert found[-1] == ("LIST_ITEM", item.strip())
    # An item that titles what follows, its text indented under it, ends on a capital.
    titled = f"{wide}\n\n  1. Free Redistribution\n      The charts may be sold or given away.\n"
    assert units(titled)[-2:] == [
        ("LIST_ITEM", "1. Free Redistribution"),
        ("PROSE", "The charts may be sold or given away."),
    ]
