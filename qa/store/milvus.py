"""The Milvus store: index versions kept in Milvus, so that any number of API servers on any
machines answer from one index, with no files of their own.

This module reads, verifies, publishes and removes versions; ``milvus_write`` writes them and
``milvus_index`` searches an opened one. A version is three collections, named
``<prefix><version>__<part>``:

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
from pathlib import Path
from typing import Any

import numpy as np

from qa.documents import Document
from qa.errors import IndexCorrupt, IndexMissing, QAError
from qa.store.milvus_index import MilvusIndex
from qa.store.milvus_write import write_version
from qa.store.records import IndexData, Spans
from qa.store.vectors import quantize_sentences
from qa.store.versions import (
    FORMAT_VERSION,
    KEEP_OLD_VERSIONS,
    MANIFEST_CHECKSUM,
    check_spans,
    manifest_checksum,
)

log = logging.getLogger(__name__)

READ_BATCH = 4000  # rows per page when a version is read back


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
    # pymilvus pings an idle connection every 10 s; gRPC servers with the default policy (Milvus
    # Lite's among them) answer such pings with GOAWAY "too many pings" and the next call fails.
    # Pings only while a call is in flight suit Lite and a Milvus server alike.
    quiet = {"grpc.keepalive_time_ms": 60_000, "grpc.keepalive_permit_without_calls": False}
    return MilvusClient(uri=uri, token=token, grpc_options=quiet)


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

    def parse(self, name: str) -> tuple[str, str] | None:
        """(version, part) of one of our collection names; None for any other name."""
        if not name.startswith(self.prefix) or "__" not in name:
            return None
        version, part = name[len(self.prefix) :].rsplit("__", 1)
        return version.replace("_", "-"), part

    def _versions_present(self, part: str = "meta") -> list[str]:
        """Versions with a collection of ``part`` (by default those with a meta collection,
        complete or not), newest first."""
        parsed = (self.parse(name) for name in self.client.list_collections())
        return sorted({p[0] for p in parsed if p and (part == "any" or p[1] == part)}, reverse=True)

    # --- reading -------------------------------------------------------------------------

    def current_version(self) -> str:
        if self.alias not in self.client.list_aliases().get("aliases", []):
            raise IndexMissing(f"no index in Milvus ({self.alias}); run: qa index build")
        target = self.client.describe_alias(self.alias)["collection_name"]
        parsed = self.parse(str(target))
        if parsed is None or parsed[1] != "passages":
            raise IndexCorrupt(f"alias {self.alias} names {target}, not a qa version")
        return parsed[0]

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

    def publish(self, version: str) -> None:
        target = self.collection(version, "passages")
        if self.alias in self.client.list_aliases().get("aliases", []):
            self.client.alter_alias(target, self.alias)
        else:
            self.client.create_alias(target, self.alias)

    def drop(self, version: str) -> None:
        for part in ("passages", "sentences", "meta"):
            name = self.collection(version, part)
            try:
                if self.client.has_collection(name):
                    self.client.drop_collection(name)
            except Exception as error:  # cleaning up after a failure: report, don't mask it
                log.warning("could not drop %s: %s", name, error)

    def remove_old_versions(self, keep: str) -> None:
        """Drop all but the newest previous version (requests in flight may still read it)."""
        older = [v for v in self._versions_present() if v < keep]
        for version in older[KEEP_OLD_VERSIONS:]:
            self.drop(version)

    def clean_temp(self) -> None:
        """Drop the collections of versions newer than the published one: builds that stopped
        before publishing. Only a holder of the build lock may call this."""
        try:
            current = self.current_version()
        except IndexMissing:
            current = ""
        for version in self._versions_present("any"):
            if version > current:
                self.drop(version)

    def write(self, data: IndexData, index_type: str, hnsw_m: int, ef_search: int) -> str:
        """Write ``data`` as a new version and publish it (``qa.store.milvus_write``)."""
        return write_version(self, data, index_type, hnsw_m, ef_search)
