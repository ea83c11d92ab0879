"""Compact vectors: int8 sentence codes and 8-bit HNSW codes with fixed scales; half-precision
BM25 scores.

A reused vector must come back bit-identical however many incremental builds reuse it (a scale
fitted to the data would move every code a little on each build), and quantised scores must stay
within a small tolerance of the float scores they stand for.
"""

from __future__ import annotations

import json

import bm25s
import faiss
import numpy as np
import pytest

from qa.config import Settings
from qa.embedding import Embedder
from qa.errors import IndexCorrupt
from qa.indexer import build_index
from qa.service import QAService
from qa.store import (
    IndexData,
    Spans,
    bm25_scores,
    build_faiss_index,
    dequantize_sentences,
    load_version,
    quantize_sentences,
)
from qa.store import versions as store
from qa.store.vectors import CODE_RANGE
from qa.text import bm25_tokenize

EXTRA_DOCS = [
    "Lambeth children's services were rated requires improvement by inspectors in 2021.\n",
    "The Quillmarsh glass-eel festival was founded in 1873 by the lamp-maker Ottoline Vesk.\n",
    "Brisk river ferries ran every hour between the two harbours until the bridge opened.\n",
]


def hnsw_codes(index: faiss.Index) -> np.ndarray:
    """The raw 8-bit codes an HNSW index stores, one row per vector."""
    storage = faiss.downcast_index(index.storage)
    codes = faiss.vector_to_array(storage.codes)
    return codes.reshape(index.ntotal, storage.code_size)


def rows_of(data: IndexData, doc_ids: set[str], kind: str) -> list[int]:
    records = data.passages if kind == "passage" else data.sentences
    return [i for i, r in enumerate(records) if r.doc_id in doc_ids]


@pytest.mark.parametrize("index_type", ["flat", "hnsw"])
def test_reused_vectors_are_bit_identical_across_incremental_builds(
    settings: Settings, embedder: Embedder, index_type: str
) -> None:
    settings = settings.model_copy(update={"index_type": index_type})
    build_index(settings, embedder)
    first = load_version(settings.index_dir)
    seeds = set(first.data.documents)
    passage_rows = rows_of(first.data, seeds, "passage")
    sentence_rows = rows_of(first.data, seeds, "sentence")
    passages = first.data.passage_rows(passage_rows).tobytes()
    sentences = first.data.sentence_codes[sentence_rows].tobytes()
    codes = hnsw_codes(first.faiss_index)[passage_rows].tobytes() if index_type == "hnsw" else b""

    for number, text in enumerate(EXTRA_DOCS):  # three builds, each reusing the previous vectors
        (settings.docs_dir / f"extra-{number}.txt").write_text(text)
        report = build_index(settings, embedder)
        assert not report.full and report.embedded == 1  # the seeds were reused, not re-embedded
        loaded = load_version(settings.index_dir)
        assert loaded.data.manifest["index_type"] == index_type
        assert rows_of(loaded.data, seeds, "passage") == passage_rows  # seeds sort first
        assert loaded.data.passage_rows(passage_rows).tobytes() == passages
        assert loaded.data.sentence_codes[sentence_rows].tobytes() == sentences
        if index_type == "hnsw":
            assert hnsw_codes(loaded.faiss_index)[passage_rows].tobytes() == codes


