"""Tests for qa.chunking: offsets must be exact, since citations are checked against them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.chunking import Chunk, chunk_text, split_sentences

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éßøжλ中文😀"
_QUOTES = "\"'“”‘’()"

_words = st.text(alphabet=_LETTERS, min_size=1, max_size=12)
_long_words = st.text(alphabet=_LETTERS, min_size=40, max_size=120)
_quoted = st.builds(lambda q, w: f"{q}{w}{q}", st.sampled_from(_QUOTES), _words)
_ends = st.sampled_from([".", "!", "?", "...", "?!", "…", '."', "!”", "?’", ".)", ".]"])
_punctuated = st.builds(lambda w, p: w + p, _words, _ends)
_abbreviations = st.sampled_from(["Dr.", "Mr.", "e.g.", "Sir", "St."])
_tokens = st.one_of(_words, _words, _punctuated, _quoted, _long_words, _abbreviations)
_separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", "  ", " \n ", "\r\n"])


@st.composite
def _texts(draw: st.DrawFn) -> str:
    """Prose-like text: tokens joined by spaces and line breaks, maybe padded with whitespace."""
    tokens = draw(st.lists(_tokens, max_size=60))
    parts = [draw(st.sampled_from(["", " ", "\n"]))]
    for token in tokens:
        parts += [token, draw(_separators)]
    return "".join(parts)


def _word_at(text: str, index: int) -> str:
    """The run of non-whitespace characters that contains ``text[index]``."""
    start, end = index, index + 1
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end]


def _cuts_word(text: str, position: int) -> bool:
    """Whether a boundary at ``position`` falls between two non-whitespace characters."""
    inside = 0 < position < len(text)
    return inside and not text[position - 1].isspace() and not text[position].isspace()


def text_of(text: str, chunks: list[Chunk]) -> list[str]:
    return [text[c.start : c.end] for c in chunks]


def _check_chunks(text: str, chunks: list[Chunk], max_chars: int) -> None:
    """Every invariant a citation relies on, for one text's chunks."""
    covered = [False] * len(text)
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert chunk.end - chunk.start <= max_chars
        piece = text[chunk.start : chunk.end]
        assert piece == piece.strip()
        for boundary in (chunk.start, chunk.end):
            if _cuts_word(text, boundary):
                # The one allowed exception: a word too long to fit in any chunk.
                assert len(_word_at(text, boundary - 1)) > max_chars, (boundary, piece)
        assert chunk.sentences
        assert chunk.sentences[0].start == chunk.start
        assert chunk.sentences[-1].end == chunk.end
        for span in chunk.sentences:
            assert chunk.start <= span.start < span.end <= chunk.end
            sentence = text[span.start : span.end]
            assert sentence == sentence.strip()
        for index in range(chunk.start, chunk.end):
            covered[index] = True
    starts = [chunk.start for chunk in chunks]
    assert starts == sorted(set(starts))
    missed = [i for i, char in enumerate(text) if not char.isspace() and not covered[i]]
    assert not missed, [text[i] for i in missed]


@settings(max_examples=400, deadline=None)
@given(
    text=_texts(),
    max_chars=st.integers(min_value=1, max_value=300),
    overlap=st.integers(min_value=0, max_value=3),
)
def test_chunks_are_exact_whole_word_and_cover_the_text(
    text: str, max_chars: int, overlap: int
) -> None:
    """Property: offsets are valid, trimmed, whole-word, ordered and miss no text."""
    _check_chunks(text, chunk_text(text, max_chars, overlap), max_chars)


@pytest.mark.parametrize("text", ["", " ", "\n\n \n"])
def test_blank_text_gives_no_chunks(text: str) -> None:
    assert chunk_text(text) == []


def _sentences(text: str, max_chars: int = 700) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text, max_chars)]


def test_sentences_split_after_full_stop_exclamation_and_question() -> None:
    text = "It rained. Did it stop? Yes! Then it snowed."
    assert _sentences(text) == ["It rained.", "Did it stop?", "Yes!", "Then it snowed."]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Did it stop? No! It snowed.", ["Did it stop?", "No!", "It snowed."]),
        ("Are you sure, sir? We are.", ["Are you sure, sir?", "We are."]),
    ],
)
def test_abbreviation_words_still_end_a_sentence_at_exclamation_or_question(
    text: str, expected: list[str]
) -> None:
    """Only a full stop can belong to an abbreviation; "No!" and "sir?" end their sentence."""
    assert _sentences(text) == expected


def test_line_break_ends_a_heading_without_punctuation() -> None:
    text = "Outstanding Ofsted for the Tri-borough\n\nWestminster was rated outstanding."
    assert _sentences(text) == [
        "Outstanding Ofsted for the Tri-borough",
        "Westminster was rated outstanding.",
    ]


