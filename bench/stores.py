"""The embedded store beside Milvus on one synthetic corpus: ``qa bench --store milvus``.

One corpus of ``--passages`` passages is embedded once (the same for both stores); its version is
then written into each store and searched. Reported per store: the write (publishing a full
version), opening it, retrieval latency (``Retriever.search``, p50/p95), hit@1 on questions made
from the corpus (the first passage holds the phrase the question was made from), and memory per
passage: in the qa process (what ``SearchIndex.memory_bytes`` counts) and, for Milvus, the
resident memory the Milvus server (Milvus Lite's, a separate process) grew by.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.corpus import Corpus, corpus_in
from bench.measure import Stopwatch, percentile, progress
from bench.milvus_server import milvus_server
from qa.config import Settings, get_settings
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.retrieval import Retriever
from qa.store import IndexData, Store, open_store, version_data
from qa.text import normalise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa bench --store", description=__doc__)
    parser.add_argument("--store", choices=["milvus"], default="milvus")
    parser.add_argument("--passages", type=int, default=10_000, help="synthetic corpus size")
    parser.add_argument("--queries", type=int, default=100, help="questions timed per store")
    parser.add_argument("--json", action="store_true", help="print one JSON object as last line")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed")
    return parser


def main(argv: list[str]) -> int:
    options = build_parser().parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="qa-bench-stores-"))
    try:
        results = run(options, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(table(results))
    if options.json:
        print(json.dumps(results))
    return 0


def questions_with_phrases(corpus: Corpus, count: int, seed: int = 1) -> list[tuple[str, str]]:
    """(question, the phrase it was made from): a phrase of a passage, as a half-remembered
    question; a passage holding the phrase answers it."""
    rng = random.Random(seed)
    made: list[tuple[str, str]] = []
    while len(made) < count:
        words = rng.choice(corpus.passages).split()
        if len(words) < 12:
            continue
        start = rng.randrange(len(words) - 8)
        phrase = " ".join(words[start : start + 6]).strip(".,;:\"'“”")
        made.append((f"{rng.choice(['What', 'Who', 'When', 'Why'])} about {phrase}?", phrase))
    return made


def run(options: argparse.Namespace, work: Path) -> dict[str, Any]:
    base = get_settings()
    corpus = corpus_in(work / "docs", base, options.passages, options.seed)
    embedded = base.model_copy(
        update={"docs_dir": work / "docs", "index_dir": work / "index", "store": "embedded"}
    )
    embedder = Embedder.from_settings(embedded)
    with Stopwatch() as build:
        report = build_index(embedded, embedder, full=True)
    progress(f"embedded full build: {report.passages} passages in {build.seconds:.1f}s")
    questions = questions_with_phrases(corpus, options.queries)
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "passages": report.passages,
        "embedded_full_build_s": round(build.seconds, 1),
        "questions": len(questions),
    }
    source = open_store(embedded).open()
    data = version_data(source)
    results["embedded"] = measure(open_store(embedded), data, embedded, embedder, questions)
    with milvus_server(work / "milvus") as server:
        milvus = embedded.model_copy(update={"store": "milvus", "milvus_uri": server.uri})
        before = rss_mb(server.pid)
        measured = measure(open_store(milvus), data, milvus, embedder, questions)
        measured["milvus_server_rss_growth_mb"] = round(rss_mb(server.pid) - before, 1)
        measured["milvus_server_bytes_per_passage"] = round(
            measured["milvus_server_rss_growth_mb"] * 2**20 / report.passages
        )
        results["milvus"] = measured
    return results


def measure(
    store: Store,
    data: IndexData,
    settings: Settings,
    embedder: Embedder,
    questions: list[tuple[str, str]],
) -> dict[str, Any]:
    index_type = "hnsw" if len(data.passages) >= settings.hnsw_threshold else "flat"
    with Stopwatch() as write:
        store.write(data, index_type, settings.hnsw_m, settings.hnsw_ef_search)
    with Stopwatch() as opening:
        index = store.open()
    retriever = Retriever(index, embedder, settings)
    timings, hits = [], 0
    for question, phrase in questions:
        query = retriever.prepare(question)
        began = time.perf_counter()
        ranked = retriever.search(query, 5)
        timings.append((time.perf_counter() - began) * 1000)
        top = ranked[0].row if ranked else -1
        hits += top >= 0 and normalise(phrase) in normalise(index.data.passage_text(top))
    memory = index.memory_bytes()
    progress(f"{store.kind}: write {write.seconds:.1f}s, p50 {percentile(timings, 50)} ms")
    return {
        "index_type": index_type,
        "write_s": round(write.seconds, 2),
        "open_s": round(opening.seconds, 2),
        "retrieve_p50_ms": percentile(timings, 50),
        "retrieve_p95_ms": percentile(timings, 95),
        "hit_at_1": round(hits / len(questions), 3),
        "qa_process_bytes_per_passage": round(sum(memory.values()) / len(data.passages)),
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def table(results: dict[str, Any]) -> str:
    rows = [
        ("index type", "index_type"),
        ("write a full version (s)", "write_s"),
        ("open it (s)", "open_s"),
        ("retrieve p50 (ms)", "retrieve_p50_ms"),
        ("retrieve p95 (ms)", "retrieve_p95_ms"),
        ("hit@1", "hit_at_1"),
        ("bytes/passage in the qa process", "qa_process_bytes_per_passage"),
        ("bytes/passage in the Milvus server", "milvus_server_bytes_per_passage"),
    ]
    lines = [
        f"{results['passages']} passages, {results['questions']} questions; "
        f"embedding (the same for both): {results['embedded_full_build_s']} s",
        f"{'':36}{'embedded':>12}{'milvus':>12}",
    ]
    for label, key in rows:
        cells = [str(results[kind].get(key, "-")) for kind in ("embedded", "milvus")]
        lines.append(f"{label:36}{cells[0]:>12}{cells[1]:>12}")
    return "\n".join(lines)
