"""The Milvus store: index versions kept in Milvus, so that any number of API servers on any
machines answer from one index, with no files of their own.

A version is three collections, named ``<prefix><version>__<part>``:

- ``passages``: one row per passage: where it lies (doc_id, start, end), its dense vector (exact
  FLAT index for small corpora, HNSW for large, inner product) and its BM25 weights as a sparse
  vector (inner product with the question's word counts is the BM25 score);
- ``sentences``: one row per sentence-level unit: where it lies, its kind and its vector;
- ``meta``: the documents (texts included, so citations can be served and checked anywhere), the
  lexical vocabulary and the manifest, as JSON split into parts.

The alias ``<prefix>current`` names the published version's passages collection: switching it
publishes a version in one step, so a question sees a whole version or none of it, an updated
document never shows old and new passages together, and a deleted one is gone once the write
that removed it returns. A crashed build leaves the alias where it was.

The lexical leg uses sparse vectors computed here, with the embedded store's BM25 (the same
tokenizer, IDF and weights), not Milvus's BM25 function: the scores are then the embedded
store's, so the answers are too; and Milvus Lite's BM25 (negated distances, IDF per segment)
would differ from the server's. Lite's other differences are kept in ``_connect``.

Served processes keep the documents, spans, sentence codes and vocabulary of the version they
answer from in memory (about what the embedded store keeps apart from FAISS and BM25); dense
and lexical search and passage vectors stay in Milvus.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from qa.documents import Document
from qa.errors import IndexCorrupt, IndexMissing, QAError
from qa.store.lexical import build_bm25
from qa.store.records import IndexData, Spans
from qa.store.vectors import dequantize_sentences, quantize_sentences
from qa.store.versions import (
    FORMAT_VERSION,
    KEEP_OLD_VERSIONS,
    MANIFEST_CHECKSUM,
    check_spans,
    manifest_checksum,
    new_version_name,
)
from qa.text import bm25_tokenize

log = logging.getLogger(__name__)

INSERT_BATCH = 1000  # rows per insert call: well under Milvus's 64 MB message limit at 384 dims
PART_CHARS = 16_000  # JSON characters per meta row: at most 64,000 UTF-8 bytes (VARCHAR: 65,535)
READ_BATCH = 4000  # rows per page when a version is read back
NO_WORDS = 0  # the sparse dimension of a passage without words (Milvus refuses empty vectors)


def _connect(uri: str, token: str) -> Any:
    """A ``MilvusClient``; a local file path is Milvus Lite (tests, laptops), a URL a server.

    Imported here so the default install (without ``[scale]``) never needs pymilvus. Milvus
    Lite's differences from a server stay here: its in-process gRPC server logs every call it
    does not implement (the timestamp pymilvus asks for while an index is created, which then
    waits anyway) and gRPC's keepalive complaints; neither means anything went wrong."""
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")  # before gRPC is first imported
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise QAError(
            "QA_STORE=milvus needs pymilvus: pip install '.[scale]' (see docs/scale.md)"
        ) from None
    if "://" not in uri:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    return MilvusClient(uri=uri, token=token)


def _milvus_name(version: str) -> str:
    """Collection names allow letters, digits and underscores; version names hold no underscore,
    so the mapping goes both ways."""
    return version.replace("-", "_")


