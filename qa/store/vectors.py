"""Passage vectors in FAISS and sentence vectors as int8 codes: compact, and fixed so they never drift.

Vectors are held compactly and once: passage vectors live only in the FAISS index (float32 in the
exact index of small corpora; 8-bit codes with a fixed range in the HNSW index of large ones), and
sentence vectors are int8 codes with a fixed scale, dequantised only for the rows a query scores.
Fixed (not data-dependent) scales mean an incremental build that reuses stored vectors re-encodes
them to the very same codes: nothing drifts however many builds reuse them.
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np

from qa.config import DEFAULT_EF_SEARCH

# --- compact vectors ------------------------------------------------------------------------

# Every component of a unit-length sentence-transformer vector lies in [-1, 1]; in practice those of
# all-MiniLM-L6-v2 stay within about +-0.26 (the largest seen in the 2,000-passage bench corpus:
# 0.253 over passages, 0.238 over sentences, 0.236 over questions). Codes cover +-CODE_RANGE; a
# rare larger component is clipped to it (an error of the order of one step). The range is a
# constant, never fitted to the data, so a code decoded and encoded again is the same code.
# At 1M bench vectors, exact search over such 8-bit codes finds 0.98 of the float32 top 10 with
# +-0.25, 0.97 with +-0.3 and 0.95 with +-0.5.
CODE_RANGE = 0.25
SENTENCE_SCALE = 127.0 / CODE_RANGE  # int8 sentence code = round(x * scale), in [-127, 127]


def quantize_sentences(vectors: np.ndarray) -> np.ndarray:
    """float vectors -> int8 codes with the fixed scale (round to nearest, clip)."""
    scaled = np.rint(np.asarray(vectors, dtype=np.float32) * np.float32(SENTENCE_SCALE))
    return np.clip(scaled, -127, 127).astype(np.int8)


def dequantize_sentences(codes: np.ndarray) -> np.ndarray:
    """int8 codes -> float32 vectors (what a query is compared with)."""
    return codes.astype(np.float32) * np.float32(1.0 / SENTENCE_SCALE)


HNSW_EF_CONSTRUCTION = 160  # 80 before: at 200k, recall@10 0.9715 -> 0.977 at efSearch 512


def build_faiss_index(
    vectors: np.ndarray, index_type: str, hnsw_m: int, ef_search: int = DEFAULT_EF_SEARCH
) -> faiss.Index:
    """Exact inner product (cosine on normalised vectors) or HNSW for large corpora.

    The HNSW index stores each vector as 8-bit codes over the fixed range +-CODE_RANGE (an
    ``IndexHNSWSQ`` whose quantiser is set, not trained), about 530 bytes a vector with M=16
    instead of 1.8 KB for float32. efSearch is saved with the index (FAISS writes it), so setting
    it here is what every later search uses; ``load_version`` sets it again from the manifest.
    """
    dimension = vectors.shape[1]
    index: faiss.Index
    if index_type == "hnsw":
        eight_bits: Any = faiss.ScalarQuantizer.QT_8bit_uniform
        index = faiss.IndexHNSWSQ(dimension, eight_bits, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        storage: Any = faiss.downcast_index(index.storage)
        fixed = np.array([-CODE_RANGE, 2 * CODE_RANGE], dtype=np.float32)  # (min, width)
        faiss.copy_array_to_vector(fixed, storage.sq.trained)
        storage.is_trained = index.is_trained = True
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = ef_search
    else:
        index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def search_one_thread(
    index: faiss.Index, vectors: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """``index.search`` for a question at a time, run on the calling thread alone.

    By default FAISS splits even one query's scan over every core, and the OpenMP helper then
    busy-waits for more work: at 10,000 passages one search took 1.9 ms and 3.8 ms of CPU that
    way, against 1.2 ms and 1.3 ms on one thread, and the spinning took the second core from the
    other requests in flight. The thread count is the calling thread's own OpenMP setting,
    restored afterwards, so a build on another thread still uses every core."""
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(vectors, k)  # type: ignore[no-any-return]
    finally:
        faiss.omp_set_num_threads(previous)


def faiss_memory_bytes(index: faiss.Index) -> int:
    """Bytes a FAISS index holds in memory: its vectors or codes, and an HNSW graph's links,
    levels and offsets (the arrays FAISS allocates; small fixed overheads left out)."""
    if isinstance(index, faiss.IndexFlat):
        return int(index.ntotal) * int(index.code_size)
    if hasattr(index, "hnsw"):
        graph_index: Any = index
        hnsw = graph_index.hnsw
        graph = 4 * (hnsw.neighbors.size() + hnsw.levels.size())
        graph += 8 * hnsw.offsets.size() + 8 * hnsw.assign_probas.size()
        graph += 4 * hnsw.cum_nneighbor_per_level.size()
        return int(graph) + faiss_memory_bytes(faiss.downcast_index(graph_index.storage))
    return int(index.ntotal) * int(getattr(index, "code_size", 4 * index.d))