def test_closing_quote_stays_with_its_sentence() -> None:
    text = 'She said "it is outstanding." Then she left.'
    assert _sentences(text) == ['She said "it is outstanding."', "Then she left."]


def test_abbreviations_do_not_end_a_sentence() -> None:
    text = "Sir Michael Wilshaw met Dr. Smith and Mr. Jones. They agreed."
    assert _sentences(text) == ["Sir Michael Wilshaw met Dr. Smith and Mr. Jones.", "They agreed."]
    written_without_stops = "It runs much slower (eg. 20 to 30 times) than natively. It works."
    assert _sentences(written_without_stops) == [
        "It runs much slower (eg. 20 to 30 times) than natively.",
        "It works.",
    ]


def test_an_abbreviation_before_a_number_does_not_end_a_sentence() -> None:
    text = (
        "It is subject to the Mozilla Public License, v. 2.0 and cites "
        "Communications of the ACM (vol. 34 no. 4), pp. 30-44. Read it. We left at v. It rained."
    )
    assert _sentences(text) == [
        "It is subject to the Mozilla Public License, v. 2.0 and cites "
        "Communications of the ACM (vol. 34 no. 4), pp. 30-44.",
        "Read it.",
        "We left at v.",  # a letter before a word, not a number: the sentence ends
        "It rained.",
    ]


def test_full_stop_inside_a_number_does_not_split() -> None:
    assert _sentences("Spending rose 2.5 per cent. It fell later.") == [
        "Spending rose 2.5 per cent.",
        "It fell later.",
    ]


def test_overlap_repeats_last_sentence_of_previous_chunk() -> None:
    text = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    chunks = chunk_text(text, max_chars=40, overlap_sentences=1)
    assert [text[c.start : c.end] for c in chunks] == [
        "One two three. Four five six.",
        "Four five six. Seven eight nine.",
        "Seven eight nine. Ten eleven twelve.",
    ]


def test_no_overlap_partitions_the_sentences() -> None:
    text = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    chunks = chunk_text(text, max_chars=40, overlap_sentences=0)
    assert [text[c.start : c.end] for c in chunks] == [
        "One two three. Four five six.",
        "Seven eight nine. Ten eleven twelve.",
    ]


def test_a_lead_in_opens_the_next_passage_with_what_it_introduces() -> None:
    text = (
        "One two three four. Five six seven eight. The inspector said:\n\nNine ten eleven twelve."
    )
    assert text_of(text, chunk_text(text, max_chars=65)) == [
        "One two three four. Five six seven eight.",
        "The inspector said:\n\nNine ten eleven twelve.",
    ]
    # ... but a heading is not left alone for it.
    titled = "Inspection\n\nThe inspector said:\n\n" + "Nine ten eleven twelve. " * 3
    assert (
        text_of(titled, chunk_text(titled, max_chars=60))[0] == "Inspection\n\nThe inspector said:"
    )


def test_a_lead_in_keeps_the_short_lines_it_introduces_though_they_read_as_headings() -> None:
    text = (
        "DESCRIPTION\n       List information about the files in the directory.\n\n"
        "   Exit status:\n       0      if OK,\n\n       1      if minor problems,\n\n"
        "       2      if serious trouble.\n\nAUTHOR\n       Written by a harbour master.\n"
    )
    passages = [" ".join(p.split()) for p in text_of(text, chunk_text(text, max_chars=700))]
    exit_status = next(p for p in passages if "Exit status:" in p)
    assert "Exit status: 0 if OK," in exit_status
    assert "2 if serious trouble." in exit_status
    assert passages[-1].startswith("AUTHOR")  # a heading after a sentence still opens a passage


def test_a_lead_in_keeps_the_first_entry_of_the_definition_list_it_introduces() -> None:
    # A lead-in alone is no passage: it keeps the entry after it, and the next entries start
    # passages of their own, as an option's entry does.
    text = (
        "OPTIONS\n       The program reads its settings from the harbour file and from the\n"
        "       command line, the later ones first.  The following options are known:\n\n"
        "       -q     quiet: print nothing but errors\n\n"
        "       -v     verbose: print each step as it is taken\n"
    )
    passages = [" ".join(p.split()) for p in text_of(text, chunk_text(text, max_chars=700))]
    assert passages[0].endswith(
        "The following options are known: -q quiet: print nothing but errors"
    )
    assert passages[1] == "-v verbose: print each step as it is taken"


_CONTENTS = (
    "1.1 Overview . . . . . . . . . . . . . . . . . . . . 2 1.2 Options . . . . . . . . . . . . "
    ". . . . . . . . 3 2 Commands 4"
)


# A plain-text table of contents, one entry a line, as in an RFC.
_PLAIN_CONTENTS = "1. Overview ......................... 2\n2. Options .......................... 3"


