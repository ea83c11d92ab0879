"""One Milvus version opened for questions: the Milvus store's ``SearchIndex``.

Dense and lexical search and passage vectors go to Milvus; the documents, spans, sentence codes
and vocabulary of the version were read once when it was opened (``MilvusStore.open``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.store.records import IndexData
from qa.text import bm25_tokenize

if TYPE_CHECKING:
    from qa.store.milvus import MilvusStore

STEMS_CACHE = 200_000  # passages whose words are kept between questions (about 40 MB)
VECTORS_CACHE = 20_000  # passage vectors kept between questions (about 30 MB at 384 dimensions)


class MilvusIndex:
    """One Milvus version opened for questions (the Milvus store's ``SearchIndex``)."""

    def __init__(
        self,
        store: MilvusStore,
        data: IndexData,
        vocabulary: dict[str, int],
        version: str,
        built_at: str,
    ) -> None:
        self.store = store
        self.client = store.client
        self.data = data
        self.vocabulary = vocabulary
        self.version = version
        self.built_at = built_at
        self.passages = store.collection(version, "passages")
        self.dimension = int(data.manifest["dimension"])
        ef = data.manifest.get("ef_search")
        self._dense_params: dict[str, Any] = {"metric_type": "IP"}
        if isinstance(ef, int):
            self._dense_params["params"] = {"ef": ef}
        self._stems: dict[int, frozenset[str]] = {}
        # Vectors of passages a dense search returned, so that scoring them again (near-duplicate
        # folding) needs no second round trip; bounded, the oldest dropped first.
        self._vectors: dict[int, np.ndarray] = {}

    def dense_search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        hits = self.client.search(
            self.passages,
            data=[np.asarray(vector, np.float32).tolist()],
            anns_field="vector",
            limit=k,
            search_params=self._dense_params,
            output_fields=["row", "vector"],
        )[0]
        rows = np.array([hit["row"] for hit in hits], np.int64)
        self._remember({int(hit["row"]): hit["entity"]["vector"] for hit in hits})
        return rows, np.array([hit["distance"] for hit in hits], np.float64)

    def _remember(self, vectors: dict[int, Any]) -> None:
        for row, vector in vectors.items():
            self._vectors.pop(row, None)
            self._vectors[row] = np.asarray(vector, np.float32)
        while len(self._vectors) > VECTORS_CACHE:
            self._vectors.pop(next(iter(self._vectors)))

    def _query_weights(self, tokens: list[str]) -> dict[int, float]:
        """The question as a sparse vector: each known word's count (BM25 counts a word as often
        as the question repeats it)."""
        counts: dict[int, float] = {}
        for token in tokens:
            number = self.vocabulary.get(token)
            if number is not None:
                counts[number] = counts.get(number, 0.0) + 1.0
        return counts

    def _lexical(self, tokens: list[str], k: int, where: str = "") -> dict[int, float]:
        query = self._query_weights(tokens)
        if not query or k <= 0:
            return {}
        hits = self.client.search(
            self.passages,
            data=[query],
            anns_field="lexical",
            filter=where,
            limit=k,
            search_params={"metric_type": "IP"},
            output_fields=["row"],
        )[0]
        return {int(hit["row"]): float(hit["distance"]) for hit in hits if hit["distance"] > 0}

    def lexical_search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        found = self._lexical(tokens, k)
        rows = np.array(sorted(found), np.int64)
        return rows, np.array([found[r] for r in rows.tolist()], np.float64)

    def lexical_scores(self, tokens: list[str], rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0, np.float64)
        listed = ",".join(str(int(r)) for r in rows)
        found = self._lexical(tokens, len(rows), where=f"row in [{listed}]")
        return np.array([found.get(int(r), 0.0) for r in rows], np.float64)

    def term_presence(self, tokens: list[str], rows: np.ndarray) -> dict[str, np.ndarray]:
        """Read off the passages' own words (the same tokenizer as the sparse vectors)."""
        stems = [self._passage_stems(int(r)) for r in rows]
        return {t: np.array([t in s for s in stems], dtype=bool) for t in tokens}

    def _passage_stems(self, row: int) -> frozenset[str]:
        found = self._stems.get(row)
        if found is None:
            found = frozenset(bm25_tokenize(self.data.passage_text(row)))
            if len(self._stems) < STEMS_CACHE:
                self._stems[row] = found
        return found

    def passage_vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        wanted = [int(r) for r in rows]
        if not wanted:
            return np.zeros((0, self.dimension), np.float32)
        cached = self._vectors  # other requests may change it meanwhile: take what is needed
        known = {r: v for r in wanted if (v := cached.get(r)) is not None}
        missing = [r for r in wanted if r not in known]
        if missing:
            found = self.client.get(self.passages, ids=missing, output_fields=["vector"])
            fetched = {int(r["row"]): np.asarray(r["vector"], np.float32) for r in found}
            known.update(fetched)
            self._remember(fetched)
        return np.asarray([known[r] for r in wanted], np.float32)

    def sentence_vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.data.sentence_rows(rows)

    def memory_bytes(self) -> dict[str, int]:
        return {**self.data.nbytes(), "vocabulary": 64 * len(self.vocabulary)}
