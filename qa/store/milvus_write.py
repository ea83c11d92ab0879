"""Writing a version into Milvus: its three collections filled in batches, then published by
switching the alias (``MilvusStore.publish``); on any failure, what was written is dropped."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.store.lexical import build_bm25
from qa.store.records import DocumentSpan, IndexData
from qa.store.vectors import dequantize_sentences
from qa.store.versions import new_version_name, sealed_manifest

if TYPE_CHECKING:
    from qa.store.milvus import MilvusStore

INSERT_BATCH = 1000  # rows per insert call: well under Milvus's 64 MB message limit at 384 dims
PART_CHARS = 16_000  # JSON characters per meta row: at most 64,000 UTF-8 bytes (VARCHAR: 65,535)
NO_WORDS = 0  # the sparse dimension of a passage without words (Milvus refuses empty vectors)


def write_version(
    store: MilvusStore, data: IndexData, index_type: str, hnsw_m: int, ef_search: int
) -> str:
    """Write every collection of a new version, then switch the alias to it."""
    store.clean_temp()
    version = new_version_name()
    dimension = int(data.passage_vectors.shape[1])
    try:
        vocabulary = write_passages(store, version, data, index_type, hnsw_m, dimension)
        _write_sentences(store, version, data, dimension)
        documents = json.dumps([asdict(d) for d in data.documents.values()], ensure_ascii=False)
        manifest = sealed_manifest(
            data,
            version,
            index_type,
            ef_search,
            store="milvus",
            dimension=dimension,
            documents_sha256=hashlib.sha256(documents.encode()).hexdigest(),
        )
        _write_meta(
            store,
            version,
            [
                ("documents", documents),
                ("vocabulary", json.dumps(vocabulary, ensure_ascii=False)),
                ("manifest", json.dumps(manifest, ensure_ascii=False)),  # last: complete
            ],
        )
        store.publish(version)
    except BaseException:
        store.drop(version)
        raise
    store.remove_old_versions(keep=version)
    return version


def write_passages(
    store: MilvusStore, version: str, data: IndexData, index_type: str, hnsw_m: int, dimension: int
) -> dict[str, int]:
    from pymilvus import DataType

    schema = _span_schema(store, dimension)
    schema.add_field("lexical", DataType.SPARSE_FLOAT_VECTOR)
    index = store.client.prepare_index_params()
    if index_type == "hnsw":
        params = {"M": hnsw_m, "efConstruction": 160}
        index.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params=params)
    else:
        index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    index.add_index(field_name="lexical", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    name = store.collection(version, "passages")
    store.client.create_collection(
        name, schema=schema, index_params=index, consistency_level="Strong"
    )

    texts = [data.passage_text(i) for i in range(len(data.passages))]
    weights, vocabulary = _bm25_rows(texts)
    vectors = data.passage_vectors
    rows = (
        {**_span_row(i, span, vectors[i]), "lexical": weights[i]}
        for i, span in enumerate(data.passages)
    )
    _insert(store, name, rows)
    return vocabulary


def _span_schema(store: MilvusStore, dimension: int) -> Any:
    """The fields passages and sentence units share: row number, where it lies, its vector."""
    from pymilvus import DataType

    schema = store.client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    return schema


def _span_row(row: int, span: DocumentSpan, vector: np.ndarray) -> dict[str, Any]:
    return {
        "row": row,
        "doc_id": span.doc_id,
        "start": span.start,
        "end": span.end,
        "vector": vector.tolist(),
    }


def _write_sentences(store: MilvusStore, version: str, data: IndexData, dimension: int) -> None:
    from pymilvus import DataType

    schema = _span_schema(store, dimension)
    schema.add_field("kind", DataType.INT8)
    index = store.client.prepare_index_params()
    index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    name = store.collection(version, "sentences")
    store.client.create_collection(
        name, schema=schema, index_params=index, consistency_level="Strong"
    )
    vectors = dequantize_sentences(data.sentence_codes)
    rows = (
        {**_span_row(i, span, vectors[i]), "kind": int(data.sentence_kinds[i])}
        for i, span in enumerate(data.sentences)
    )
    _insert(store, name, rows)


def _write_meta(store: MilvusStore, version: str, blobs: list[tuple[str, str]]) -> None:
    """JSON texts in parts; Milvus wants a vector field in every collection, so a 2-d one
    that is never searched."""
    from pymilvus import DataType

    schema = store.client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=128)
    schema.add_field("body", DataType.VARCHAR, max_length=65_535)
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
    index = store.client.prepare_index_params()
    index.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
    name = store.collection(version, "meta")
    store.client.create_collection(
        name, schema=schema, index_params=index, consistency_level="Strong"
    )
    for blob, text in blobs:
        parts = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
        rows = (
            {"key": f"{blob}#{n}", "body": part, "unused": [0.0, 0.0]}
            for n, part in enumerate(parts)
        )
        _insert(store, name, rows)


def _insert(store: MilvusStore, name: str, rows: Iterator[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == INSERT_BATCH:
            store.client.insert(name, batch)
            batch = []
    if batch:
        store.client.insert(name, batch)
    store.client.flush(name)


def _bm25_rows(texts: list[str]) -> tuple[list[dict[int, float]], dict[str, int]]:
    """Each passage's BM25 weights as a sparse vector, and the word numbering they use.

    The weights are the embedded store's (``build_bm25``): one score per (word, passage) with
    the collection's IDF folded in, so the inner product with the question's word counts is the
    passage's BM25 score. Word numbers start at 1; 0 marks a passage without words."""
    bm25 = build_bm25(texts)
    scores = bm25.scores
    indptr, indices = scores["indptr"], scores["indices"]
    values = scores["data"].astype(np.float32)
    vocabulary = {word: int(number) + 1 for word, number in bm25.vocab_dict.items()}
    words = np.repeat(np.arange(len(indptr) - 1) + 1, np.diff(indptr))  # the word of each score
    keep = (values > 0) & (indices < len(texts))
    order = np.argsort(indices[keep], kind="stable")
    passage, word, value = indices[keep][order], words[keep][order], values[keep][order]
    bounds = np.searchsorted(passage, np.arange(len(texts) + 1))
    rows: list[dict[int, float]] = []
    for row in range(len(texts)):
        span = slice(int(bounds[row]), int(bounds[row + 1]))
        weights = dict(zip(word[span].tolist(), value[span].tolist(), strict=True))
        rows.append(weights or {NO_WORDS: 1.0})
    return rows, vocabulary
