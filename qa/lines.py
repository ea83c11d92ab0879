"""A text's lines with their offsets, and what one line looks like on its own (code, a list
item's start): the primitives ``qa.layout`` and ``qa.definitions`` read blocks from."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A Roman numeral numbering a list ("iv.", "XII."); not "v.", "x." or "I." alone, which a wrapped
# line may start with ("v. Jones", "I. Jackson").
ROMAN_NUMERAL = (
    r"(?:i|ii|iii|iv|vi|vii|viii|ix|xi|xii|xiii|xiv|xv|xvi"
    r"|II|III|IV|VI|VII|VIII|IX|XI|XII|XIII|XIV|XV|XVI)"
)
# A part of a text named by a word and its number: "Section 1", "ARTICLE IV", "Rule 3.2", "§ 12".
DESIGNATION = r"(?:[A-Z][A-Za-z]+[ \t]+|§{1,2}[ \t]*)(?:\d{1,3}(?:\.\d{1,3})*|[IVXLC]{1,6})"
# A letter numbering an item ("a.", "B."); not "v." between parties, nor "I.", "V." and "X.",
# Roman numerals as often as letters.
LETTER = r"[a-uw-zA-HJ-UWYZ]"
# A capital letter numbering an item ("B. List on the Title Page ..."), which may as well be a
# name's initial ("B. Harris, Improved Arcfour Modes ..."): the layout reads it as an item only
# in a run lettered in order from "A." (``qa.layout``).
_CAPITAL_ITEM = re.compile(r"(?P<letter>[A-Z])\.\s+\S")
# An item's mark that is also a word a sentence may end on: "vi.", "a." ("... as in a."), or
# a name's initial ("... written by\nJ. Smith").
_WORD_ITEM = re.compile(rf"(?:{ROMAN_NUMERAL}|{LETTER})\.\s+\S")
_NOTE_NUMBER = r"(?:\[\d{1,3}\]|\(\d{1,3}\))"  # "[3]" or "(3)"
_CITATION = re.compile(rf"{_NOTE_NUMBER}\s+[a-z]")
# A list marker: a bullet (the letter "o" one or two spaces before the text too, as the zlib
# and FreeType licences set them; groff's "o" before a wide gap is read by
# ``qa.definitions``), "1." or "1)", "a)" or "(a)", "a." (as licences letter their clauses; not
# before a number, "p. 12"; where the line before stops mid-sentence, the layout reads the
# letter as that sentence's last word), "(iv)" or "iv.", a footnote's, a reference's or a
# subsection's "[3]" or "(3)" (not before a word in lower case: "[2] and ..." is a citation a
# wrapped sentence goes on with). Capitals ("B.") are read by ``qa.layout``.
_BULLET = re.compile(
    r"(?:[-*+•·‣◦–—]|o(?=[ \t]{1,2}\S)|\d{1,3}[.)]|\(?[a-zA-Z]\)|\([ivxIVX]{1,4}\)"
    rf"|[a-uw-z]\.(?!\s+\d)|{ROMAN_NUMERAL}\.|{_NOTE_NUMBER}(?!\s+[a-z]))\s+\S"
)
PROMPT = re.compile(r"(?:>>>|\.\.\.|\$|#|%|In \[\d+\]:)(?:\s|$)")
ENDS_SENTENCE = re.compile(r"""[.!?…:;]["'”’)\]]*$""")
_CODE_START = re.compile(
    r"(?:def|class|import|from|return|if|elif|else|for|while|try|except|with|print|var|let|"
    r"const|function|public|private|static|void|int|#include|@)\b"
)
_CODE_CHARS = set("{}[]()<>=;$\\|_`^~@#")
# Words in brackets after a space or at the line's start ("hub\n(Mash)", "[see below]", "(KiB,
# units of 1024 bytes)") are prose: their brackets do not count towards a line's code symbols. A
# call's brackets ("len(x)") do, and so do a formula's ("P (i, j)": no word of three letters).
_WORDS_IN_BRACKETS = re.compile(
    r"(?:^|(?<=\s))[(\[]"
    r"([A-Za-z][A-Za-z' -]+|[A-Za-z][A-Za-z0-9',. -]*[a-z]{3}[A-Za-z0-9',. -]*)[)\]]"
)
# A reference to a manual page ("ls(1)", "LS(1)", "tracepath(8)", "crontab(5)") is a name: a
# word, its section in brackets, then a space or punctuation. A method's call ("f.seek(1)") or an
# equation's number ("c1(4)") is not one.
_MANUAL_REFERENCE = re.compile(
    r"(?<![\w.])([A-Za-z][\w-]*[A-Za-z])\(([1-9][a-z]*)\)(?=[\s,.;:)]|$)"
)
# A code span in Markdown or reStructuredText ("the ``cp``, ``sync``, ``mv``,", "`tty.isatty()`"),
# or a reStructuredText link ("`Source code <https://...>`_"), names something in a line of
# prose: its marks and what it quotes count as one word.
_CODE_SPAN = re.compile(r"(`{1,2})[^`\s][^`\n]*?\1_{0,2}")
# Command-line usage: an optional part repeated ("[OPTION]...", "[FILE...]"), among few plain
# words. Prose elides with "[...]", which this does not match, and a sentence explaining a
# syntax ("The format of a mode is [ugoa...]...") has many plain words.
_USAGE = re.compile(r"\]\.\.\.|\w\.\.\.\]")
_PLAIN_WORD = re.compile(r"[a-z]{2,}[,.;:]?")
_USAGE_PLAIN_WORDS = 2


