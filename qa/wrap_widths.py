"""The width a hard-wrapped text was wrapped at: for the whole text, and for each stretch of it.

A line that ends well short of the wrap width ends its paragraph; one that ends where the next
word would not have fitted was wrapped (``qa.layout``). One width for the whole text is not
always enough. A licence bundle joins texts wrapped at 62 and at 79 columns; an agreement
wraps its preface narrower than its terms. Measured against the widest stretch, every line of
a narrower one ends "well short", and its paragraphs fall apart into lines read as headings.
So each line is also measured against the lines around it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import pairwise

from qa.definitions import STEP
from qa.lines import ENDS_SENTENCE, Line, is_blank, looks_like_code, plain_word_share

MIN_WRAP_WIDTH = 40  # narrower columns are tables or verse, not wrapped prose
_MAX_WRAP_WIDTH = 160  # lines wider than this were not wrapped by hand or by a formatter
_MIN_WRAP_EVIDENCE = 4  # lines that continue, needed before a text is judged wrapped
_CONTINUING_SHARE = 0.25  # of all lines, how many must run on into the next line
_WRAPPED_SHARE = 0.6  # of those, how many must end near the width
_MID_SENTENCE_SHARE = 0.25  # ... and how many must end mid-sentence
_WIDTH_QUANTILE = 0.9  # the width: nearly the widest of the lines that continue
# A line's stretch: the sure wraps nearest to it, none further than so many lines away. Its own
# width counts when it rests on enough of them and is this much narrower than the text's.
_STRETCH_WRAPS = 12
_MIN_STRETCH_WRAPS = 6
_STRETCH_LINES = 80
_NARROWER_BY = 6
_STRETCH_NEAR = 12  # columns short of the stretch's width a wrapped line may end
_HANGING_INDENT = 2  # a list item's wrapped lines may sit this much deeper than its first
# A sure wrap is a line of prose: this many words at least, most of them plain ("libfdisk >= 2.32
# (optional)" over "libselinux (optional)" is a list).
_SURE_WRAP_WORDS = 4
_SURE_WRAP_PLAIN_SHARE = 0.6


def wrap_width(text: str, lines: list[Line]) -> int | None:
    """The width the text was wrapped at, or None if it was not hard-wrapped.

    Judged on the lines followed by another line of the same paragraph (the only places a wrap
    can be): in wrapped text most of them end mid-sentence and close to one width."""
    widths = []
    mid_sentence = 0
    written = sum(1 for line in lines if not is_blank(line))
    for line, following in pairwise(lines):
        if is_blank(line) or is_blank(following) or looks_like_code(line.text(text)):
            continue
        if following.indent >= line.indent + STEP:
            written -= 1  # a term and its description, a lead-in and its example: no wrap can be
            continue
        widths.append(line.width)
        mid_sentence += not ENDS_SENTENCE.search(line.text(text))
    if len(widths) < max(_MIN_WRAP_EVIDENCE, _CONTINUING_SHARE * written):
        return None
    width = _quantile(widths)
    if not MIN_WRAP_WIDTH <= width <= _MAX_WRAP_WIDTH:
        return None
    near = sum(1 for w in widths if w >= width - 20) / len(widths)
    if near < _WRAPPED_SHARE or mid_sentence / len(widths) < _MID_SENTENCE_SHARE:
        return None
    return width


def line_wrap_widths(text: str, lines: list[Line]) -> list[int | None]:
    """The wrap width each line is measured against: the text's (None if it was not wrapped),
    or, where the stretch around the line was wrapped clearly narrower, the stretch's.

    A stretch's width is read only from sure wraps: a line that stops mid-sentence over one
    that goes on in lower case at its indent (or a list item's hanging indent). Lines of a list
    of names or of a table are not sure wraps, so a stretch of them keeps the text's width."""
    width = wrap_width(text, lines)
    if width is None:
        return [None] * len(lines)
    sure = [
        (index, line.width)
        for index, (line, following) in enumerate(pairwise(lines))
        if _surely_wraps(text, line, following)
    ]
    positions = [index for index, _ in sure]
    widths: list[int | None] = []
    for index in range(len(lines)):
        low = bisect_left(positions, index - _STRETCH_LINES)
        high = bisect_right(positions, index + _STRETCH_LINES)
        middle = bisect_left(positions, index)
        near = sure[max(low, middle - _STRETCH_WRAPS) : min(high, middle + _STRETCH_WRAPS)]
        near.sort(key=lambda wrap: abs(wrap[0] - index))
        local = width
        if len(near) >= _MIN_STRETCH_WRAPS:
            local = _stretch_width([w for _, w in near[:_STRETCH_WRAPS]]) or width
        narrower = MIN_WRAP_WIDTH <= local <= width - _NARROWER_BY
        widths.append(local if narrower else width)
    return widths


def _surely_wraps(text: str, line: Line, following: Line) -> bool:
    if is_blank(line) or is_blank(following):
        return False
    if not line.indent <= following.indent <= line.indent + _HANGING_INDENT:
        return False
    body = line.text(text)
    return (
        following.text(text)[:1].islower()
        and not ENDS_SENTENCE.search(body)
        and len(body.split()) >= _SURE_WRAP_WORDS
        and plain_word_share(body) >= _SURE_WRAP_PLAIN_SHARE
        and not looks_like_code(body)
    )


def _stretch_width(widths: list[int]) -> int | None:
    """The width a stretch's sure wraps were wrapped at, if most of them end close to it (a
    list of names, each line short of the next, has no such width)."""
    width = _quantile(widths)
    close = sum(1 for w in widths if w >= width - _STRETCH_NEAR)
    return width if close >= _WRAPPED_SHARE * len(widths) else None


def _quantile(widths: list[int]) -> int:
    ordered = sorted(widths)
    return ordered[int(_WIDTH_QUANTILE * (len(ordered) - 1))]
