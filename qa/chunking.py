"""Splitting a document's text into units (sentences, headings, list items, table rows, code) and
packing them into passages, with exact ``[start, end)`` offsets.

Pure functions over the layout ``qa.layout`` reads: a line break inside a wrapped paragraph is
not a sentence end; a blank line, a heading, a list item, a table row or a code block is a unit
boundary whatever the punctuation. ``text[unit.start:unit.end]`` is always the unit's text, so a
citation can be checked against its source.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from qa.layout import Block, Kind, blocks, contents_end, heading_text
from qa.lines import DESIGNATION, LETTER, ROMAN_NUMERAL, past_quote_mark
from qa.text import STOPWORDS, introduces

# Bump when the splitting rules, the way a format is read into text, or the words BM25 indexes
# (``qa.text.bm25_tokenize``) change: stored passages then no longer match and are rebuilt.
CHUNKER_VERSION = 90
# A sentence ends at . ! ? (plus closing quotes or brackets) before whitespace; not when the
# next word starts in lower case ("approx. three", "e.g. this") or after an abbreviation.
_SENTENCE_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s)""")
_NEXT_WORD = re.compile(r"\s+(\S)")
_FOLLOWING_WORD = re.compile(r"\s+([A-Z][a-z]+)\b")
# What an initial follows: a first name or an initial, "by", "and", a comma.
_INITIAL_BEFORE = re.compile(r"(?:\b[A-Z][a-z]+|\b[A-Z]\.|\bby|\band|,)[ \t]*\n?[ \t]*\b[A-Z]\.\Z")
_WHITESPACE = re.compile(r"\s")
_LINE = re.compile(r"[^\n]+")
_LIST_NUMBER = re.compile(r"\s*\d{1,3}")
# What numbers a block (a list item, a section's definition) when it opens it: "iv.", "1.1.",
# "Section 2.", "b.".
# Inside a wrapped paragraph a line may start with a cross-reference ending a sentence
# ("... listed in section\n9.1.2. However, ..."), so only the block's first line counts.
_BLOCK_NUMBER = re.compile(
    rf"\s*(?:\d{{1,3}}(?:\.\d{{1,3}})+|{ROMAN_NUMERAL}|{DESIGNATION}|{LETTER})"
)
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "st",
    "sir",
    "prof",
    "no",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "eg",  # as some write it ("much slower (eg. 20 to 30 times)")
    "ie",
    "viz",
    "cf",
    "fig",
    "sec",
    "cllr",
}
# Abbreviations that stand before a number ("v. 2.0", "vol. 3", "pp. 12-14", "art. 5"): a full
# stop after one does not end the sentence when a number follows.
_BEFORE_NUMBER = {"v", "ver", "vol", "p", "pp", "ch", "art", "para", "nos", "rev", "ed", "eq", "pt"}
# A passage may end at a paragraph boundary instead of mid-paragraph once it holds this share
# of max_chars: passages that follow the text's own divisions are whole thoughts.
_PARAGRAPH_BREAK_SHARE = 0.5
_STARTS = (Kind.HEADING, Kind.TERM)  # units that start a passage
# A heading this many times in a document is a label ("Note", "Example"), not a section's title.
_LABEL_REPEATS = 3


@dataclass(frozen=True)
class Span:
    """A stretch of a document's text: ``text[start:end]``."""

    start: int
    end: int


@dataclass(frozen=True)
class Unit(Span):
    """A sentence, or a heading, list item, table row or piece of code: what an answer can be
    (prose and list items) or what it is read beside."""

    kind: Kind = Kind.PROSE
    block: int = 0  # which block of the document it lies in
    entry: int = -1  # which definition-list entry it is part of (``qa.definitions``), if any
    after_gap: bool = False  # text left out (a table of contents) lies just before it
    within: int = -1  # the entry whose description holds its entry, when entries nest


@dataclass(frozen=True)
class Chunk:
    """A passage of whole units, the units it contains, and the heading of its section."""

    start: int
    end: int
    sentences: tuple[Unit, ...]
    heading: Span | None = None  # the passage's context: its section heading, or its term


def split_units(text: str, max_chars: int) -> list[Unit]:
    """The text's units in order, each trimmed and at most ``max_chars`` long. A table of
    contents is left out, as navigation is left out of a web page: no passage holds it, and the
    unit after it is marked, so that no passage spans it either."""
    units: list[Unit] = []
    gap = False
    for number, block in enumerate(blocks(text)):
        if block.kind != Kind.CODE:
            contents = contents_end(text, block.start, block.end)
            if contents > block.start:
                gap = True
                if contents >= block.end:
                    continue
                block = replace(block, start=contents)
        if block.kind in (Kind.PROSE, Kind.LIST_ITEM):
            spans = _sentences_in(text, block, max_chars)
        elif block.kind == Kind.CODE:
            spans = _code_pieces(text, block, max_chars)
        else:
            spans = _trimmed_pieces(text, block.start, block.end, max_chars)
        for span in spans:
            units.append(
                Unit(span.start, span.end, block.kind, number, block.entry, gap, block.within)
            )
            gap = False
    return units


