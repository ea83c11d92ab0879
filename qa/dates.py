"""Finding dates and years in text: a document's publication date and the years a passage is about."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"

# Each pattern names day, month and year groups; month is a word or a number.
_DATE_PATTERNS = [
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),  # 29 March 2016
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),  # October 16, 2019
    # 15/10/2019 — read day first, as British and most non-US sources write it.
    re.compile(r"\b(?P<day>[0-3]?\d)[/.](?P<month>[01]?\d)[/.](?P<year>(?:19|20)\d\d)\b"),
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),  # ISO
]
_LABEL = re.compile(r"\b(published|posted|date|updated|issued|released)\b[^\n]{0,20}$", re.I)
_TIMESTAMP_AFTER = re.compile(r"^\s*(at\s+)?\d{1,2}[:.]\d{2}\s*(am|pm)?", re.IGNORECASE)
# A year written alone (1900–2099): the one pattern for it; conversation and answering use it too.
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_HEADER_CHARS = 400


@dataclass(frozen=True)
class DateMention:
    """A calendar date found in a text, with where it starts and ends."""

    value: date
    start: int
    end: int


def find_dates(text: str) -> list[DateMention]:
    """Every full calendar date written in ``text``, in order of position."""
    found: dict[int, DateMention] = {}
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            month_text = match.group("month").lower().rstrip(".")
            month = _MONTHS.get(month_text) or int(month_text)
            try:
                value = date(int(match.group("year")), month, int(match.group("day")))
            except ValueError:
                continue
            found.setdefault(match.start(), DateMention(value, match.start(), match.end()))
    return [found[position] for position in sorted(found)]


def find_years(text: str) -> set[int]:
    """Four-digit years (1900–2099) mentioned in ``text``."""
    return {int(year) for year in YEAR.findall(text)}


def publication_date(text: str) -> date | None:
    """Best guess at when a document was published, or None when it states no date.

    In order of trust: a date labelled as such ("Published 29 March 2016", "Date: 15/10/2019"),
    a date in the header (byline), the earliest timestamped date (comments are posted after the
    article), then the latest date mentioned (a report cannot predate what it reports).
    """
    mentions = find_dates(text)
    if not mentions:
        return None
    for mention in mentions:
        line_before = text[max(0, mention.start - 40) : mention.start]
        if _LABEL.search(line_before.replace("\n", " ").rstrip(" :,\t")):
            return mention.value
    header = [m for m in mentions if m.start < _HEADER_CHARS]
    if header:
        return header[0].value
    stamped = [m for m in mentions if _TIMESTAMP_AFTER.match(text[m.end : m.end + 15])]
    if stamped:
        return min(m.value for m in stamped)
    return max(m.value for m in mentions)
