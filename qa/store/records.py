"""What one index version holds, whichever store keeps it: documents, where each passage and
sentence lies in them, and (for a version being built or served from memory) their vectors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import faiss
import numpy as np

from qa.documents import Document
from qa.store.vectors import dequantize_sentences, faiss_memory_bytes


@dataclass(frozen=True)
class DocumentSpan:
    """Where a passage or a sentence lies: ``documents[doc_id].text[start:end]``."""

    doc_id: str
    start: int
    end: int


class Spans(Sequence[DocumentSpan]):
    """``(doc_id, start, end)`` records in three int32 arrays and a list of document ids.

    About 12 bytes a record instead of ~200 for a list of Python objects; indexing and iterating
    give ``DocumentSpan`` objects made on demand."""

    def __init__(self, doc_ids: list[str], doc: np.ndarray, start: np.ndarray, end: np.ndarray):
        self.doc_ids = doc_ids
        self.doc = np.ascontiguousarray(doc, dtype=np.int32)
        self.start = np.ascontiguousarray(start, dtype=np.int32)
        self.end = np.ascontiguousarray(end, dtype=np.int32)

    @classmethod
    def of(cls, records: Iterable[DocumentSpan | list[Any] | tuple[Any, ...]]) -> Spans:
        doc_ids: list[str] = []
        number: dict[str, int] = {}
        doc: list[int] = []
        start: list[int] = []
        end: list[int] = []
        for record in records:
            doc_id, begin, finish = (
                (record.doc_id, record.start, record.end)
                if isinstance(record, DocumentSpan)
                else record
            )
            if doc_id not in number:
                number[doc_id] = len(doc_ids)
                doc_ids.append(doc_id)
            doc.append(number[doc_id])
            start.append(begin)
            end.append(finish)
        return cls(doc_ids, np.array(doc), np.array(start), np.array(end))

    def __len__(self) -> int:
        return len(self.start)

    @overload
    def __getitem__(self, i: int) -> DocumentSpan: ...
    @overload
    def __getitem__(self, i: slice) -> Spans: ...
    def __getitem__(self, i: int | slice) -> DocumentSpan | Spans:
        if isinstance(i, slice):
            return Spans(self.doc_ids, self.doc[i], self.start[i], self.end[i])
        return DocumentSpan(self.doc_ids[self.doc[i]], int(self.start[i]), int(self.end[i]))

    def doc_id(self, i: int) -> str:
        """The document of record ``i``, without building the record."""
        return self.doc_ids[self.doc[i]]

    def __iter__(self) -> Iterator[DocumentSpan]:
        doc_ids = self.doc_ids
        for doc, start, end in zip(
            self.doc.tolist(), self.start.tolist(), self.end.tolist(), strict=True
        ):
            yield DocumentSpan(doc_ids[doc], start, end)

    def as_lists(self) -> list[list[Any]]:
        """The JSON form: ``[[doc_id, start, end], ...]``."""
        return [[r.doc_id, r.start, r.end] for r in self]

    def nbytes(self) -> int:
        """Bytes held by the arrays and the id list (the ids' strings are shared with documents)."""
        return self.doc.nbytes + self.start.nbytes + self.end.nbytes + 8 * len(self.doc_ids)


@dataclass
class IndexData:
    """Everything one index version holds, in memory.

    ``passage_store`` is the float32 matrix while a build assembles it, and the FAISS index once
    loaded (it holds the only copy of the passage vectors). ``sentence_codes`` are int8 codes
    (``quantize_sentences``); ``sentence_rows`` dequantises the rows asked for.
    """

    documents: dict[str, Document]
    passages: Spans
    passage_store: np.ndarray | faiss.Index
    sentences: Spans
    sentence_codes: np.ndarray
    # What each sentence-level unit is (``qa.layout.Kind``: prose, heading, list item, table
    # row, code): an answer is chosen among prose and list items only.
    sentence_kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    manifest: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.passages, Spans):
            self.passages = Spans.of(self.passages)
        if not isinstance(self.sentences, Spans):
            self.sentences = Spans.of(self.sentences)
        if len(self.sentence_kinds) != len(self.sentences):  # built by a tool that sets none
            self.sentence_kinds = np.zeros(len(self.sentences), np.int8)

    @property
    def dimension(self) -> int:
        store = self.passage_store
        return int(store.shape[1]) if isinstance(store, np.ndarray) else int(store.d)

    def passage_rows(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """float32 vectors of the given passage rows (as FAISS scores them)."""
        store = self.passage_store
        index = np.asarray(rows, dtype=np.int64)
        if isinstance(store, np.ndarray):
            return np.asarray(store[index], dtype=np.float32)
        if isinstance(store, faiss.IndexFlat):  # fancy indexing copies out of FAISS's memory
            view = faiss.rev_swig_ptr(store.get_xb(), store.ntotal * store.d)
            return view.reshape(store.ntotal, store.d)[index]
        if not len(index):
            return np.zeros((0, store.d), np.float32)
        return np.asarray(store.reconstruct_batch(index), dtype=np.float32)

    @property
    def passage_vectors(self) -> np.ndarray:
        """All passage vectors as one float32 matrix: a copy (decoded, for an HNSW index) that
        outlives the index; for building, benchmarks and tools, not for serving."""
        store = self.passage_store
        if isinstance(store, np.ndarray):
            return store
        return np.asarray(store.reconstruct_n(0, store.ntotal), dtype=np.float32).reshape(
            store.ntotal, store.d
        )

    def sentence_rows(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """float32 (dequantised) vectors of the given sentence rows."""
        return dequantize_sentences(self.sentence_codes[np.asarray(rows, dtype=np.int64)])

    def nbytes(self) -> dict[str, int]:
        """Bytes this version holds in memory apart from the text: vectors and positions."""
        store = self.passage_store
        return {
            "passage_vectors": int(store.nbytes)
            if isinstance(store, np.ndarray)
            else faiss_memory_bytes(store),
            "sentence_vectors": int(self.sentence_codes.nbytes),
            "positions": self.passages.nbytes() + self.sentences.nbytes(),
        }

    def passage_text(self, i: int) -> str:
        record = self.passages[i]
        return self.documents[record.doc_id].text[record.start : record.end]

    def sentence_text(self, i: int) -> str:
        record = self.sentences[i]
        return self.documents[record.doc_id].text[record.start : record.end]
