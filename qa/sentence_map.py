"""Where each passage's sentences and section heading are among the sentence rows: a few int32
arrays per index version, read with array operations (this runs for every candidate of every
question)."""

from __future__ import annotations

import numpy as np

from qa.layout import Kind
from qa.store import IndexData


class SentenceMap:
    """For each passage: the run of its sentences, and the row of its section heading.

    The store orders sentence rows by (document, start) and sentences do not overlap, so a
    passage's sentences are one run of rows; where either does not hold, the order is kept and
    each passage's rows are filtered by their ends as they are asked for."""

    def __init__(self, data: IndexData) -> None:
        self.data = data
        sentences, passages = data.sentences, data.passages
        order = np.lexsort((sentences.start, sentences.doc))
        number = {doc_id: i for i, doc_id in enumerate(sentences.doc_ids)}
        doc = sentences.doc[order].astype(np.int64)
        starts = (doc << 32) | sentences.start[order]
        ends = (doc << 32) | sentences.end[order]
        # Each passage's document in the sentences' numbering; -1 (no sentences) sorts first.
        owner = np.array([number.get(d, -1) for d in passages.doc_ids], dtype=np.int64)
        passage_doc = owner[passages.doc] if len(passages) else np.zeros(0, np.int64)
        first = np.searchsorted(starts, (passage_doc << 32) | passages.start, "left")
        last = np.searchsorted(starts, (passage_doc << 32) | passages.end, "left")
        self._filter_ends = not bool(np.all(np.diff(ends) >= 0))
        if not self._filter_ends:  # ends ascend with starts: the inside ones are a prefix
            inside = np.searchsorted(ends, (passage_doc << 32) | passages.end, "right")
            last = np.maximum(first, np.minimum(last, inside))
        identity = bool(np.array_equal(order, np.arange(len(order))))
        self._order = None if identity else order.astype(np.int32)
        self._first = first.astype(np.int32)
        self._last = last.astype(np.int32)
        self.heading = self._headings(passage_doc)

    def runs(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sentence rows of the given passages, concatenated in order, and how many each
        passage has."""
        firsts = self._first[rows].astype(np.int64)
        counts = self._last[rows].astype(np.int64) - firsts
        starts = np.cumsum(counts) - counts
        positions = np.repeat(firsts, counts) + np.arange(counts.sum()) - np.repeat(starts, counts)
        gathered = self._order[positions].astype(np.int64) if self._order is not None else positions
        if self._filter_ends:  # overlapping sentences: keep those ending inside the passage
            owner = np.repeat(np.arange(len(rows)), counts)
            inside = self.data.sentences.end[gathered] <= self.data.passages.end[rows][owner]
            gathered = gathered[inside]
            counts = np.bincount(owner[inside], minlength=len(rows)).astype(np.int64)
        return gathered, counts

    def of(self, passage_row: int) -> list[int]:
        """Rows of the sentences lying inside a passage, in order."""
        rows, _ = self.runs(np.array([passage_row], dtype=np.int64))
        return rows.tolist()

    def _headings(self, passage_doc: np.ndarray) -> np.ndarray:
        """For each passage, the sentence row of the nearest heading or definition-list term at
        or before its start in its document (-1 if none)."""
        sentences, passages = self.data.sentences, self.data.passages
        found_rows = np.full(len(passages), -1, dtype=np.int32)
        # A definition-list term heads its description as a section heading heads its text.
        heading_rows = np.flatnonzero(np.isin(self.data.sentence_kinds, (Kind.HEADING, Kind.TERM)))
        if not len(heading_rows) or not len(passages):
            return found_rows
        keys = (sentences.doc[heading_rows].astype(np.int64) << 32) | sentences.start[heading_rows]
        order = np.argsort(keys, kind="stable")
        heading_rows, keys = heading_rows[order], keys[order]
        found = np.searchsorted(keys, (passage_doc << 32) | passages.start, side="right") - 1
        valid = found >= 0
        same = np.zeros(len(passages), dtype=bool)
        same[valid] = (keys[found[valid]] >> 32) == passage_doc[valid]
        found_rows[same] = heading_rows[found[same]]
        return found_rows
