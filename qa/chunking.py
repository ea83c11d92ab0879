"""Splitting a document's text into sentences and passages with exact ``[start, end)`` offsets.

Pure functions: ``text[span.start:span.end]`` is always the span's text, so a citation can be
checked against its source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? (plus closing quotes or brackets) before whitespace, or at a line break;
# a line break also ends headings and list items, which carry no punctuation.
_SENTENCE_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s)|\n""")
# Bump when the splitting rules change: stored passages then no longer match and are rebuilt.
CHUNKER_VERSION = 2
_WHITESPACE = re.compile(r"\s")
# Abbreviations after which a full stop does not end a sentence.
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
    "cllr",
}


@dataclass(frozen=True)
class Span:
    """A stretch of a document's text: ``text[start:end]``."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A passage of a few whole sentences, with the sentence spans it contains."""

    start: int
    end: int
    sentences: tuple[Span, ...]


def split_sentences(text: str, max_chars: int) -> list[Span]:
    """Sentences of ``text`` as trimmed spans; any longer than ``max_chars`` split between words."""
    spans: list[Span] = []
    begin = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group()[0] == "." and _is_not_a_sentence_end(text, match.start()):
            continue
        spans.extend(_trimmed_pieces(text, begin, match.end(), max_chars))
        begin = match.end()
    spans.extend(_trimmed_pieces(text, begin, len(text), max_chars))
    return spans


def _is_not_a_sentence_end(text: str, dot: int) -> bool:
    """A full stop after an abbreviation ("Dr.") or a list number at a line start ("4.")."""
    word = re.search(r"([\w.]+)$", text[max(0, dot - 6) : dot])
    if word and word.group(1).lower() in _ABBREVIATIONS:
        return True
    line_start = text.rfind("\n", 0, dot) + 1
    return bool(re.fullmatch(r"\s*\d{1,3}", text[line_start:dot]))


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


def chunk_text(text: str, max_chars: int = 700, overlap_sentences: int = 1) -> list[Chunk]:
    """Pack consecutive sentences into passages of at most ``max_chars`` characters.

    Each passage after the first repeats the last ``overlap_sentences`` sentences of the one before
    (when they fit), so an answer that straddles a boundary is whole in at least one passage.
    """
    sentences = split_sentences(text, max_chars)
    chunks: list[Chunk] = []
    first = 0
    while first < len(sentences):
        last = first
        while (
            last + 1 < len(sentences)
            and sentences[last + 1].end - sentences[first].start <= max_chars
        ):
            last += 1
        chunks.append(
            Chunk(sentences[first].start, sentences[last].end, tuple(sentences[first : last + 1]))
        )
        if last + 1 >= len(sentences):
            break
        # Repeat the last sentences when they fit beside the next one, but never the whole
        # chunk, so every passage moves forward.
        next_first = last + 1
        for back in range(min(overlap_sentences, last - first), 0, -1):
            if sentences[last + 1].end - sentences[last + 1 - back].start <= max_chars:
                next_first = last + 1 - back
                break
        first = next_first
    return chunks