@dataclass(frozen=True)
class Line:
    start: int  # offset of the first non-whitespace character
    end: int  # offset after the last non-whitespace character
    indent: int  # leading whitespace, tabs counted to the next multiple of 8

    def text(self, text: str) -> str:
        return text[self.start : self.end]

    @property
    def width(self) -> int:
        """The column the line ends at: an indented line of a wrapped text reaches the same
        right margin as the others."""
        return self.indent + (self.end - self.start)


def lines_of(text: str) -> list[Line]:
    """Every line with its offsets; blank lines are kept (as lines whose end equals their start)."""
    found = []
    position = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        stripped = body.rstrip()
        leading = body[: len(body) - len(body.lstrip())]
        indent = len(leading.expandtabs(8))
        if stripped.strip():
            found.append(Line(position + len(leading), position + len(stripped), indent))
        else:
            found.append(Line(position, position, 0))
        position += len(raw)
    return found


def is_blank(line: Line) -> bool:
    return line.end <= line.start


# A line quoted behind a marker: a shell comment's "#" or a mail quote's ">", then a space or
# nothing ("#" alone is the quote's blank line).
QUOTE_MARK = re.compile(r"[ \t]*([#>])(?:[ \t]+|$)")
_QUOTED_LINE_START = re.compile(r"[ \t]*\n[ \t]*[#>][ \t]+")
_MIN_QUOTED_LINES = 3
_QUOTED_PROSE_SHARE = 0.6  # of a quote's written lines, how many must read as prose
_PROSE_LINE_WORDS = 4  # a prose line: this many words, most of them words of letters
_PROSE_WORD_SHARE = 0.6
_WORD_IN_ANY_CASE = re.compile(r"""[(\"“]?[A-Za-z][A-Za-z'’-]*[)\"”]?[,.;:!?]?""")


def unquoted(text: str, lines: list[Line]) -> list[Line]:
    """``lines``, with text quoted behind "#" or ">" at every line's start read as the text it
    quotes: the marker becomes indentation and a marker alone a blank line. A licence bundle
    quotes other projects' notices as shell comments (" # Redistribution and use ..."), which
    would otherwise read as code; a reply quotes mail the same way with ">". Only a run of
    three lines or more, most of them prose once unquoted: root prompts ("# apt update") are
    short commands and stay as they are."""
    found = list(lines)
    index = 0
    while index < len(lines):
        mark = _quote_mark(text, lines[index])
        end = index
        while end < len(lines) and mark and _quote_mark(text, lines[end]) == mark:
            end += 1
        if end - index >= _MIN_QUOTED_LINES:
            inner = [_after_mark(text, line) for line in lines[index:end]]
            written = [line for line in inner if not is_blank(line)]
            prose = sum(1 for line in written if _reads_as_prose(line.text(text)))
            if written and prose >= _QUOTED_PROSE_SHARE * len(written):
                found[index:end] = inner
        index = max(end, index + 1)
    return found


