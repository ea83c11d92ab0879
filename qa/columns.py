"""Tables set out with spaces: lines whose cells line up in columns with a neighbour's.

Plain text draws a table with runs of spaces ("1.6.1   1.6   2001   CNRI   yes (2)"). Read line
by line, each row is short and ends with no full stop, so it passes for a heading, and the next
passages take "2.2 and above 2.1.1 2001-now PSF yes" for their section's title. A row is told
by its columns: three cells or more, separated by three spaces or more, at least two of whose
starts line up with the cells of the line above or below. Prose does not line up so: groff
justifies a man page's lines with runs of two spaces that may fall in line by chance, and a
double space after a full stop falls where it falls.
"""

from __future__ import annotations

import re

from qa.lines import Line, is_blank

_CELL_GAP = re.compile(r"(?<=\S)(?: {3,}|\t+)(?=\S)")
_MIN_GAPS = 2  # three cells
_MIN_SHARED = 2  # cell starts a row shares with a neighbour


def aligned_rows(text: str, lines: list[Line]) -> frozenset[int]:
    """The starts of the lines that are rows of a table set out with spaces."""
    starts = [_cell_starts(text, line) for line in lines]
    rows = set()
    for index, line in enumerate(lines):
        cells = starts[index]
        if len(cells) < _MIN_GAPS:
            continue
        neighbours = (starts[i] for i in (index - 1, index + 1) if 0 <= i < len(lines))
        if any(len(cells & other) >= _MIN_SHARED for other in neighbours):
            rows.add(line.start)
    return frozenset(rows)


def _cell_starts(text: str, line: Line) -> set[int]:
    """The columns at which the line's cells after the first start (tabs as 8 columns)."""
    if is_blank(line):
        return set()
    body = line.text(text).expandtabs(8)
    return {line.indent + gap.end() for gap in _CELL_GAP.finditer(body)}