def test_hnsw_codes_survive_decoding_and_encoding_again() -> None:
    """Decode every stored vector and build a new index from the result: the same codes, even
    when the new index holds other vectors too (a fitted scale would change with them)."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((300, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    first = build_faiss_index(vectors, "hnsw", 8)
    decoded = first.reconstruct_n(0, first.ntotal)
    more = rng.standard_normal((50, 32)).astype(np.float32) * 3  # wider: would move a fitted range
    second = build_faiss_index(np.vstack([decoded, more]), "hnsw", 8)
    assert np.array_equal(hnsw_codes(second)[:300], hnsw_codes(first))


def test_sentence_codes_round_trip_and_clip() -> None:
    vectors = np.array([[0.1, -0.2, 0.9, -0.9, 0.0]], dtype=np.float32)
    codes = quantize_sentences(vectors)
    assert codes.dtype == np.int8 and codes.min() >= -127 and codes.max() <= 127
    assert np.array_equal(quantize_sentences(dequantize_sentences(codes)), codes)
    step = CODE_RANGE / 127
    assert np.allclose(dequantize_sentences(codes)[0, :2], vectors[0, :2], atol=step / 2 + 1e-7)
    assert dequantize_sentences(codes)[0, 2] == pytest.approx(CODE_RANGE)  # clipped


def test_quantised_sentence_scores_are_close_to_float_scores(
    seeds_index: Settings, embedder: Embedder
) -> None:
    data = load_version(seeds_index.index_dir).data
    rows = list(range(0, len(data.sentences), max(1, len(data.sentences) // 120)))
    exact = embedder.encode([data.sentence_text(r) for r in rows])
    questions = embedder.encode(
        [
            "which borough stayed good in 2019",
            "how much is a digital membership",
            "who inspected children's services",
        ]
    )
    for question in questions:
        quantised = data.sentence_rows(rows) @ question
        floats = exact @ question
        assert np.max(np.abs(quantised - floats)) < 0.005
        assert np.corrcoef(quantised, floats)[0, 1] > 0.999


def full_precision_bm25(seeds_index: Settings) -> bm25s.BM25:
    """bm25s's own float32 index over the seeds' passages: what the stored scores stand for."""
    data = load_version(seeds_index.index_dir).data
    full = bm25s.BM25()
    full.index(
        [bm25_tokenize(data.passage_text(i)) for i in range(len(data.passages))],
        show_progress=False,
    )
    return full


def test_bm25_scores_are_stored_in_half_precision_and_summed_in_double(
    seeds_index: Settings,
) -> None:
    loaded = load_version(seeds_index.index_dir)
    assert loaded.bm25.scores["data"].dtype == np.float16
    full = full_precision_bm25(seeds_index)
    for question in ("which borough stayed good in 2019", "Ofsted inspection of Westminster"):
        tokens = bm25_tokenize(question)
        stored, exact = bm25_scores(loaded.bm25, tokens), full.get_scores(tokens)
        assert stored.dtype == np.float64
        assert np.max(np.abs(stored - exact)) <= 1e-3 * exact.max()
        assert np.argmax(stored) == np.argmax(exact)


@pytest.mark.parametrize(
    "question",
    ["which borough stayed good in 2019", "good good Ofsted", "zzqx unknownword", ""],
)
def test_bm25_scores_are_bm25s_own_scores(seeds_index: Settings, question: str) -> None:
    """Our bincount sum against bm25s's get_scores over the same arrays: repeated words count
    twice, unknown ones not at all."""
    bm25 = full_precision_bm25(seeds_index)
    tokens = bm25_tokenize(question)
    ours = bm25_scores(bm25, tokens)
    theirs = bm25.get_scores(tokens) if tokens else np.zeros(len(ours))
    assert ours.shape == theirs.shape
    assert np.allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_hnsw_index_serves_answers(settings: Settings, embedder: Embedder) -> None:
    settings = settings.model_copy(update={"index_type": "hnsw", "hnsw_ef_search": 300})
    build_index(settings, embedder)
    loaded = load_version(settings.index_dir)
    assert loaded.faiss_index.hnsw.efSearch == 300  # the configured efSearch is what serves
    assert isinstance(loaded.faiss_index, faiss.IndexHNSWSQ)
    service = QAService(settings, embedder=embedder)
    answer = service.ask("which borough stayed good in 2019")
    assert answer.found and answer.passages


def test_an_index_of_an_older_format_is_rebuilt_not_served(
    settings: Settings, embedder: Embedder
) -> None:
    first = build_index(settings, embedder)
    assert first.version is not None
    folder = settings.index_dir / first.version
    manifest = json.loads((folder / store.MANIFEST).read_text())
    manifest["format_version"] = 2
    manifest[store.MANIFEST_CHECKSUM] = store.manifest_checksum(manifest)
    (folder / store.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="format version 2 unsupported"):
        load_version(settings.index_dir)
    report = build_index(settings, embedder)  # incremental asked; an unreadable base means full
    assert report.full and report.embedded == report.passages == first.passages
    assert load_version(settings.index_dir).data.manifest["format_version"] == store.FORMAT_VERSION


def brute_force_sentences(data: IndexData, row: int) -> list[int]:
    passage = data.passages[row]
    inside = [
        (s.start, i)
        for i, s in enumerate(data.sentences)
        if s.doc_id == passage.doc_id and passage.start <= s.start < passage.end
        if s.end <= passage.end
    ]
    return [i for _, i in sorted(inside)]


def test_sentences_of_matches_the_definition_in_any_row_order(seeds_index: Settings) -> None:
    from qa.sentence_map import SentenceMap

    data = load_version(seeds_index.index_dir).data
    fast = SentenceMap(data)
    assert fast._order is None and not fast._filter_ends  # the fast path
    expected = [brute_force_sentences(data, row) for row in range(len(data.passages))]
    assert [fast.of(row) for row in range(len(data.passages))] == expected
    assert sum(map(len, expected)) >= len(data.sentences)  # passages overlap by a sentence

    # Rows in another order, and a sentence overlapping its neighbours: the slow paths.
    spans = data.sentences
    shuffled = np.random.default_rng(0).permutation(len(spans))
    doc, start, end = spans.doc[shuffled], spans.start[shuffled], spans.end[shuffled].copy()
    biggest = int(np.bincount(doc).argmax())  # its first sentence now runs to the end
    first = min(np.flatnonzero(doc == biggest), key=lambda i: start[i])
    end[first] = len(data.documents[spans.doc_ids[biggest]].text)
    data.sentences = Spans(spans.doc_ids, doc, start, end)
    data.sentence_kinds = data.sentence_kinds[shuffled]
    slow = SentenceMap(data)
    assert slow._order is not None and slow._filter_ends
    for row in range(len(data.passages)):
        assert slow.of(row) == brute_force_sentences(data, row)
