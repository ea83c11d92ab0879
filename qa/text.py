"""Word-level text handling shared by indexing, retrieval and evaluation."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS

# A dotted number ("3.12", "1.1.2") is a word of its own, so Python "3.12" matches itself
# better than a HOWTO's release "1.12"; its parts are words too (``words``), so "75%" still
# meets "0.75\textwidth".
_WORD = re.compile(r"\d+(?:\.\d+)+|[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_QUOTES = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'}
)

# Line-end hyphens come in two kinds. A typesetter's hyphenation (man pages print U+2010 HYPHEN
# there; some text carries soft hyphens, U+00AD) splits one word: "config‐\n   uration" is
# whole again. An ASCII hyphen at a line end is the text's own ("bug-\ntracking", "tri-\nborough":
# hard-wrapping tools break after hyphens, they do not hyphenate), so only the break goes. PDFs are
# dehyphenated when their text is extracted (qa.pdf_text), where the document's words decide.
#
# Each pattern opens on the hyphen and looks back for the letter before it: a pattern that opens
# on a look-behind is tried at every position of the text, one that opens on a character only
# where that character is (five times faster on running text).
TYPESET_HYPHEN_BREAK = re.compile(r"[\u2010\u00ad](?<=[^\W\d_].)[ \t]*\r?\n\s*(?=[a-z])")
HARD_HYPHEN_BREAK = re.compile(r"-(?<=[^\W\d_]-)[ \t]*\r?\n\s*(?=[^\W\d_])")


def unwrap_hyphens(text: str) -> str:
    """``text`` with the line breaks after hyphens undone (see above); other breaks kept."""
    if "\n" not in text:  # the common case when tokenising sentences: nothing to undo
        return text
    return HARD_HYPHEN_BREAK.sub("-", TYPESET_HYPHEN_BREAK.sub("", text))


# A dash after a word ends a lead-in in prose; not an equation's tag ("—1—"), a line of markup
# or a word running on across a table's columns ("\includegraphics[scale=.5]{a} left—").
_DASH_LEAD = re.compile(r"[^\W\d_]{2}[—–]$")
_MARKUP = re.compile(r"[\\{}\[\]=<>]")
# "... as follows.", "... by the following.", "... the following steps.": announcing what comes next.
_ANNOUNCES = re.compile(r"\b(?:as\s+follows|the\s+following(?:\s+\w+)?)\s*\.$", re.IGNORECASE)
# A sentence that stops on the word pointing to where something is, the place on the next line
# ("You may obtain a copy of the License at", "... contains code from").
_POINTS_TO = re.compile(r"\w\s+(?:at|from|see)$")  # lower case: "... You Might See" is a title
_POINTING_WORDS = 4  # at least, in such a sentence: "see" alone is a word, not a lead-in


# Footnote references closing a sentence ("... each statement: [2]", "...:¹") are not its end.
_FOOTNOTE_MARKS = re.compile(r"(?:\s*(?:\[\d{1,3}\]|[¹²³⁴⁵⁶⁷⁸⁹⁰]+))+$")


def without_footnote_marks(sentence: str) -> str:
    """``sentence`` without the footnote references that close it ("... packages. [3]")."""
    return _FOOTNOTE_MARKS.sub("", sentence)


def introduces(sentence: str) -> bool:
    """Whether a sentence leads into what comes after it: it ends with ":" or with a dash after a
    word, as legislation leads into its paragraphs ("In this Order—"), announces it ("... as
    follows.", "... by the following."), as a command or a list often comes, or stops on the
    word pointing to it ("... a copy of the License at"), as an address often comes."""
    stripped = without_footnote_marks(sentence.rstrip())
    if stripped.endswith(":") or _ANNOUNCES.search(stripped):
        return True
    if _POINTS_TO.search(stripped) and len(stripped.split()) >= _POINTING_WORDS:
        return True
    return (
        bool(_DASH_LEAD.search(stripped))
        and not _MARKUP.search(stripped)
        and len(stripped.split()) > 1  # a phrase, not a word cut off ("left—right" across cells)
    )


# Function words carry no evidence for BM25 or term-coverage checks.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    also say said says tell told according
    """.split()
)


# What a contraction or possessive adds to a word: "what's", "Ofsted's", "you're", "we've",
# "I'll", "they'd", "I'm".
_CLITIC = re.compile(r"'(?:s|re|ve|ll|d|m)$")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def normalise(text: str) -> str:
    """Lower-case, straight quotes, collapsed whitespace: the form gold phrases are compared in."""
    return " ".join(text.translate(_QUOTES).lower().split())


def words(text: str) -> list[str]:
    """Lower-cased words with straight apostrophes, in order; a word a typesetter hyphenated at a
    line end counts as the whole word (see ``unwrap_hyphens``), and a dotted number counts whole
    and then as its parts ("3.12", "3", "12")."""
    found: list[str] = _WORD.findall(unwrap_hyphens(text).lower().replace("’", "'"))
    if "." not in text:
        return found
    with_parts = []
    for word in found:
        with_parts.append(word)
        if "." in word:  # only a dotted number holds one
            with_parts.extend(word.split("."))
    return with_parts


def content_words(text: str) -> list[str]:
    """Words minus stopwords, possessive endings and contractions: "what's" and "it's" are
    function words as "what" and "it" are, and so is every "n't" ("doesn't", "can't")."""
    found = []
    for word in words(text):
        if "'" in word:
            if word.endswith("n't"):
                continue  # an auxiliary and "not": "doesn't", "isn't", "can't", "won't"
            word = _CLITIC.sub("", word)
        if word and word not in STOPWORDS:
            found.append(word)
    return found


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """The word's stem, a British spelling read as the American one ("licence" as "license",
    "behaviour" as "behavior"): readers write one, documents the other. Cached: a collection's
    words repeat, and a cached stem costs about a quarter of stemming again."""
    return _stemmer().stemWord(BRITISH_ENGLISH_SPELLINGS.get(word, word))


def bm25_tokenize(text: str) -> list[str]:
    """Stemmed content words: the same function tokenises passages and questions."""
    return [stem(w) for w in content_words(text)]
