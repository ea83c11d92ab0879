"""Exact vs HNSW search at 100k and 1M vectors: latency, recall@10 against exact, and size.

Embedding a million passages on two cores takes hours, so the vectors are real passage vectors
each moved by noise shaped like the real passages' own spread (their covariance): a synthetic
passage differs from a real one as two real passages differ from each other. Isotropic noise
would be far harder than text (every direction equally likely: no low-dimensional structure)
and would make clusters of near-ties that no index could rank, so it is not used.
The HNSW index is built with the store's own function and searched with the served efSearch, so
its parameters (M, efConstruction, 8-bit codes over a fixed range) are the served ones; recall@10
is measured against exact float32 search, so it includes what the 8-bit codes lose.

Memory is reported per passage as a served version holds it apart from the text: the FAISS index
(graph and codes), the int8 sentence vectors (at the corpus's sentences per passage) and the
passage and sentence positions, counted by the store's own ``IndexData.nbytes``; plus the BM25
postings per passage of the real corpus the vectors come from (a million texts are not built).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench.measure import latency_summary, progress
from qa.config import DEFAULT_EF_SEARCH, Settings
from qa.store import IndexData, Spans, build_faiss_index, faiss_memory_bytes

_CHUNK = 100_000
# The bench corpus (2,000 passages from the seeds) has 5,801 sentences: 2.90 a passage.
SENTENCES_PER_PASSAGE = 2.9
PASSAGES_PER_DOCUMENT = 10.0
_CANDIDATES = int(Settings.model_fields["candidates"].default)  # retrieval's FAISS k


def noisy_vectors(base: np.ndarray, count: int, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """``count`` unit vectors: random base rows plus covariance-shaped noise (built in chunks)."""
    rng = np.random.default_rng(seed)
    dimension = base.shape[1]
    centred = base - base.mean(axis=0)
    covariance = centred.T @ centred / max(1, len(base) - 1)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance.astype(np.float64))
    shape = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))).astype(np.float32)
    out = np.empty((count, dimension), dtype=np.float32)
    for begin in range(0, count, _CHUNK):
        size = min(_CHUNK, count - begin)
        rows = base[rng.integers(0, len(base), size)]
        noise = rng.standard_normal((size, dimension), dtype=np.float32) @ shape.T
        chunk = rows + scale * noise
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        out[begin : begin + size] = chunk
    return out


def _index_bytes(index: faiss.Index) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "index.faiss"
        faiss.write_index(index, str(path))
        return path.stat().st_size


def _search_each(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    """One query at a time, as a request would: the rows found and each search's latency."""
    rows = np.empty((len(queries), k), dtype=np.int64)
    latencies = []
    for i, query in enumerate(queries):
        began = time.perf_counter()
        _, found = index.search(query[None, :], k)
        latencies.append((time.perf_counter() - began) * 1000)
        rows[i] = found[0]
    return rows, latencies


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f) & set(t)) for f, t in zip(found, truth, strict=True))
    return round(hits / truth.size, 4)


def memory_per_passage(
    index: faiss.Index,
    sentences_per_passage: float = SENTENCES_PER_PASSAGE,
    bm25_bytes_per_passage: float = 0.0,
    passages_per_document: float = PASSAGES_PER_DOCUMENT,
) -> dict[str, Any]:
    """Bytes per passage a served version holds in memory apart from the text, for an index of
    ``index.ntotal`` passages: the store's own accounting (``IndexData.nbytes``) of a version with
    this FAISS index, its sentence codes and its positions, plus BM25 as measured on a real
    corpus. The zero arrays stand in for real ones of the same shape and type (the pages of
    ``np.zeros`` are not touched)."""
    passages = int(index.ntotal)
    sentences = round(passages * sentences_per_passage)
    documents = max(1, round(passages / passages_per_document))

    def spans(count: int) -> Spans:
        zeros = np.zeros(count, np.int32)
        return Spans([f"d{i}" for i in range(documents)], zeros, zeros, zeros)

    data = IndexData(
        documents={},
        passages=spans(passages),
        passage_store=index,
        sentences=spans(sentences),
        sentence_codes=np.zeros((sentences, index.d), np.int8),
    )
    parts = {**data.nbytes(), "bm25": round(bm25_bytes_per_passage * passages)}
    per_passage = {f"{name}_bytes": round(value / passages, 1) for name, value in parts.items()}
    return {
        "sentences_per_passage": round(sentences / passages, 3),
        **per_passage,
        "total_bytes": round(sum(parts.values()) / passages, 1),
    }