def split_sentences(text: str, max_chars: int) -> list[Unit]:
    """Every unit of the text (the sentence-level index holds them all, each with its kind)."""
    return split_units(text, max_chars)


def _sentences_in(text: str, block: Block, max_chars: int) -> list[Span]:
    spans: list[Span] = []
    begin = block.start
    for match in _SENTENCE_END.finditer(text, block.start, block.end):
        if not _ends_sentence(text, match, block.start, block.end):
            continue
        spans += _trimmed_pieces(text, begin, match.end(), max_chars)
        begin = past_quote_mark(text, match.end(), block.end)
    return spans + _trimmed_pieces(text, begin, block.end, max_chars)


def _ends_sentence(text: str, match: re.Match[str], block_start: int, block_end: int) -> bool:
    following = _NEXT_WORD.match(text, match.end(), block_end)
    if following is None:
        return True
    if following.group(1).islower():
        return False  # "approx. three", "vs. the", "i.e. this"
    if match.group()[0] == ".":
        word = re.search(r"([\w.]+)$", text[max(0, match.start() - 6) : match.start()])
        if word and word.group(1).lower() in _ABBREVIATIONS:
            return False
        if word and following.group(1).isdigit() and word.group(1).lower() in _BEFORE_NUMBER:
            return False  # "Eclipse Public License, v. 2.0"
        if _is_initial(text, match, block_end):
            return False  # "Andrew L. Moore", "Donald E. Knuth"
        line_start = text.rfind("\n", 0, match.start()) + 1
        if _LIST_NUMBER.fullmatch(text, line_start, match.start()):
            return False  # a list number at a line start ("4.")
        if line_start <= block_start and _BLOCK_NUMBER.fullmatch(text, block_start, match.start()):
            return False  # the block's own number ("iv.", "1.1.", "Section 2.")
    return True


def _is_initial(text: str, match: re.Match[str], block_end: int) -> bool:
    """Whether the full stop ends a name's initial: a capital letter standing alone after a
    first name, another initial, "by", "and", a comma or a line's start ("Richard M. Stallman",
    "S. Lehtinen and C. Lonvick"; not "Ctrl-D.", "%A." or "written in C."), before a name,
    not before a word sentences start with ("... P or Q. The ...")."""
    if match.group() != "." or match.start() < 1 or not text[match.start() - 1].isupper():
        return False  # an initial is a capital letter
    line_start = text.rfind("\n", 0, match.start()) + 1
    alone_on_its_line = not text[line_start : match.start() - 1].strip()
    before = text[max(0, match.start() - 40) : match.end()]
    if not (alone_on_its_line or _INITIAL_BEFORE.search(before)):
        return False
    following = _FOLLOWING_WORD.match(text, match.end(), block_end)
    return following is not None and following.group(1).lower() not in STOPWORDS


def _code_pieces(text: str, block: Block, max_chars: int) -> list[Span]:
    """A code block whole, or its lines packed into pieces of at most ``max_chars``."""
    if block.end - block.start <= max_chars:
        return [Span(block.start, block.end)]
    lines = [
        piece
        for line in _LINE.finditer(text, block.start, block.end)
        for piece in _trimmed_pieces(text, line.start(), line.end(), max_chars)
    ]
    pieces: list[Span] = []
    for line in lines:
        if pieces and line.end - pieces[-1].start <= max_chars:
            pieces[-1] = Span(pieces[-1].start, line.end)
        else:
            pieces.append(line)
    return pieces


