"""Tests for qa.dates: the publication date shown beside each citation, and years in passages."""

from __future__ import annotations

from datetime import date

import pytest

from qa.dates import find_dates, find_years, publication_date

# Long enough to push anything after it out of the 400-character header.
_BODY = "Inspectors praised the quality of social work across the boroughs. " * 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Date: \nTue, 15/10/2019", date(2019, 10, 15)),
        ("Published 29 March 2016", date(2016, 3, 29)),
        ("Joe Lepper\nWednesday, October 16, 2019", date(2019, 10, 16)),
        ("Updated: 2020-01-05", date(2020, 1, 5)),
        ("Posted on Sept. 3rd, 2019 by the press office", date(2019, 9, 3)),
        ("Released on the 1st of May 2018", date(2018, 5, 1)),
        ("Date: 29/02/2020", date(2020, 2, 29)),
    ],
)
def test_publication_date_in_header(text: str, expected: date) -> None:
    assert publication_date(text) == expected


def test_labelled_date_wins_over_an_earlier_unlabelled_one() -> None:
    text = "The scheme began on 1 January 2015.\nPublished 29 March 2016"
    assert publication_date(text) == date(2016, 3, 29)


def test_comment_timestamp_deep_in_the_text_dates_the_article() -> None:
    """Comments come after the article, so the earliest timestamped one bounds its date."""
    text = (
        "Outstanding Ofsted for the Tri-borough\n\n"
        + _BODY
        + "On April 8th 2016 the department responded.\n\n"
        + "  1. James March 29, 2016 at 9:21 pm #\n\n    Well deserved.\n\n"
        + "  2. Lisa March 30, 2016 at 11:34 am #\n\n    Agreed.\n"
    )
    assert text.index("James") > 400
    assert publication_date(text) == date(2016, 3, 29)


def test_without_header_or_timestamps_the_latest_date_is_used() -> None:
    """A report cannot predate what it reports."""
    text = _BODY + "The plan from 1 January 2015 was replaced on 3rd April 2016."
    assert publication_date(text) == date(2016, 4, 3)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "No date here at all.",
        "The year 2019 alone is not a date, nor is March 2016.",
        "Date: 31/02/2019",
        "Date: 29/02/2019",
        "Date: 10/15/2019",  # month-first: read day-first, so month 15 is refused
    ],
)
def test_no_valid_date_gives_none(text: str) -> None:
    assert publication_date(text) is None


def test_invalid_date_is_skipped_for_a_later_valid_one() -> None:
    text = "Date: 31/02/2019\nPublished 29 March 2016"
    assert publication_date(text) == date(2016, 3, 29)


def test_find_dates_reports_exact_offsets_in_order() -> None:
    text = "From 29 March 2016 to 2019-10-15, then 16/10/2019."
    mentions = find_dates(text)
    assert [m.value for m in mentions] == [
        date(2016, 3, 29),
        date(2019, 10, 15),
        date(2019, 10, 16),
    ]
    assert [text[m.start : m.end] for m in mentions] == [
        "29 March 2016",
        "2019-10-15",
        "16/10/2019",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("From 1999 to 2021.", {1999, 2021}),
        ("Ofsted in 2016, again in 2019 and 2016.", {2016, 2019}),
        ("2019-2020 figures", {2019, 2020}),
        ("Published 29 March 2016", {2016}),
        ("Not years: 1899, 2100, 12019, 20190, FY2019.", set()),
        ("", set()),
    ],
)
def test_find_years(text: str, expected: set[int]) -> None:
    assert find_years(text) == expected