class MilvusStore:
    """``Store`` over a Milvus server, cluster or Lite file."""

    kind = "milvus"

    def __init__(self, uri: str, token: str = "", prefix: str = "qa_") -> None:
        self.uri = uri
        self.client = _connect(uri, token)
        self.prefix = prefix
        self.alias = f"{prefix}current"

    # --- names ---------------------------------------------------------------------------

    def collection(self, version: str, part: str) -> str:
        return f"{self.prefix}{_milvus_name(version)}__{part}"

    def _versions_present(self) -> list[str]:
        """Versions with a meta collection, whether complete or not, newest first."""
        found = []
        for name in self.client.list_collections():
            if name.startswith(self.prefix) and name.endswith("__meta"):
                found.append(name[len(self.prefix) : -len("__meta")].replace("_", "-"))
        return sorted(found, reverse=True)

    # --- reading -------------------------------------------------------------------------

    def current_version(self) -> str:
        if self.alias not in self.client.list_aliases().get("aliases", []):
            raise IndexMissing(f"no index in Milvus ({self.alias}); run: qa index build")
        target = self.client.describe_alias(self.alias)["collection_name"]
        if not (target.startswith(self.prefix) and target.endswith("__passages")):
            raise IndexCorrupt(f"alias {self.alias} names {target}, not a qa version")
        return str(target[len(self.prefix) : -len("__passages")].replace("_", "-"))

    def version_names(self) -> list[str]:
        return self._versions_present()

    def read_manifest(self, version: str) -> dict[str, Any]:
        self._load(version)
        manifest = json.loads(self._read_blob(version, "manifest") or "null")
        if not isinstance(manifest, dict):
            raise IndexCorrupt(f"{version}: no manifest (an unfinished build?)")
        return manifest

    def read_documents(self, version: str) -> dict[str, Document]:
        manifest = self.read_manifest(version)
        raw = self._read_blob(version, "documents")
        if hashlib.sha256(raw.encode()).hexdigest() != manifest.get("documents_sha256"):
            raise IndexCorrupt(f"{version}: the documents do not match their checksum")
        try:
            return {d["doc_id"]: Document(**d) for d in json.loads(raw)}
        except (ValueError, TypeError, KeyError) as error:
            raise IndexCorrupt(f"{version}: {error}") from None

    def verify(self, version: str | None = None) -> dict[str, Any]:
        version = version or self.current_version()
        if version not in self._versions_present():
            raise IndexCorrupt(f"{version} does not exist in Milvus")
        manifest = self.read_manifest(version)
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexCorrupt(f"{version}: format version {manifest.get('format_version')}")
        if manifest.get(MANIFEST_CHECKSUM) != manifest_checksum(manifest):
            raise IndexCorrupt(f"{version}: the manifest does not match its checksum")
        counts = manifest.get("counts", {})
        for part, key in (("passages", "passages"), ("sentences", "sentences")):
            held = self._row_count(self.collection(version, part))
            if held != counts.get(key):
                raise IndexCorrupt(f"{version}: {held} {part} for {counts.get(key)} listed")
        return manifest

    def open(self, version: str | None = None) -> MilvusIndex:
        version = version or self.current_version()
        manifest = self.verify(version)
        documents = self.read_documents(version)
        vocabulary = json.loads(self._read_blob(version, "vocabulary"))
        counts = manifest["counts"]
        passages = self._read_rows(
            version, "passages", ["doc_id", "start", "end"], counts["passages"]
        )
        sentences = self._read_rows(
            version, "sentences", ["doc_id", "start", "end", "kind", "vector"], counts["sentences"]
        )
        dimension = int(manifest["dimension"])
        codes = quantize_sentences(
            np.asarray([row["vector"] for row in sentences], np.float32).reshape(-1, dimension)
        )
        data = IndexData(
            documents=documents,
            passages=Spans.of([(r["doc_id"], r["start"], r["end"]) for r in passages]),
            passage_store=np.zeros((0, dimension), np.float32),  # vectors stay in Milvus
            sentences=Spans.of([(r["doc_id"], r["start"], r["end"]) for r in sentences]),
            sentence_codes=codes,
            sentence_kinds=np.asarray([r["kind"] for r in sentences], np.int8),
            manifest=manifest,
        )
        check_spans(version, data)
        return MilvusIndex(self, data, vocabulary, version, manifest.get("built_at", ""))

    def open_newest_intact(self) -> tuple[MilvusIndex, str | None]:
        try:
            return self.open(), None
        except IndexCorrupt as error:
            reason = str(error)
        try:
            current = self.current_version()
        except IndexCorrupt:
            current = ""
        for older in self._versions_present():
            if older >= current and current:
                continue  # the current one failed; newer ones were never published
            try:
                loaded = self.open(older)
            except IndexCorrupt:
                continue
            log.error(
                "current index is corrupt (%s); serving the previous version %s", reason, older
            )
            return loaded, (
                f"current index corrupt ({reason}); serving previous version {older} "
                "until the next rebuild"
            )
        raise IndexCorrupt(reason)

    def _row_count(self, name: str) -> int:
        self.client.flush(name)
        return int(self.client.get_collection_stats(name)["row_count"])

    def _read_rows(
        self, version: str, part: str, fields: list[str], count: int
    ) -> list[dict[str, Any]]:
        """Every row of a version's collection, in row order, read in pages of row numbers
        (plain queries: Milvus Lite has no query iterator's timestamps)."""
        name = self.collection(version, part)
        rows: list[dict[str, Any]] = []
        for first in range(0, count, READ_BATCH):
            rows += self.client.query(
                name,
                filter=f"row >= {first} and row < {first + READ_BATCH}",
                output_fields=["row", *fields],
                limit=READ_BATCH,
            )
        rows.sort(key=lambda r: r["row"])
        if [r["row"] for r in rows] != list(range(count)):
            raise IndexCorrupt(f"{version}: {part} rows are not numbered 0..{count - 1}")
        return rows

    def _load(self, version: str) -> None:
        """Make a version's collections searchable: a restarted Milvus (and every new Milvus
        Lite process) holds collections released until they are loaded."""
        from pymilvus.exceptions import MilvusException

        for part in ("meta", "passages", "sentences"):
            name = self.collection(version, part)
            try:
                if not self.client.has_collection(name):
                    raise IndexCorrupt(f"{version}: its {part} collection is missing")
                state = str(self.client.get_load_state(name).get("state", ""))
                if not state.endswith("Loaded"):
                    self.client.load_collection(name)
            except MilvusException as error:
                raise IndexCorrupt(f"{version}: {part} cannot be loaded ({error})") from None

    def _read_blob(self, version: str, name: str) -> str:
        """A JSON text written by ``_blob_rows``, parts joined in order; "" if absent."""
        from pymilvus.exceptions import MilvusException

        try:
            rows = self.client.query(
                self.collection(version, "meta"),
                filter=f'key like "{name}#%"',
                output_fields=["key", "body"],
                limit=16_384,
            )
        except MilvusException as error:
            raise IndexCorrupt(f"{version}: its metadata cannot be read ({error})") from None
        parts = sorted(rows, key=lambda r: int(r["key"].rsplit("#", 1)[1]))
        return "".join(r["body"] for r in parts)

    # --- writing -------------------------------------------------------------------------

    def write(self, data: IndexData, index_type: str, hnsw_m: int, ef_search: int) -> str:
        """Write every collection of a new version, then switch the alias to it."""
        self.clean_temp()
        version = new_version_name()
        dimension = int(data.passage_vectors.shape[1])
        try:
            vocabulary = self._write_passages(version, data, index_type, hnsw_m, dimension)
            self._write_sentences(version, data, dimension)
            documents = json.dumps([asdict(d) for d in data.documents.values()], ensure_ascii=False)
            manifest = dict(data.manifest)
            manifest.update(
                format_version=FORMAT_VERSION,
                version=version,
                built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                store="milvus",
                index_type=index_type,
                ef_search=ef_search if index_type == "hnsw" else None,
                dimension=dimension,
                counts={
                    "documents": len(data.documents),
                    "passages": len(data.passages),
                    "sentences": len(data.sentences),
                },
                documents_sha256=hashlib.sha256(documents.encode()).hexdigest(),
            )
            manifest[MANIFEST_CHECKSUM] = manifest_checksum(manifest)
            self._write_meta(
                version,
                [
                    ("documents", documents),
                    ("vocabulary", json.dumps(vocabulary, ensure_ascii=False)),
                    ("manifest", json.dumps(manifest, ensure_ascii=False)),  # last: complete
                ],
            )
            self._publish(version)
        except BaseException:
            self._drop(version)
            raise
        self._remove_old_versions(keep=version)
        return version

    def _write_passages(
        self, version: str, data: IndexData, index_type: str, hnsw_m: int, dimension: int
    ) -> dict[str, int]:
        from pymilvus import DataType

        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        schema.add_field("lexical", DataType.SPARSE_FLOAT_VECTOR)
        index = self.client.prepare_index_params()
        if index_type == "hnsw":
            params = {"M": hnsw_m, "efConstruction": 160}
            index.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params=params)
        else:
            index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        index.add_index(field_name="lexical", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        name = self.collection(version, "passages")
        self.client.create_collection(name, schema=schema, index_params=index)

        texts = [data.passage_text(i) for i in range(len(data.passages))]
        weights, vocabulary = _bm25_rows(texts)
        vectors = data.passage_vectors
        rows = (
            {
                "row": i,
                "doc_id": span.doc_id,
                "start": span.start,
                "end": span.end,
                "vector": vectors[i].tolist(),
                "lexical": weights[i],
            }
            for i, span in enumerate(data.passages)
        )
        self._insert(name, rows)
        return vocabulary

    def _write_sentences(self, version: str, data: IndexData, dimension: int) -> None:
        from pymilvus import DataType

        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("kind", DataType.INT8)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        index = self.client.prepare_index_params()
        index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        name = self.collection(version, "sentences")
        self.client.create_collection(name, schema=schema, index_params=index)
        vectors = dequantize_sentences(data.sentence_codes)
        rows = (
            {
                "row": i,
                "doc_id": span.doc_id,
                "start": span.start,
                "end": span.end,
                "kind": int(data.sentence_kinds[i]),
                "vector": vectors[i].tolist(),
            }
            for i, span in enumerate(data.sentences)
        )
        self._insert(name, rows)

    def _write_meta(self, version: str, blobs: list[tuple[str, str]]) -> None:
        """JSON texts in parts; Milvus wants a vector field in every collection, so a 2-d one
        that is never searched."""
        from pymilvus import DataType

        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=128)
        schema.add_field("body", DataType.VARCHAR, max_length=65_535)
        schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
        index = self.client.prepare_index_params()
        index.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
        name = self.collection(version, "meta")
        self.client.create_collection(name, schema=schema, index_params=index)
        for blob, text in blobs:
            parts = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
            rows = (
                {"key": f"{blob}#{n}", "body": part, "unused": [0.0, 0.0]}
                for n, part in enumerate(parts)
            )
            self._insert(name, rows)

    def _insert(self, name: str, rows: Iterator[dict[str, Any]]) -> None:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == INSERT_BATCH:
                self.client.insert(name, batch)
                batch = []
        if batch:
            self.client.insert(name, batch)
        self.client.flush(name)

    def _publish(self, version: str) -> None:
        target = self.collection(version, "passages")
        if self.alias in self.client.list_aliases().get("aliases", []):
            self.client.alter_alias(target, self.alias)
        else:
            self.client.create_alias(target, self.alias)

    def _drop(self, version: str) -> None:
        for part in ("passages", "sentences", "meta"):
            name = self.collection(version, part)
            try:
                if self.client.has_collection(name):
                    self.client.drop_collection(name)
            except Exception as error:  # cleaning up after a failure: report, don't mask it
                log.warning("could not drop %s: %s", name, error)

    def _remove_old_versions(self, keep: str) -> None:
        """Drop all but the newest previous version (requests in flight may still read it)."""
        older = [v for v in self._versions_present() if v < keep]
        for version in older[KEEP_OLD_VERSIONS:]:
            self._drop(version)

    def clean_temp(self) -> None:
        """Drop the collections of versions newer than the published one: builds that stopped
        before publishing. Only a holder of the build lock may call this."""
        try:
            current = self.current_version()
        except IndexMissing:
            current = ""
        names = self.client.list_collections()
        started = {
            n[len(self.prefix) :].rsplit("__", 1)[0].replace("_", "-")
            for n in names
            if n.startswith(self.prefix) and "__" in n
        }
        for version in started:
            if version > current:
                self._drop(version)


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

    def dense_search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        hits = self.client.search(
            self.passages,
            data=[np.asarray(vector, np.float32).tolist()],
            anns_field="vector",
            limit=k,
            search_params=self._dense_params,
            output_fields=["row"],
        )[0]
        rows = np.array([hit["row"] for hit in hits], np.int64)
        return rows, np.array([hit["distance"] for hit in hits], np.float64)

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
            if len(self._stems) < 200_000:
                self._stems[row] = found
        return found

    def passage_vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        wanted = [int(r) for r in rows]
        if not wanted:
            return np.zeros((0, self.dimension), np.float32)
        found = self.client.get(self.passages, ids=wanted, output_fields=["vector"])
        by_row = {int(r["row"]): r["vector"] for r in found}
        return np.asarray([by_row[r] for r in wanted], np.float32)

    def sentence_vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.data.sentence_rows(rows)

    def memory_bytes(self) -> dict[str, int]:
        return {**self.data.nbytes(), "vocabulary": 64 * len(self.vocabulary)}


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
