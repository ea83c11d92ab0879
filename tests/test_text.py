"""Words as BM25 and the coverage features count them (qa.text)."""

from __future__ import annotations

from qa.text import bm25_tokenize, content_words, introduces, unwrap_hyphens, words


def test_a_dotted_number_is_a_word_of_its_own_besides_its_parts() -> None:
    # "3.12" must not match "1.12" as well as it matches itself: the whole number is a word,
    # and its parts still let "75%" meet "0.75\textwidth".
    assert words("Python 3.12 was released; see section 1.1.2.") == [
        "python",
        "3.12",
        "3",
        "12",
        "was",
        "released",
        "see",
        "section",
        "1.1.2",
        "1",
        "1",
        "2",
    ]
    asked, other = set(bm25_tokenize("python 3.12 release")), set(bm25_tokenize("Release: 1.12"))
    assert "3.12" in asked and "3.12" not in other and "12" in asked & other


def test_words_keep_apostrophes_and_drop_underscores() -> None:
    assert words("Don’t use snake_case here") == ["don't", "use", "snake", "case", "here"]


def test_only_a_break_after_a_hyphen_that_follows_a_letter_is_undone() -> None:
    # A typesetter's hyphen goes with the break ("config‐\n   uration"); a text's own ASCII
    # hyphen stays and only the break goes; after a digit, or before a capital, nothing changes.
    wrapped = (
        "the config\u2010\n   uration, soft\u00ad\nware, tri-\n  borough, 9-\nyear, A\u2010\nB"
    )
    assert unwrap_hyphens(wrapped) == (
        "the configuration, software, tri-borough, 9-\nyear, A\u2010\nB"
    )
    assert words("one con\u2010\nfig") == ["one", "config"]
    assert unwrap_hyphens("no break - here") == "no break - here"


def test_a_dash_after_a_phrase_leads_in_as_legislation_does() -> None:
    assert introduces("In this Order—") and introduces("each year, and—")
    assert introduces("The options are:") and introduces("They are as follows.")
    assert not introduces("—1—") and not introduces("as the display shows —6—")  # a tag
    assert not introduces("left—")  # a word running on across a table's columns
    assert not introduces(r"\includegraphics[scale=.5]{a} left—")  # markup
    assert not introduces("The harbour dries at low water.")


def test_a_footnote_reference_after_the_colon_still_ends_a_lead_in() -> None:
    assert introduces("the following terms are used to describe each statement: [2]")
    assert introduces("The options are:¹")
    assert not introduces("This is explained in the notes [2]")


def test_british_and_american_spellings_are_the_same_word() -> None:
    assert bm25_tokenize("the licence's colour and behaviour were analysed") == bm25_tokenize(
        "the license's color and behavior were analyzed"
    )
    # Words spelled alike on both sides, and words the list does not hold, are left alone.
    assert bm25_tokenize("licensed hour four") == ["licens", "hour", "four"]


def test_contractions_of_function_words_are_function_words() -> None:
    assert content_words("What's the difference? It's what doesn't work, and you're right") == [
        "difference",
        "work",
        "right",
    ]
    assert content_words("Ofsted's verdict") == ["ofsted", "verdict"]  # a possessive's name stays
