"""Definition lists (qa.definitions): an option's flags and its indented description are one
entry, the flags its heading; each entry is a passage of its own; offsets stay exact."""

from __future__ import annotations

from qa.chunking import chunk_text, split_units
from qa.documents import Document
from qa.indexer import passage_embedding_text
from qa.reading import reading_text

# Laid out as `man` renders a page at 80 columns: sections at 0, text at 7, descriptions at 14.
MAN_PAGE = """LS(1)                            User Commands                           LS(1)

NAME
       ls - list directory contents

DESCRIPTION
       List  information  about  the FILEs (the current directory by default).
       Sort entries alphabetically if none of -cftuvSUX nor --sort  is  speci\u2010
       fied.

       -a, --all
              do not ignore entries starting with .

       --block-size=SIZE
              with  -l,  scale  sizes  by  SIZE  when  printing  them;   e.g.,
              '--block-size=M'; see SIZE format below

       -c     with -lt: sort by, and show, ctime (time of last modification of
              file status information); with -l: show ctime and sort by  name;
              otherwise: sort by ctime, newest first

       -C     list entries by columns

       --group-directories-first
              group directories before files; can be augmented with  a  --sort
              option, but any use of --sort=none (-U) disables grouping

       -L, --dereference
              when showing file information for a symbolic link, show informa‐
              tion for the file the link references rather than for  the  link
              itself

       Some of the additional features are:

       o      support for  copying  hard  and  soft  links,  devices,  owners,
              groups, and permissions

       o      exclude and exclude-from options similar to GNU tar
"""


def units(text: str) -> list[tuple[str, str]]:
    return [(u.kind.name, reading_text(text[u.start : u.end])) for u in split_units(text, 700)]


def test_an_option_is_a_term_and_its_description_prose_even_without_a_full_stop() -> None:
    found = units(MAN_PAGE)
    assert ("TERM", "-a, --all") in found
    assert ("PROSE", "do not ignore entries starting with .") in found
    assert ("TERM", "--block-size=SIZE") in found
    assert (
        "PROSE",
        "with -l, scale sizes by SIZE when printing them; e.g., '--block-size=M'; "
        "see SIZE format below",
    ) in found  # wrapped across the indented lines, one unit


def test_a_term_before_a_gap_on_its_description_line_is_a_term_too() -> None:
    found = units(MAN_PAGE)
    assert ("TERM", "-c") in found and ("TERM", "-C") in found
    assert ("PROSE", "list entries by columns") in found
    assert any(kind == "PROSE" and text.startswith("with -lt: sort by") for kind, text in found)


def test_a_one_letter_marker_is_a_list_item_not_a_term() -> None:
    found = units(MAN_PAGE)
    assert (
        "LIST_ITEM",
        "o support for copying hard and soft links, devices, owners, groups, and permissions",
    ) in found
    assert not any(kind == "TERM" and text == "o" for kind, text in found)


def test_a_section_heading_at_the_margin_is_not_a_term() -> None:
    found = units(MAN_PAGE)
    assert ("HEADING", "DESCRIPTION") in found
    assert not any(kind == "TERM" and "DESCRIPTION" in text for kind, text in found)


def test_a_centred_title_page_is_headings_not_a_term_over_its_description() -> None:
    # A licence's title page: centred lines over prose wrapped at the margin.
    text = (
        "                    SALTMERE HARBOUR RULES\n"
        "                       Version 2, June 1991\n\n"
        "                          PREAMBLE\n\n"
        "  The harbour of Saltmere is shared by fishing boats, ferries and\n"
        "pleasure craft, and these rules are meant to keep all of them safe.\n"
    )
    found = units(text)
    assert found[:3] == [
        ("HEADING", "SALTMERE HARBOUR RULES"),
        ("HEADING", "Version 2, June 1991"),
        ("HEADING", "PREAMBLE"),
    ]
    assert found[3][0] == "PROSE"


def test_each_option_is_a_passage_read_with_its_section_and_offsets_are_exact() -> None:
    chunks = chunk_text(MAN_PAGE, 700, 1)
    by_start = {MAN_PAGE[c.start : c.end].split("\n")[0].strip(): c for c in chunks}
    for flag in ("-a, --all", "--block-size=SIZE", "-C     list entries by columns"):
        chunk = by_start[flag]
        assert chunk.heading is not None
        assert MAN_PAGE[chunk.heading.start : chunk.heading.end] == "DESCRIPTION"
        assert "-a, --all" not in MAN_PAGE[chunk.start : chunk.end] or flag == "-a, --all"
    for chunk in chunks:
        for unit in chunk.sentences:
            assert chunk.start <= unit.start < unit.end <= chunk.end
            assert MAN_PAGE[unit.start : unit.end].strip() == MAN_PAGE[unit.start : unit.end]