@pytest.mark.parametrize("overlap", [0, 1])
@pytest.mark.parametrize("contents", [_CONTENTS, _PLAIN_CONTENTS])
def test_a_table_of_contents_is_left_out_and_never_spanned(overlap: int, contents: str) -> None:
    """Dot leaders and page numbers are navigation: no passage holds them, though the prose
    before and after fits in one passage."""
    text = f"Contents\n\nThe guide has two parts.\n\n{contents}\n\nOptions come first."
    passages = text_of(text, chunk_text(text, max_chars=700, overlap_sentences=overlap))
    assert passages == ["Contents\n\nThe guide has two parts.", "Options come first."]


def test_prose_run_into_a_table_of_contents_is_kept() -> None:
    """A PDF's extractor may join the last entries and the next paragraph into one block."""
    entries = _CONTENTS.removesuffix(" 2 Commands 4")
    text = f"{entries} This file may be distributed freely. See the source for details."
    sentences = _sentences(text)
    assert sentences == ["This file may be distributed freely.", "See the source for details."]


@pytest.mark.parametrize(
    "text",
    [
        "We waited.... 5 minutes later the inspectors arrived at the office.",
        "```\n1.1 Overview . . . . . . . . . . . . . . 2\n```",
    ],
)
def test_dots_in_prose_and_code_are_not_contents(text: str) -> None:
    assert "".join(text_of(text, chunk_text(text))) == text


def test_every_chunk_adds_text_beyond_the_previous_one() -> None:
    """An overlap sentence that cannot fit with the next one must not become a chunk of its own.

    Otherwise the index holds a passage that is a strict copy of part of the previous passage.
    """
    text = "Short one. Short two. " + "x" * 90 + "."
    chunks = chunk_text(text, max_chars=100, overlap_sentences=1)
    ends = [c.end for c in chunks]
    assert ends == sorted(set(ends)), [text[c.start : c.end] for c in chunks]


def test_overlong_sentence_is_cut_between_words() -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta."
    assert _sentences(text, max_chars=12) == [
        "alpha beta",
        "gamma delta",
        "epsilon zeta",
        "eta theta.",
    ]


def test_word_longer_than_max_chars_is_cut_hard() -> None:
    text = "abcdefghij kl"
    chunks = chunk_text(text, max_chars=4, overlap_sentences=0)
    assert [text[c.start : c.end] for c in chunks] == ["abcd", "efgh", "ij", "kl"]


@pytest.mark.parametrize("space", ["\t", "\u00a0", "\u2009"], ids=["tab", "nbsp", "thin-space"])
def test_overlong_sentence_is_cut_at_any_whitespace(space: str) -> None:
    """Words separated by tabs or no-break spaces are still words: cut between them, not inside."""
    text = space.join(["word"] * 6)
    chunks = chunk_text(text, max_chars=12, overlap_sentences=0)
    _check_chunks(text, chunks, max_chars=12)


def test_passages_after_a_repeated_label_keep_their_section_title_as_context() -> None:
    # "Note" heads a box in every section: the paragraph after a box is still about its
    # section, while a title used once ("Removing") is the context of the passages under it.
    section = (
        "{title}\n\nThe {topic} steps are described here in full detail for every reader.\n\n"
        "Note\n\nA short note on {topic}.\n\n"
        + "Further text about {topic} that goes on after the note, long enough to fill a passage. "
        * 2
        + "\n\n"
    )
    text = "".join(
        section.format(title=title, topic=title.lower())
        for title in ("Installing", "Upgrading", "Removing")
    )
    chunks = chunk_text(text, max_chars=160)
    after_note = [c for c in chunks if text[c.start :].startswith("Further text about removing")]
    contexts = [text[c.heading.start : c.heading.end] if c.heading else None for c in after_note]
    assert contexts
    assert set(contexts) == {"Removing"}


def test_a_version_note_is_no_heading_of_the_passages_after_it() -> None:
    # Sphinx notes under a section's title when what it documents was added; read as a heading,
    # ".. versionadded:: 3.20" stood for the section in the passages after it.
    text = (
        "cmake_path\n----------\n\n.. versionadded:: 3.20\n\n"
        "This command is for the manipulation of paths. Only syntactic aspects are handled.\n\n"
        "Synopsis\n^^^^^^^^\n\nThe synopsis follows here in prose.\n"
    )
    chunks = chunk_text(text)
    headings = [text[c.heading.start : c.heading.end] for c in chunks if c.heading]
    assert headings == ["cmake_path\n----------"]
    kinds = {text[u.start : u.end]: u.kind.name for c in chunks for u in c.sentences}
    assert kinds[".. versionadded:: 3.20"] == "PROSE"