def past_quote_mark(text: str, position: int, end: int) -> int:
    """Where a sentence starting at ``position`` inside quoted text begins: past the line
    break, the quote's marker and the spaces after it ("... above.\\n # Neither the name ...");
    ``position`` itself anywhere else."""
    match = _QUOTED_LINE_START.match(text, position, end)
    return match.end() if match else position


def _quote_mark(text: str, line: Line) -> str | None:
    match = QUOTE_MARK.match(text, line.start, line.end) if not is_blank(line) else None
    return match.group(1) if match else None


def _after_mark(text: str, line: Line) -> Line:
    match = QUOTE_MARK.match(text, line.start, line.end)
    assert match is not None
    start = match.end()
    if start >= line.end:
        return Line(line.end, line.end, 0)
    begin = text.rfind("\n", 0, line.start) + 1
    return Line(start, line.end, len(text[begin:start].expandtabs(8)))


def _reads_as_prose(body: str) -> bool:
    """Four words or more, most of them words of letters in any case (a disclaimer in
    capitals is prose too)."""
    tokens = body.split()
    worded = sum(1 for token in tokens if _WORD_IN_ANY_CASE.fullmatch(token))
    return len(tokens) >= _PROSE_LINE_WORDS and worded >= _PROSE_WORD_SHARE * len(tokens)


def looks_like_code(line: str) -> bool:
    """An interpreter or shell line, a command's usage, or a line dense with the symbols code is
    written in."""
    stripped = line.strip()
    if PROMPT.match(stripped) or _CODE_START.match(stripped) and _symbol_share(stripped) > 0.05:
        return True
    if _USAGE.search(stripped) and _plain_words(stripped) <= _USAGE_PLAIN_WORDS:
        return True
    return _symbol_share(stripped) > 0.18 and not ENDS_SENTENCE.search(stripped)


def _plain_words(line: str) -> int:
    """How many of the line's words are plain lower-case words, as prose is written in."""
    return sum(1 for word in line.split() if _PLAIN_WORD.fullmatch(word))


def plain_word_share(line: str) -> float:
    """The share of a line's words that are plain lower-case words, as prose is written in."""
    words = line.split()
    return _plain_words(line) / len(words) if words else 0.0


def _symbol_share(line: str) -> float:
    words = _MANUAL_REFERENCE.sub(r"\1 \2", _WORDS_IN_BRACKETS.sub(r"\1", line))
    words = _CODE_SPAN.sub("name", words)
    visible = [c for c in words if not c.isspace()]
    return sum(c in _CODE_CHARS for c in visible) / len(visible) if visible else 0.0


def starts_word_item(body: str) -> bool:
    """Whether a line's text starts with a Roman numeral or a letter numbering it ("iv. the
    right to ...", "b. to create ..."), which may also be a sentence's last word."""
    return bool(_WORD_ITEM.match(body))


def starts_citation(body: str) -> bool:
    """Whether a line's text starts with a citation in the course of a sentence ("[2] and
    publishes ...", "(3) or ..."): a number in brackets, then a word in lower case."""
    return bool(_CITATION.match(body))


def starts_item(body: str) -> bool:
    """Whether a line's text starts with a list marker."""
    return bool(_BULLET.match(body))


def item_text_offset(body: str) -> int:
    """Where the text after a line's list marker starts ("* `node`: ..." -> 2, "B. List ..."
    -> 3), 0 if none."""
    marker = _BULLET.match(body) or _CAPITAL_ITEM.match(body)
    return marker.end() - 1 if marker else 0


def capital_item_letter(body: str) -> str | None:
    """The capital letter a line's text opens with as an item's mark ("B. List ..." -> "B")."""
    marker = _CAPITAL_ITEM.match(body)
    return marker["letter"] if marker else None