def compare_exact_hnsw(
    base: np.ndarray,
    queries: np.ndarray,
    size: int,
    hnsw_m: int,
    ef_values: tuple[int, ...] = (16, 64, 128, 256, 512, 1024, 1536, 2048),
    k: int = 10,
    served: tuple[int, int] = (DEFAULT_EF_SEARCH, _CANDIDATES),
    sentences_per_passage: float = SENTENCES_PER_PASSAGE,
    bm25_bytes_per_passage: float = 0.0,
) -> dict[str, Any]:
    """Build both indexes over ``size`` noisy vectors and search each with the same queries.

    ``served`` is (efSearch, k) as retrieval uses them (by default the settings' defaults): it
    asks FAISS for ``candidates`` rows, and FAISS searches with max(efSearch, k); recall@10 is
    then of the top 10 of those rows. The HNSW index is built with the served efSearch, which
    FAISS saves with it. ``codes_exact`` is exact search over the HNSW index's own 8-bit codes:
    the recall no efSearch can pass, so the loss splits into quantisation and graph.
    """
    vectors = noisy_vectors(base, size)
    progress(f"large: {size} vectors; exact index")
    exact = build_faiss_index(vectors, "flat", hnsw_m)
    truth, exact_ms = _search_each(exact, queries, k)
    exact_served_ms = _search_each(exact, queries, served[1])[1]
    result: dict[str, Any] = {
        "vectors": size,
        "exact": {**latency_summary(exact_ms), "bytes_per_vector": _index_bytes(exact) / size},
        "exact_as_served": latency_summary(exact_served_ms),
    }
    del exact
    progress(f"large: {size} vectors; HNSW M={hnsw_m} build (slow)")
    began = time.perf_counter()
    hnsw: Any = build_faiss_index(vectors, "hnsw", hnsw_m, served[0])  # IndexHNSWSQ: has .hnsw
    result["hnsw_build_s"] = round(time.perf_counter() - began, 1)
    result["hnsw_type"] = type(hnsw).__name__
    result["hnsw_bytes_per_vector"] = round(_index_bytes(hnsw) / size, 1)  # as written to disk
    result["hnsw_memory_bytes_per_vector"] = round(faiss_memory_bytes(hnsw) / size, 1)
    result["memory_per_passage"] = memory_per_passage(
        hnsw, sentences_per_passage, bm25_bytes_per_passage
    )
    progress(f"large: {size} memory per passage: {result['memory_per_passage']}")
    codes = faiss.downcast_index(hnsw.storage)
    if isinstance(codes, faiss.IndexScalarQuantizer):
        found, codes_ms = _search_each(codes, queries, k)
        result["codes_exact"] = {
            **latency_summary(codes_ms),
            "recall_at_10": recall_at(found, truth),
        }
        progress(f"large: {size} exact search over the 8-bit codes: {result['codes_exact']}")
    result["hnsw"] = {}
    for ef in ef_values:
        hnsw.hnsw.efSearch = ef
        found, hnsw_ms = _search_each(hnsw, queries, k)
        result["hnsw"][f"ef{ef}"] = {
            **latency_summary(hnsw_ms),
            "recall_at_10": recall_at(found, truth),
        }
        progress(f"large: {size} HNSW efSearch={ef}: {result['hnsw'][f'ef{ef}']}")
    hnsw.hnsw.efSearch, width = served
    found, served_ms = _search_each(hnsw, queries, width)
    progress(f"large: {size} HNSW as served (efSearch={served[0]}, k={width})")
    result["hnsw_as_served"] = {
        "ef_search": served[0],
        "k": width,
        **latency_summary(served_ms),
        "recall_at_10": recall_at(found[:, :k], truth),
    }
    return result