# An option whose description holds a list of its own (the values it takes), as find(1) lays
# out -size's suffixes, followed by another option.
NESTED = """DESCRIPTION
       Search for files in a directory hierarchy.

       -size n[cwb]
              File uses less than, more than or  exactly  n  units  of  space,
              rounding up.  The following suffixes can be used:

              `b'    for  512-byte blocks (this is the default if no suffix is
                     used)

              `c'    for bytes

              `w'    for two-byte words

       -type c
              File is of type c.
"""


def test_a_list_inside_an_options_description_stays_in_the_options_passage() -> None:
    passages = [NESTED[c.start : c.end] for c in chunk_text(NESTED, 700)]
    size = next(p for p in passages if p.startswith("-size"))
    assert "The following suffixes can be used:" in size
    assert "`w'    for two-byte words" in size
    assert any(p.startswith("-type c") for p in passages)  # the next option has its own


def test_an_option_is_embedded_with_its_page_title_and_prose_without_it() -> None:
    """An option's flags do not say whose option it is; the page's title does."""
    doc = Document("ls", "ls.1.txt", "LS(1) User Commands LS(1)", None, MAN_PAGE, "0" * 64)
    chunks = chunk_text(MAN_PAGE, 700)
    read = {MAN_PAGE[c.start : c.end].split("\n")[0].strip(): c for c in chunks}
    option = passage_embedding_text(doc, read["-a, --all"], with_title=False)
    assert option.split("\n") == [
        "LS(1) User Commands LS(1)",
        "DESCRIPTION",
        "-a, --all do not ignore entries starting with .",
    ]
    prose = next(c for c in chunks if "List  information" in MAN_PAGE[c.start : c.end])
    plain = passage_embedding_text(doc, prose, with_title=False)
    assert plain.split("\n")[0] != doc.title  # the page header is its text, not a title line
    assert passage_embedding_text(doc, prose, with_title=True) == f"{doc.title}\n{plain}"


def test_a_long_description_continues_under_its_term() -> None:
    description = " ".join(
        f"Sentence number {n} says something about the option." for n in range(30)
    )
    text = "NAME\n       tool - does things\n\nOPTIONS\n       --verbose\n" + "\n".join(
        "              " + description[i : i + 60] for i in range(0, len(description), 60)
    )
    chunks = chunk_text(text, 400, 1)
    later = [c for c in chunks if c.start > text.index("--verbose") + 20]
    assert later
    assert all(text[c.heading.start : c.heading.end] == "--verbose" for c in later if c.heading)


def test_code_indented_under_a_line_is_not_a_description() -> None:
    text = "Example\n\n    for item in items\n        print(item)\n\nThat is all there is to it.\n"
    assert not any(kind == "TERM" for kind, _ in units(text))


def test_a_list_right_under_its_lead_in_starts_with_an_entry_like_the_rest() -> None:
    # No blank line between "Exit status:" and its first entry: that entry is an entry all the
    # same, not a short line read as a heading.
    text = (
        "DESCRIPTION\n       List the berths booked for today.\n\n"
        "   Exit status:\n       0      if OK,\n\n       1      if minor problems,\n\n"
        "       2      if serious trouble.\n"
    )
    found = units(text)
    assert ("LIST_ITEM", "0 if OK,") in found
    assert ("LIST_ITEM", "2 if serious trouble.") in found
    # ... but a deeper line after one that is not a lead-in goes on with it.
    hours = "   Opening hours are posted at the gate\n       Monday     eight until six\n"
    assert not any(kind == "TERM" for kind, _ in units(hours))


DEBUG_OPTIONS = """NAME
       find - search for files

DESCRIPTION
       Valid debug options include

              opt    Prints  diagnostic  information relating to the optimisa‐
                     tion of the expression tree; see the -O option.

              rates  Prints a summary indicating how often each predicate suc‐
                     ceeded or failed.

              Report any other issue via the form at the bug tracker:
                     <https://savannah.gnu.org/bugs/?group=findutils>
"""


def test_a_term_that_nearly_fills_its_column_is_a_term_where_its_list_sets_that_column() -> None:
    # "rates" leaves two spaces before its description, fewer than a term's gap usually is;
    # "opt" shows the column, and the description's next line keeps to it. A lead-in whose
    # second word happens to start at that column is no term.
    found = units(DEBUG_OPTIONS)
    assert ("TERM", "rates") in found
    assert (
        "PROSE",
        "Prints a summary indicating how often each predicate succeeded or failed.",
    ) in (found)
    assert not any(kind == "TERM" and text == "Report" for kind, text in found)
