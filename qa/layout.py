"""Reading a text's layout: which line breaks are wraps and which end something, and what kind of
block each run of lines is (prose, heading, list item, table row, code, a definition list's
term: see ``qa.definitions``).

Hard-wrapped text (licences, RFCs, manuals, mail, man pages) breaks lines wherever the next word
did not fit; other text breaks lines only where a paragraph, heading or list item ends. The
difference is read from the text itself: in wrapped text most lines that continue are nearly as
long as the widest ones, and a line ended early (well short of that width) ends its paragraph.
Blank lines, list markers, table rows, code fences and interpreter prompts are boundaries either
way. Everything here returns offsets into the text it was given: nothing is rewritten.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, replace
from enum import IntEnum
from itertools import pairwise

from qa.columns import aligned_rows
from qa.definitions import Entry, entries
from qa.lines import (
    DESIGNATION,
    ENDS_SENTENCE,
    Line,
    capital_item_letter,
    is_blank,
    item_text_offset,
    lines_of,
    looks_like_code,
    plain_word_share,
    starts_citation,
    starts_item,
    starts_word_item,
    unquoted,
)
from qa.text import STOPWORDS, introduces, without_footnote_marks
from qa.wrap_widths import line_wrap_widths

# A line ending well short of the wrap width ends its paragraph; one this close to it was wrapped.
_WRAP_SLACK = 2
_HEADING_MAX_CHARS = 120
# Wrapped by hand (licences, mail): a line this close to the width that stops mid-sentence goes
# on into the next, though the next line's first word would have fitted.
_HAND_WRAP_SHARE = 0.8
# Words a line needs to be a sentence's start that goes on in lower case on the next line (a
# list of names, "libc6" over "libfoo", is no sentence).
_SENTENCE_WORDS = 3
# A short label, a colon, its text; or a Markdown link's definition ("[Cargo]: https://...").
_LABELLED = re.compile(r"(?:\[[^\]\n]+\]|[\w&.-]+(?: [\w&.-]+){0,2}):\s")
_FIRST_LINE_INDENT = 4  # how much deeper a paragraph's first line may start than its others
_FIRST_LINE_SHARE = 0.7  # ... when it runs this much of the wrap width at least
_COLUMN_GAP = "   "  # runs of spaces this long align a table's columns
_PLAIN_SHARE = 0.5  # of a line's words, how many must be plain words for it to be prose
# A line ending on an article, a preposition, a conjunction or a determiner stops mid-phrase
# ("... are licensed under the", "... covered by this"): neither a heading nor a sentence ends
# there, so the next line goes on.
_ENDS_MID_PHRASE = re.compile(
    r"\s(?:the|a|an|of|to|and|or|nor|for|with|from|into|under|by|than|whose|its|their|your|our"
    r"|his|her|as|like|via|where|which|that|because|but|if|this|these|those|each|every|such)$"
)

# A comma after a word, not after an option's letter ("perf stat -x,").
_CLAUSE_COMMA = re.compile(r"[^\W\d_]{2}[)\"'’]?,$")
# A sentence that ends inside a line, and words after it: a sentence begun on that line.
_SENTENCE_WITHIN = re.compile(r"(?:[^\W\d_]{2}|[)\]`])[.!?][\"')\]]?\s+[A-Z][^.!?:]*$")

_FENCE = re.compile(r"(```|~~~)")
_COMMENT_MAX_LINES = 100
# A Markdown link's definition on a line of its own ("[`sea.getAsset()`]: #seagetassetkey",
# "[Cargo]: https://... \"title\""): where a link in the text points, for renderers; readers never
# see it, so, like a comment, no unit holds it.
_LINK_DEFINITION = re.compile(
    r" {0,3}\[[^\]\n]+\]:[ \t]*\S+(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*"
)
# reStructuredText's explicit markup that readers never see: a comment (".. text", ".." alone),
# a hyperlink target (".. _Lists:", ".. _Lua: http://...") and the line of a directive that
# only tells the renderer how to show the block under it (".. code-block:: cmake", ".. note::",
# with its options under it). A directive naming what it documents (".. option:: --fresh") and
# a footnote (".. [1] text") are text.
_RST_MARKUP = re.compile(r"\.\.(?: +(?P<rest>.*))?")
_RST_DIRECTIVE = re.compile(
    r"(?:\|[^|]+\| +)?(?P<name>[\w:+.-]+) ?::(?:[ \t]+(?P<argument>\S.*))?[ \t]*"
)
_RENDERER_DIRECTIVES = frozenset(
    "code code-block sourcecode highlight literalinclude raw only include image contents "
    "toctree productionlist index testcode testoutput doctest parsed-literal math".split()
)
_RST_OPTION = re.compile(r":[\w -]+:(?:\s.*)?")  # a directive's option (":linenos:")
# Sphinx's notes of the version that added, changed or deprecated what a section documents
# (".. versionadded:: 3.20"): a fact about it, not the title of the passages after it.
_VERSION_NOTES = frozenset({"versionadded", "versionchanged", "deprecated"})
# Directives whose block is prose (docutils' admonitions, the version notes): the others lead
# into their block as an example's lead-in does (``_displays``).
_RST_PROSE_DIRECTIVES = _VERSION_NOTES | frozenset(
    "note warning tip important caution attention danger error hint admonition seealso "
    "topic sidebar only container".split()
)
_ATX_HEADING = re.compile(r"#{1,6}\s+\S")  # "## Options", Markdown's heading
_INLINE_OPENERS = "[`*_("  # Markdown's link, code and emphasis marks, and a bracket
# A reStructuredText role before the text it marks (":func:`exec` with them ...").
_RST_ROLE = re.compile(r":[\w.+-]+(?::[\w.+-]+)*:(?=`)")
# Words that open a definition's text when its term stands on the line above, as licences and
# statutes set them ('1.1. "Contributor"' over "means each individual ...").
_DEFINING = r"(?:means|shall\s+mean|refers\s+to|has\s+the\s+meaning)"
_DEFINING_WORDS = re.compile(_DEFINING + r"\b")
_ENDS_DEFINING = re.compile(r"\b" + _DEFINING + r"\s*\Z")  # '"X" means' over its items
# "xsltlocale - Locale handling": a name, a dash, what it is (a line of a list of modules).
_NAMED_LINE = re.compile(r"[\w./]\S*\s+[-–—]\s+\S")
_MIN_TILDE_RULE = 4  # tildes under a title: fewer open a Markdown fence
_TILDE_RULE_SHARE = 0.8  # ... and the rule runs most of the title's width
# A line naming a part of the text and nothing else ("CHAPTER I.", "Section 3.") is its heading.
_DESIGNATION_LINE = re.compile(rf"{DESIGNATION}\.?")
_SECTION_TITLE_WORDS = 10  # at most, in a numbered section's title ("4. Combined Works.")
_SECTION_NUMBER = re.compile(r"\d{1,3}\.[ \t]+(?P<title>\S[^\n]*)")
_UNDERLINE = re.compile(r"(?:=+|-+|~+|\*+|\^+)")
# "## Title" (Markdown) or "== Title" (AsciiDoc; its "= Title" reads as a label anyway).
_MARKDOWN_HEADING = re.compile(r"(?:#{1,6}|={2,6})\s+\S")
# A price by the period: "£15 / month", "$9.99 per year", "€40 a night".
_PRICE_PER_PERIOD = re.compile(
    r"[£$€¥]\s?\d[\d,.]*\s*(?:/|per\b|an?\b)\s*(?:month|year|week|day|night|hour|mo|yr)\b",
    re.IGNORECASE,
)
# A copyright line: "Copyright (C) 2007 Free Software Foundation", "© 2019 Ofsted".
_COPYRIGHT_LINE = re.compile(r"\s*(?:copyright\b\s*(?:\(c\)|©)?|©|\(c\))\s*\d{4}", re.IGNORECASE)
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_EMPTY_MARKDOWN_LINK = re.compile(r"\[\s*\]\([^)\s]*\)")
_HEADING_MARKS = re.compile(r"\A(?:#+[ \t]*|={1,6}[ \t]+)")
# A line that is mostly plain words reads as prose, whatever symbols the rest of it holds.
# A word as prose is written: it may close a bracket or a quote ("... if no suffix is" /
# "used)"), then end a clause.
_PLAIN_WORD = re.compile(r"""[A-Za-z][a-z'’-]*[)\]"”’]?[,.;:!?]?""")
# Prose cites by number as well: "BCPs 78 [RFC5378] and 79 [RFC3979] do" goes on as prose.
_CITING_TOKEN = re.compile(r"\d[\d.,]*[,.;:]?|\[[A-Za-z]*\d[\w.-]*\][,.;:]?")
_WORDY_SHARE = 0.6
# A full sentence inside a block, and prose after it: three words or more, a word ending in
# lower-case letters and a full stop (so not "1. Introduction" or "Dr. Who"), then a
# capitalised word and a lower-case one (so not a title's "Tutorial. Release 3.11").
_INNER_SENTENCE_END = re.compile(
    r"""(?:\S+\s+){2,}\S*[a-z]{2}[.!?]["'”’)\]]*\s+[A-Z][a-z]*\s+[a-z]"""
)
# A table of contents entry's dot leader and page number ("Case changing . . . . . . 26").
_LEADER = re.compile(r"(?:[.·][ \t]?){6,}[ \t]*(?:\d+|[ivxlc]+)\b")
_LEADER_SHARE = 0.3  # of a stretch of entries, how much at least is leaders
_CONTENTS_TAIL_CHARS = 60  # a last entry without a leader ("5 Miscellaneous commands 25")


class Kind(IntEnum):
    """What a unit of text is; stored with each sentence in the index (so: small integers)."""

    PROSE = 0
    HEADING = 1  # also bylines, datelines and other short labels without punctuation
    LIST_ITEM = 2
    TABLE_ROW = 3
    CODE = 4
    TERM = 5  # a definition list's term (an option's flags): its description's heading


@dataclass(frozen=True)
class Block:
    """Lines read as one unit of layout: ``text[start:end]``, trimmed, of one kind."""

    start: int
    end: int
    kind: Kind
    entry: int = -1  # the definition-list entry it is part of (its term or description)
    within: int = -1  # the entry whose description holds that entry, when entries nest


def _first_word_length(text: str, line: Line) -> int:
    body = line.text(text).strip()
    return len(body.split(None, 1)[0]) if body else 0


def blocks(text: str) -> list[Block]:
    """The text's blocks in order: paragraphs (wraps joined), headings, list items, table rows,
    code blocks and definition-list terms, each with its kind; a block inside a definition-list
    entry carries the entry's number (``qa.definitions``)."""
    lines = unquoted(text, lines_of(text))
    widths = line_wrap_widths(text, lines)
    table_rows = aligned_rows(text, lines)
    capital_items = _lettered_in_order(text, lines)
    joined = _headed_as_markdown(text, lines) or _marked_up_as_rst(text, lines)
    listed = entries(text, lines)
    owner = [-1] * len(lines)  # the innermost entry each line belongs to
    for number, entry in enumerate(listed):
        owner[entry.term : entry.last + 1] = [number] * (entry.last + 1 - entry.term)
    terms = {entry.term: number for number, entry in enumerate(listed)}
    within = _enclosing(listed)
    found: list[Block] = []
    group: list[Line] = []
    fenced = False
    current = -1  # the entry of the lines in ``group``

    def close(kind: Kind | None = None) -> None:
        if group:
            found_kind = kind or _kind(text, group, table_rows, capital_items)
            start = group[0].start
            if current >= 0 and kind is None:
                entry = listed[current]
                if entry.bullet and start == entry.body_start:
                    found_kind = Kind.LIST_ITEM  # "o      text", as groff marks an item
                    start = lines[entry.term].start
                elif found_kind == Kind.HEADING:
                    found_kind = Kind.PROSE  # a description needs no full stop to be one
            holder = within[current] if current >= 0 else -1
            found.append(Block(start, group[-1].end, found_kind, current, holder))
            group.clear()

    title_end = -1  # the rule under a title ruled over and under, while reading that title
    comment_end = -1  # the last line of an HTML comment being skipped
    markup_end = -1  # the last line of reStructuredText markup being skipped
    # Where skipped directives stood, and the indent of each that leads into its block.
    directives: list[tuple[int, int | None]] = []
    closing = [number for number, line in enumerate(lines) if "-->" in line.text(text)]
    for index, line in enumerate(lines):
        body = line.text(text)
        if index <= title_end:
            group.append(line)
            if index == title_end:
                close(Kind.HEADING)
            continue
        if fenced:
            group.append(line)
            if _FENCE.match(body.strip()):
                fenced = False
                close(Kind.CODE)
            continue
        if index <= comment_end:
            continue
        if body.lstrip().startswith("<!--"):
            comment_end = _comment_end(text, lines, index, closing)
            if comment_end >= index:
                close()
                continue
        if index <= markup_end:
            continue
        markup_end, directive = _hidden_markup(text, lines, index)
        if markup_end >= index:
            close()
            if directive is not None:
                directives.append((line.start, line.indent if directive else None))
            continue
        if is_blank(line) or _LINK_DEFINITION.fullmatch(body) or body.strip() == ".":
            close()  # a full stop alone is a blank line, as Debian's copyright files write one
            continue
        if _FENCE.match(body.strip()) and not _rules_a_title(text, group, body):
            close()
            current = owner[index]
            group.append(line)
            fenced = True
            continue
        if _ruled_over_and_under(text, lines, index):
            close()
            current = owner[index]
            group.append(line)
            title_end = index + 2
            continue
        if index in terms:
            close()
            entry = listed[terms[index]]
            current = terms[index]
            if not entry.bullet:
                found.append(Block(line.start, entry.term_end, Kind.TERM, current, within[current]))
            if entry.body_start >= line.end:
                continue
            line = Line(entry.body_start, line.end, entry.body_indent)  # an inline description
        elif group and (
            owner[index] != current
            or not _continues(text, group, line, widths[index], table_rows, capital_items, joined)
        ):
            close()
        current = owner[index]
        group.append(line)
        if _UNDERLINE.fullmatch(body.strip()) and len(group) == 2:  # a Setext heading's rule
            close(Kind.HEADING)
        elif index + 1 == len(lines):
            close()
    close(Kind.CODE if fenced else None)
    indents = {line.start: line.indent for line in lines}
    return _displays(text, _numbered_headings(text, found, indents), indents, directives)


def _lettered_in_order(text: str, lines: list[Line]) -> frozenset[int]:
    """Where the lines stand that open items lettered in capitals in order ("A. Use in the
    Title Page ...", "B. List on ...", as the GNU Free Documentation License letters them): a
    run from "A." at one indent, each next letter after the one before. A capital and a full
    stop also open a line with a name's initial ("B. Harris, Improved Arcfour Modes ..."),
    which no run from "A." holds."""
    found: set[int] = set()
    runs: dict[int, tuple[str, list[int]]] = {}  # indent -> last letter, starts of the run
    for line in lines:
        letter = capital_item_letter(line.text(text).strip())
        if letter is None:
            continue
        last, starts = runs.get(line.indent, ("", []))
        if letter == "A":
            runs[line.indent] = ("A", [line.start])
        elif last and ord(letter) == ord(last) + 1:
            starts.append(line.start)
            runs[line.indent] = (letter, starts)
            found.update(starts)
        else:
            runs.pop(line.indent, None)
    return frozenset(found)


def _comment_end(text: str, lines: list[Line], first: int, closing: list[int]) -> int:
    """The last line of the HTML comment that opens ``lines[first]`` (-1 if it is none);
    ``closing`` lists the lines holding "-->", in order.
    Markdown is written with comments its readers never see ("<!-- YAML added: v0.5.8 -->",
    "<!-- TOC -->"): no unit holds them, so their lines are neither headings nor answers. A
    comment ends on the line that ends with "-->"; one that closes mid-line, with text after
    it, or that does not close within ``_COMMENT_MAX_LINES``, is read as text."""
    for position in range(bisect_left(closing, first), len(closing)):
        index = closing[position]
        if index >= first + _COMMENT_MAX_LINES:
            return -1
        body = lines[index].text(text).rstrip()
        close = body.find("-->", 4 if index == first else 0)
        if close >= 0:
            return index if close + 3 == len(body) else -1
    return -1


def _hidden_markup(text: str, lines: list[Line], first: int) -> tuple[int, bool | None]:
    """The last line of the reStructuredText markup that ``lines[first]`` opens when readers
    never see it (``_RST_MARKUP``; -1 if it opens none) and, for a directive, whether it leads
    into the block under it as an example's lead-in does (a code block's; None: no directive).

    A comment or a target goes with the lines indented under it up to the next blank line (its
    text, its address); a directive goes with its options, and the block under them is read."""
    rest = _rst_markup(lines[first].text(text))
    if rest is None or rest.startswith("["):
        return -1, None
    directive = _RST_DIRECTIVE.fullmatch(rest)
    name = directive.group("name") if directive else ""
    if directive is not None and directive.group("argument") and name not in _RENDERER_DIRECTIVES:
        return -1, None
    last = first
    indent = lines[first].indent
    for line in lines[first + 1 :]:
        if is_blank(line) or line.indent <= indent:
            break
        if directive is not None and not _RST_OPTION.fullmatch(line.text(text)):
            break
        last += 1
    return last, None if directive is None else name not in _RST_PROSE_DIRECTIVES


def _rst_markup(line: str) -> str | None:
    """What follows the ".." that opens a line of reStructuredText's explicit markup ("" for
    ".." alone); None if the line opens none."""
    markup = _RST_MARKUP.fullmatch(line)
    return None if markup is None else markup.group("rest") or ""


def _rst_directive(line: str) -> re.Match[str] | None:
    """The directive a line opens (".. code-block:: cmake"): its ``name`` and ``argument``."""
    rest = _rst_markup(line)
    return None if rest is None else _RST_DIRECTIVE.fullmatch(rest)


def _rules_a_title(text: str, group: list[Line], rule: str) -> bool:
    """Whether a line of tildes is the rule under the one-line title above it, as plain-text
    READMEs underline ("Release notes" over "~~~~~~~~~~~~~"), not a Markdown code fence: the
    rule is about as long as the title."""
    stripped = rule.strip()
    if len(group) != 1 or set(stripped) != {"~"}:
        return False
    return len(stripped) >= max(_MIN_TILDE_RULE, _TILDE_RULE_SHARE * group[0].width)


def _enclosing(listed: list[Entry]) -> list[int]:
    """For each entry, the innermost entry whose description holds its term (-1 for none): an
    option's list of values ("`b'  for 512-byte blocks") inside the option's description."""
    holders: list[int] = []
    for number, entry in enumerate(listed):
        holder = number - 1
        while holder >= 0 and not listed[holder].term < entry.term <= listed[holder].last:
            holder = holders[holder]  # past a sibling to what holds it, if anything
        holders.append(holder)
    return holders


def _ruled_over_and_under(text: str, lines: list[Line], index: int) -> bool:
    """Whether ``lines[index]`` is a rule drawn over a title, with the same rule under it, as
    reStructuredText marks a document's title ("=====" / "Harbour Rules" / "=====")."""
    if index + 2 >= len(lines):
        return False
    rule, title = lines[index].text(text), lines[index + 1].text(text)
    return (
        len(rule) >= 3
        and bool(_UNDERLINE.fullmatch(rule))
        and lines[index + 2].text(text) == rule
        and bool(title)
        and _is_label(title)
    )


def _numbered_headings(text: str, found: list[Block], indents: dict[int, int]) -> list[Block]:
    """``found`` with each numbered section title read as a heading, not a list item: a line
    alone at the left margin ("3.  Charges", a label after its number) with a blank line under
    it and prose indented under that, as RFCs and other plain-text documents number their
    sections. An item of a list is followed by text at its own depth, or is indented itself (a
    comment thread's "  2. Lisa March 30, 2016 at 11:34 am" over the comment)."""
    for index, (block, after) in enumerate(pairwise(found)):
        if block.kind != Kind.LIST_ITEM or after.kind not in (Kind.PROSE, Kind.LIST_ITEM):
            continue
        title = _SECTION_NUMBER.fullmatch(text[block.start : block.end])
        if not title or text.count("\n", block.end, after.start) < 2:
            continue
        under = after.kind == Kind.PROSE or not _numbered(text, after)  # text, or "a." items
        indented_under = indents.get(block.start) == 0 and indents.get(after.start, 0) > 0
        if (_is_label(title["title"]) and indented_under and after.kind == Kind.PROSE) or (
            _is_section_title(title["title"]) and under and not _follows_an_item(text, found, index)
        ):
            found[index] = replace(block, kind=Kind.HEADING)
    return found


def _numbered(text: str, block: Block) -> bool:
    """Whether a block opens with a number and a full stop ("2. ..."), as a list's items and
    sections' titles do."""
    return _SECTION_NUMBER.match(text, block.start, block.end) is not None


def _is_section_title(title: str) -> bool:
    """Whether a numbered line's words title a section, as licences title theirs ("Conveying
    Verbatim Copies.", "GRANT OF RIGHTS"): a few words, each but the small ones ("of", "from")
    capitalised, a full stop at most after them, and no marks of a statement or a byline
    (",", ":", ";", "#": "2. Lisa March 30, 2016 at 11:34 am #" heads a comment)."""
    if any(mark in title for mark in ",:;#"):
        return False
    words = title.rstrip(".").split()
    named = [w for w in words if w.lower() not in STOPWORDS and any(c.isalpha() for c in w)]
    return (
        0 < len(words) <= _SECTION_TITLE_WORDS
        and bool(named)
        and all(w[:1].isupper() for w in named)
        and not ENDS_SENTENCE.search(title.rstrip("."))
    )


def _follows_an_item(text: str, found: list[Block], index: int) -> bool:
    """Whether the block before ``found[index]`` is a numbered item as short as a title:
    numbered lines one after another are a list's items; a section's title follows the section
    before, its text, the items of another kind ("a)", "-") in it, or a numbered paragraph
    ("3. Public License Fallback. Should any part ...")."""
    if index == 0 or found[index - 1].kind != Kind.LIST_ITEM:
        return False
    before = _SECTION_NUMBER.fullmatch(text, found[index - 1].start, found[index - 1].end)
    return before is not None and _is_section_title(before["title"])


def _displays(
    text: str,
    found: list[Block],
    indents: dict[int, int],
    directives: list[tuple[int, int | None]],
) -> list[Block]:
    """``found`` with the lines set out under a lead-in read as code, not as headings: "For
    example:" over an indented "rsync -ai foo/ bar/" or "Provides: mail-transport-agent" shows
    examples. Short and without a full stop, each looked like a title, and as the heading of
    the passages after it, stood in for their section's. A reStructuredText directive that no
    unit holds leads in the same way (``directives``: its offset, and its indent if it leads
    into its block; a note's directive ends a display)."""
    lead_indent: int | None = None  # the indent of the lead-in the current display follows
    pending = iter(directives)
    directive = next(pending, None)
    for index, block in enumerate(found):
        indent = indents.get(block.start, 0)
        while directive is not None and directive[0] < block.start:
            lead_indent = directive[1]
            directive = next(pending, None)
        if block.kind == Kind.HEADING and lead_indent is not None and indent > lead_indent:
            found[index] = replace(block, kind=Kind.CODE)
        elif block.kind in (Kind.PROSE, Kind.LIST_ITEM) and introduces(
            text[block.start : block.end]
        ):
            lead_indent = indent
        elif block.kind != Kind.CODE or indent <= (lead_indent or 0):
            lead_indent = None
    return found


def _continues(
    text: str,
    group: list[Line],
    line: Line,
    width: int | None,
    table_rows: frozenset[int],
    capital_items: frozenset[int] = frozenset(),
    joined: bool = False,
) -> bool:
    """Whether ``line`` belongs to the block of ``group`` (a wrap or a block of like lines).
    In a text whose markup joins a paragraph's lines (``joined``: Markdown, reStructuredText),
    a line of prose that ends no sentence goes on into the next line."""
    previous = group[-1]
    before, body = previous.text(text), line.text(text).strip()
    if _UNDERLINE.fullmatch(body) and len(group) == 1:
        return True  # the rule under a Setext heading
    if _is_table_row(body) or _is_table_row(before.strip()):
        return False  # each row a unit
    if line.start in table_rows or previous.start in table_rows:
        return False  # ... in a table set out with spaces too
    if _NAMED_LINE.match(before.strip()) and _NAMED_LINE.match(body):
        return False  # two lines that each name something and say what it is: two entries
    if _wraps_into(text, group, line, width):
        return True  # prose wrapped onto a line dense with symbols ("with ``/<number>'' ...")
    code_before, code_now = looks_like_code(before), looks_like_code(body)
    if code_before or code_now:
        return code_before and code_now and len(group) < 200  # a code block runs on
    if _MARKDOWN_HEADING.match(body):
        return False
    if _DEFINING_WORDS.match(body) and not ENDS_SENTENCE.search(before):
        return True  # a term over the words that define it: '1.1. "Contributor"' over "means ..."
    opens_item = starts_item(body) or line.start in capital_items
    if opens_item and not _ends_on_a_numeral(before, body):
        return False
    if _under_item_text(text, group, line):
        return True  # the item's next sentence, at the column its text started in
    in_column = _in_column(text, group, line, width)
    if before.endswith(",") and body[:1].islower() and in_column:
        return True  # a sentence broken by hand after its clauses, as verse is
    if joined and in_column and _prose_goes_on(before.strip(), body):
        return True  # "The JavaScript `string` type is described in" over "[Section 6.1.4][] ..."
    if in_column and _clause_goes_on(before.strip(), body):
        return True  # "... in the blob. Otherwise" over "Node.js operates as it normally does."
    if in_column and len(group) >= 2 and _name_goes_on(before.strip(), body):
        return True  # "... the GNU Lesser General Public" over "License as published by ..."
    # Under an item's first line, deeper than its mark though not at its text's column, as a
    # hand-indented item's lines may stand ("    3. Grant ... conditions of" over "      this",
    # "a) ... or otherwise make them" over "    Freely Available, ..."): a sentence left open
    # on a word in lower case goes on (an item's title, "1. Free Redistribution", ends none).
    in_item = starts_item(group[0].text(text).strip())
    under_item = in_item and line.indent >= group[0].indent
    mid_phrase = _opening_letter(body).isalnum() and (
        (in_column and _ENDS_MID_PHRASE.search(before) is not None)
        or (under_item and before.split()[-1][:1].islower() and not ENDS_SENTENCE.search(before))
    )
    if width is None:  # not known to be wrapped: a break ends the line's content unless the
        # line stops mid-phrase, or mid-sentence with the next going on in lower case (a short
        # wrapped text) and the two not laid out as a table's rows
        goes_on = _opening_letter(body).islower() or starts_citation(body)  # "[2] and ..." too
        ends = ENDS_SENTENCE.search(before)
        return mid_phrase or (not ends and goes_on and not _alike(before.strip(), body))
    if line.indent > previous.indent + 1 and not in_item:
        return False  # an indented block starts (a quotation, an example, an option's text)
    if line.indent > previous.indent and ENDS_SENTENCE.search(before) and not in_item:
        return False  # a paragraph whose first line is indented starts
    if (
        in_column
        and previous.width >= _HAND_WRAP_SHARE * width
        and not ENDS_SENTENCE.search(before)
        and body[:1].isalpha()
    ):
        return True  # wrapped by hand, not where the next word stopped fitting
    if mid_phrase:
        return True
    if in_column and _sentence_goes_on(before.strip(), body):
        return True  # a sentence broken where its writer chose ("We must have documentation")
    return previous.width + 1 + _first_word_length(text, line) > width - _WRAP_SLACK


def _in_column(text: str, group: list[Line], line: Line, width: int | None) -> bool:
    """Whether ``line`` starts where the paragraph's lines do: at the indent of the line before,
    or, in wrapped text, up to ``_FIRST_LINE_INDENT`` columns left of a first line of prose
    that runs most of the width (a paragraph whose first line is indented, as books and the GNU
    licences set them, or a list item whose wrapped lines start left of its marker, as BSD
    licences set "  * Redistributions ..."; a short line of code over a less indented one ends
    a nested block)."""
    previous = group[-1]
    if line.indent == previous.indent:
        return True
    before = previous.text(text)
    return (
        len(group) == 1
        and width is not None
        and previous.width >= _FIRST_LINE_SHARE * width
        and 0 < previous.indent - line.indent <= _FIRST_LINE_INDENT
        and len(before.split()) >= _SENTENCE_WORDS
        and plain_word_share(before) >= _PLAIN_SHARE
    )


def _sentence_goes_on(before: str, body: str) -> bool:
    """Whether ``body`` goes on with the sentence ``before`` started, wherever the line broke:
    ``before`` is unfinished prose (``_unfinished_prose``) and ``body`` goes on in lower case.
    Two lines that start alike ("make install ..." over "make clean ...") are lines of a list,
    not a sentence's halves."""
    if not _opening_letter(body).islower() or not _unfinished_prose(before, body):
        return False
    return before.split()[0] != body.split()[0] and plain_word_share(body) >= _PLAIN_SHARE


def _unfinished_prose(before: str, body: str) -> bool:
    """Whether ``before`` is prose (three words or more, mostly plain ones) that ends no
    sentence, and ``body`` is not laid out alike with it, as a table's rows or labelled fields
    are (``_alike``): what each way of going on into the next line asks first."""
    if ENDS_SENTENCE.search(before) or _alike(before, body):
        return False
    return len(before.split()) >= _SENTENCE_WORDS and plain_word_share(before) >= _PLAIN_SHARE


def _headed_as_markdown(text: str, lines: list[Line]) -> bool:
    """Whether the text marks its headings as Markdown does ("## Options"): two such lines,
    each with a blank line or the text's edge on either side (a shell comment in an example
    sits among commands), or one opening the text."""
    marked = [
        index
        for index, line in enumerate(lines)
        if line.indent == 0 and _ATX_HEADING.match(line.text(text))
    ]
    if marked and all(is_blank(line) for line in lines[: marked[0]]):
        return True

    def apart(index: int) -> bool:
        return all(
            not 0 <= near < len(lines) or is_blank(lines[near]) for near in (index - 1, index + 1)
        )

    return sum(apart(index) for index in marked) >= 2


def _marked_up_as_rst(text: str, lines: list[Line]) -> bool:
    """Whether the text is reStructuredText: two lines of its explicit markup at least, a
    directive (".. note::") or a hyperlink target (".. _Lists:")."""
    marked = 0
    for line in lines:
        rest = _rst_markup(line.text(text))
        if rest is None:
            continue
        if (rest.startswith("_") and ":" in rest) or _RST_DIRECTIVE.fullmatch(rest):
            marked += 1
            if marked >= 2:
                return True
    return False


def _prose_goes_on(before: str, body: str) -> bool:
    """Whether, in a text whose markup joins a paragraph's lines, ``body`` goes on the paragraph
    of ``before``: unfinished prose (``_unfinished_prose``) and a next line that opens with a
    word."""
    return _opening_letter(body).isalnum() and _unfinished_prose(before, body)


def _clause_goes_on(before: str, body: str) -> bool:
    """Whether ``body`` goes on with a sentence ``before`` started though it opens with a capital
    (a name: "Node.js operates ..."): ``before`` is unfinished prose that stops after a word and
    a comma, or after the first words of a sentence that began within it ("... in the blob.
    Otherwise"). Writers who break lines a clause to a line break before a name as before any
    other word."""
    if not _opening_letter(body).isupper() or not _unfinished_prose(before, body):
        return False
    if not (_CLAUSE_COMMA.search(before) or _SENTENCE_WITHIN.search(before)):
        return False
    return plain_word_share(body) >= _PLAIN_SHARE


def _name_goes_on(before: str, body: str) -> bool:
    """Whether ``body`` goes on with a name the paragraph's line ``before`` broke: ``before`` is
    unfinished prose ending on a capitalised word and ``body`` opens with one ("... the GNU
    Lesser General Public" over "License as published by the Free Software Foundation"), a
    paragraph wrapped narrower than the text around it."""
    if not _unfinished_prose(before, body) or plain_word_share(body) < _PLAIN_SHARE:
        return False
    last, first = before.split()[-1], body.split()[0]
    return last[:1].isupper() and last.isalpha() and first[:1].isupper() and first.isalpha()


def _under_item_text(text: str, group: list[Line], line: Line) -> bool:
    """Whether ``line`` starts at the column where the text of the list item ``group`` opens
    with started ("* `node.async_hooks`: Enables ... data." over "  The events have ..."): in
    Markdown, as in most lists set in plain text, a line there goes on the item, whatever the
    line before ended with."""
    first = group[0]
    offset = item_text_offset(first.text(text).strip())
    return offset > 0 and line.indent == first.indent + offset


def _opening_letter(body: str) -> str:
    """The first character of a line after the inline markup that may open it: a Markdown link
    or code span ("[`process.stdin`][] will ..."), a bracket ("(i.e. the host ...") or a
    reStructuredText role (":func:`exec` with ...") goes on a sentence as its words would."""
    role = _RST_ROLE.match(body)
    return body[role.end() if role else 0 :].lstrip(_INLINE_OPENERS)[:1]


def _alike(before: str, body: str) -> bool:
    """Whether two lines are laid out as the rows of a table or of labelled fields are: columns
    aligned with runs of spaces, or a short label and a colon on each ("method: ..." over
    "crc: ...")."""
    if _COLUMN_GAP in before or _COLUMN_GAP in body:
        return True
    return bool(_LABELLED.match(before) and _LABELLED.match(body))


def _ends_on_a_numeral(before: str, body: str) -> bool:
    """Whether a line that opens with a Roman numeral or a letter ("vi. The next ...", "a. The
    next ...") goes on with the sentence of the line before, which stops mid-sentence ("... edit
    it with"): the numeral is that sentence's last word, not an item's number. An item follows
    a line that ends a sentence, a clause or a lead-in."""
    return starts_word_item(body) and not before.rstrip().endswith((":", ";", ",", ".", "!", "?"))


def _wraps_into(text: str, group: list[Line], line: Line, width: int | None) -> bool:
    """Whether ``line`` goes on with the wrapped prose of ``group`` though one of the two lines
    is dense with symbols: the block began as prose, the line before stops mid-sentence where
    the wrap width left no room for the next word, and ``line`` starts in lower case at the
    same indent. A code line after prose starts where the prose line ended short or indents."""
    previous, body = group[-1], line.text(text).strip()
    if (
        width is None
        or not body[:1].islower()
        or line.indent != previous.indent
        or ENDS_SENTENCE.search(previous.text(text))
        or previous.width + 1 + _first_word_length(text, line) <= width - _WRAP_SLACK
    ):
        return False
    tokens = body.split()
    plain = sum(bool(_PLAIN_WORD.fullmatch(t) or _CITING_TOKEN.fullmatch(t)) for t in tokens)
    return plain >= _WORDY_SHARE * len(tokens) and not looks_like_code(group[0].text(text))


def _is_table_row(body: str) -> bool:
    """Cells separated by bars (Markdown, our HTML and DOCX tables) or by tabs."""
    bars = body.startswith("|") and body.endswith("|") and len(body) > 2
    return bars or body.count(" | ") >= 2 or body.count("\t") >= 2


def _kind(
    text: str,
    group: list[Line],
    table_rows: frozenset[int],
    capital_items: frozenset[int] = frozenset(),
) -> Kind:
    first = group[0].text(text).strip()
    directive = _rst_directive(first)
    if directive is not None and directive.group("name") in _VERSION_NOTES:
        return Kind.PROSE
    if _is_table_row(first) or group[0].start in table_rows:
        return Kind.TABLE_ROW
    if len(group) == 1 and _MARKDOWN_HEADING.match(first):
        return Kind.HEADING  # "# Title" alone; inside a run of code lines it is a comment
    if all(looks_like_code(line.text(text)) for line in group):
        return Kind.CODE
    if _only_images(text[group[0].start : group[-1].end]):
        return Kind.CODE  # a README's badges: markup, never an answer
    if starts_item(first) or group[0].start in capital_items:
        return Kind.LIST_ITEM
    if len(group) == 1 and _DESIGNATION_LINE.fullmatch(first):
        return Kind.HEADING
    if _is_label(text[group[0].start : group[-1].end]):
        return Kind.HEADING
    return Kind.PROSE


def _only_images(block: str) -> bool:
    """Whether a block is nothing but Markdown images, linked or not (a README's row of badges:
    "[![Build Status](https://.../badge.svg)](https://...)")."""
    without = _MARKDOWN_IMAGE.sub("", block)
    if without == block:
        return False
    return not _EMPTY_MARKDOWN_LINK.sub("", without).strip()


def contents_end(text: str, start: int, end: int) -> int:
    """Where a table of contents at the start of the block ``text[start:end]`` ends (``start``
    if the block does not open with one). A table of contents (entries with dot leaders and page
    numbers) is page furniture, like a web page's navigation: it names every section, so it
    matches questions about all of them, and it answers none. A PDF's extractor may run the
    entries and the prose after them into one paragraph; the prose is kept."""
    leaders = list(_LEADER.finditer(text, start, end))
    if not leaders:
        return start
    stop = leaders[-1].end()
    covered = sum(m.end() - m.start() for m in leaders)
    if covered < _LEADER_SHARE * (stop - start):
        return start
    tail = text[stop:end].strip()
    if len(tail) <= _CONTENTS_TAIL_CHARS and not ENDS_SENTENCE.search(tail):
        return end
    return stop


def heading_text(heading: str) -> str:
    """A heading's words without its Markdown or AsciiDoc marks ("# Title #", "== Title"),
    Sphinx anchor (¶) or the rules drawn under (and over) it in plain text ("Title\n*****")."""
    lines = heading.strip().splitlines()
    words = [line for line in lines if not _UNDERLINE.fullmatch(line.strip())] or lines
    return _HEADING_MARKS.sub("", "\n".join(words).strip()).rstrip("#¶").strip()


def _is_clause(block: str) -> bool:
    """A clause of prose broken off after its comma ("Doctor and hospital visits declined,"):
    mostly lower-case words, where an address line or a title is mostly capitalised."""
    words = block.split()
    return block.endswith(",") and sum(w[:1].islower() for w in words) * 2 > len(words)


def _is_label(block: str) -> bool:
    """A heading, byline, dateline or caption: short, ending unlike a sentence (a title wrapped
    onto a second line is still one), not a clause of prose, holding no full sentence ("The
    report doesn't say what is done well. It seems to lack content" is a remark left without its
    full stop), no price by the period ("From £15 / month" states what something costs) and no
    copyright line ("Copyright 1991 by the Massachusetts Institute of Technology" says who holds
    the rights: the answer to "who owns ...?")."""
    return (
        len(block) <= _HEADING_MAX_CHARS
        and not ENDS_SENTENCE.search(without_footnote_marks(block.rstrip("¶#")))
        and not introduces(block)
        and not _ENDS_DEFINING.search(block)
        and not _is_clause(block)
        and not _INNER_SENTENCE_END.search(block)
        and not _PRICE_PER_PERIOD.search(block)
        and not _COPYRIGHT_LINE.match(block)
    )