def _trimmed_pieces(text: str, start: int, end: int, max_chars: int) -> list[Span]:
    """The span ``[start, end)`` without surrounding whitespace, cut at spaces if too long."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    pieces: list[Span] = []
    while end - start > max_chars:
        spaces = list(_WHITESPACE.finditer(text, start + 1, start + max_chars + 1))
        cut = spaces[-1].start() if spaces else start
        if cut <= start:  # one word longer than max_chars: the only place left to cut
            cut = start + max_chars
        piece_end = cut
        while piece_end > start and text[piece_end - 1].isspace():
            piece_end -= 1
        pieces.append(Span(start, piece_end))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append(Span(start, end))
    return pieces


def chunk_text(text: str, max_chars: int = 700, overlap_sentences: int = 0) -> list[Chunk]:
    """Pack consecutive units into passages of at most ``max_chars`` characters.

    A heading starts a passage, and so does a definition-list term (each option of a man page
    is then a passage of its own, not shared with its neighbours, whose words it shares), except
    a term nested in the description of an entry the passage holds (an option's list of values)
    and a short line or a term right after a lead-in ("Exit status:" over "0      if OK,"), which
    go on in it; a passage that has to end inside a paragraph ends at the last paragraph
    boundary instead, if one lies past half its room; and a lead-in ("... said:", "... as
    follows.") never ends a passage but opens the next one, with what it introduces.

    Passages do not overlap by default: each sentence is in one passage, so a question finds the
    passage that holds its answer rather than a neighbour sharing a sentence with it (held out,
    the right passage came first more often; docs/quality.md, "Passages that do not overlap").
    With ``overlap_sentences`` a passage after a break repeats that many units of the one before
    (when they fit and no heading or term comes between).

    Each passage's context (read with it by the embedder) is the term of the entry it continues,
    or else the nearest heading before it.
    """
    units = split_units(text, max_chars)
    labels = _repeated_headings(text, units)
    chunks: list[Chunk] = []
    heading: Span | None = None
    terms: dict[int, Unit] = {}
    first = 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and units[last + 1].end - units[first].start <= max_chars:
            following = units[last + 1]
            if following.after_gap:
                break
            if (
                following.kind in _STARTS
                and any(u.kind not in _STARTS for u in units[first : last + 1])
                and not _leads_into(text, units[last], following)
                and not _held_by(following, units[first : last + 1])
            ):
                break
            last += 1
        last = _at_paragraph_end(units, first, last, max_chars)
        if (
            last + 1 < len(units)
            and introduces(text[units[last].start : units[last].end])
            and any(u.kind not in _STARTS for u in units[first:last])
        ):
            last -= 1  # a lead-in opens the next passage, with what it introduces
        opening = units[first]
        context: Span | None = terms.get(opening.entry) if opening.kind != Kind.TERM else None
        if context is None and heading is not None and heading.end <= opening.start:
            context = heading
        chunks.append(
            Chunk(opening.start, units[last].end, tuple(units[first : last + 1]), context)
        )
        for unit in units[first : last + 1]:
            if unit.kind == Kind.HEADING and _heading_key(text, unit) not in labels:
                heading = unit
            elif unit.kind == Kind.TERM:
                terms[unit.entry] = unit
        if last + 1 >= len(units):
            break
        next_first = last + 1
        if units[next_first].kind not in _STARTS and not units[next_first].after_gap:
            for back in range(min(overlap_sentences, last - first), 0, -1):
                if units[last + 1].end - units[last + 1 - back].start <= max_chars:
                    next_first = last + 1 - back
                    break
        first = next_first
    return chunks


def _repeated_headings(text: str, units: list[Unit]) -> set[str]:
    """The headings a document repeats (``_LABEL_REPEATS`` times or more): labels of boxes and
    parts ("Note", "Tip", "Example", "Parameters") that recur in every section. The passages
    after one are still about the section it sits in, so they keep its title as their context."""
    counts = Counter(_heading_key(text, unit) for unit in units if unit.kind == Kind.HEADING)
    return {key for key, count in counts.items() if count >= _LABEL_REPEATS}


def _heading_key(text: str, unit: Unit) -> str:
    return heading_text(text[unit.start : unit.end]).casefold()


def _leads_into(text: str, unit: Unit, following: Unit) -> bool:
    """Whether ``unit`` is a lead-in ("Exit status:", "The following suffixes can be used:")
    and ``following`` a short line read as a heading ("0      if OK,") or a definition-list
    term ("`b'    for 512-byte blocks"): a heading does not follow a lead-in, what it
    introduces does, so the first entry stays with it (the entries after it start passages of
    their own, as terms do)."""
    return (
        following.kind in _STARTS
        and unit.kind not in _STARTS
        and introduces(text[unit.start : unit.end])
    )


def _held_by(unit: Unit, passage: list[Unit]) -> bool:
    """Whether ``unit`` is the term of an entry nested in the description of an entry the
    passage holds: a list of an option's values stays in the option's passage."""
    return (
        unit.kind == Kind.TERM and unit.within >= 0 and any(u.entry == unit.within for u in passage)
    )


def _at_paragraph_end(units: list[Unit], first: int, last: int, max_chars: int) -> int:
    """``last``, or an earlier unit ending a paragraph when ``last`` would cut one in two."""
    if last + 1 >= len(units) or units[last + 1].block != units[last].block:
        return last
    for candidate in range(last - 1, first - 1, -1):
        if units[candidate].end - units[first].start < _PARAGRAPH_BREAK_SHARE * max_chars:
            break
        if units[candidate + 1].block != units[candidate].block:
            return candidate
    return last
