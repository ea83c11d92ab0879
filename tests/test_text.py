"""Words as BM25 and the coverage features count them (qa.text)."""

from __future__ import annotations

from qa.text import bm25_tokenize, words


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
