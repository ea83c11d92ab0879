"""``qa bench``: one run that measures embedding, building, querying and serving on one machine.

Progress goes to stderr; the results go to ``bench/results/<date>-n<passages>.json`` and, as one
JSON object, to the last line of stdout with ``--json`` (a short table otherwise).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qa.config import PROJECT_ROOT

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
DEV_SET = PROJECT_ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa bench", description="Measure embedding, index building, query latency and memory."
    )
    parser.add_argument("--passages", type=int, default=2000, help="synthetic corpus size")
    parser.add_argument("--json", action="store_true", help="print one JSON object as last line")
    parser.add_argument("--queries", type=int, default=30, help="questions timed per path")
    parser.add_argument(
        "--embed-sample", type=int, default=24, help="passages (with their sentences) per round"
    )
    parser.add_argument("--rounds", type=int, default=2, help="interleaved embedding rounds")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients (0: off)")
    # 16 x 32 requests keep the /health probe (one every 20 ms) running long enough for a p99
    # of a few hundred samples; at 8 it was the largest of about 60.
    parser.add_argument("--per-client", type=int, default=32, help="requests per concurrent client")
    parser.add_argument(
        "--http-rounds", type=int, default=3, help="sequential/concurrent rounds, taking turns"
    )
    parser.add_argument("--no-http", action="store_true", help="skip the server measurements")
    parser.add_argument("--dev-set", type=Path, default=DEV_SET, help="JSONL questions for hit@1")
    parser.add_argument("--large", action="store_true", help="also exact vs HNSW at large N (slow)")
    parser.add_argument(
        "--large-sizes", default="100000,1000000", help="comma-separated vector counts for --large"
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--no-save", action="store_true", help="do not write a results file")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if any(a == "--store" or a.startswith("--store=") for a in argv):
        from bench.stores import main as stores_main  # the embedded store beside Milvus

        return stores_main(argv)
    options = build_parser().parse_args(argv)
    options.command = " ".join(["qa bench", *argv])
    if options.passages < 10:
        raise SystemExit("qa bench: --passages must be at least 10")
    results = run(options)
    if not options.no_save:
        options.results_dir.mkdir(parents=True, exist_ok=True)
        path = options.results_dir / f"{results['date']}-n{results['passages']}.json"
        path.write_text(json.dumps(results, indent=2) + "\n")
        results["results_file"] = str(path)
        print(f"results written to {path}", file=sys.stderr)
    if options.json:
        print(json.dumps(results))
    else:
        print(summary_table(results))
    return 0


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import faiss
    import onnxruntime
    import torch

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "faiss": faiss.__version__,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run(options: argparse.Namespace) -> dict[str, Any]:
    """Every measurement in order; the work folder is removed afterwards."""
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    try:
        return _run(options, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(options: argparse.Namespace, work: Path) -> dict[str, Any]:
    from bench.backends import build_workload, dev_hit_at_1, load_embedders, throughput
    from bench.corpus import corpus_in, sample_questions
    from bench.latency import floor_of, in_process_latency
    from bench.measure import Stopwatch, folder_bytes, peak_rss_mb, progress
    from qa.config import get_settings
    from qa.indexer import build_index
    from qa.service import QAService
    from qa.store import current_version

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import

    began = time.perf_counter()
    base = get_settings()
    default_label = (
        "torch" if base.embed_backend == "torch" else
        "onnx_int8" if base.embed_quantize else "onnx_fp32"
    )  # fmt: skip
    onnx_label = "onnx_int8" if base.embed_quantize else "onnx_fp32"
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "command": getattr(options, "command", "qa bench"),
        "machine": machine(),
        "embed_backend": default_label,
    }

    docs = work / "docs"
    corpus = corpus_in(docs, base, options.passages, options.seed)
    progress(f"corpus: {len(corpus.documents)} documents, {len(corpus.passages)} passages")
    settings = base.model_copy(update={"docs_dir": docs, "index_dir": work / "index"})
    questions = sample_questions(corpus, options.queries)

    embedders = load_embedders(settings)
    workload, sample = build_workload(corpus.documents, options.embed_sample, settings)
    speed = throughput(embedders, workload, sample, options.rounds, settings.embed_batch_size)
    results.update(
        embed_per_s_torch=speed["torch"],
        embed_per_s_onnx=speed[onnx_label],
        embed_per_s_onnx_fp32=speed["onnx_fp32"],
        embed_per_s_onnx_int8=speed["onnx_int8"],
        onnx_speedup=round(speed[onnx_label] / speed["torch"], 2),
        embed_sample_passages=sample,
        embed_sample_texts=len(workload),
    )
    if options.dev_set.is_file():
        # The float ONNX model gives torch's vectors (cosine 1.0, tested): its hit@1 is torch's.
        for label in ("torch", onnx_label):
            embedder = embedders[label]
            quality = dev_hit_at_1(
                embedder, settings, options.dev_set, PROJECT_ROOT / "seeds", work, label
            )
            results[f"hit_at_1_{label}"] = quality["hit_at_1"]
            results[f"answer_accuracy_{label}"] = quality["answer_accuracy"]
            progress(f"dev set with {label}: {quality}")
        results["hit_at_1_onnx"] = results[f"hit_at_1_{onnx_label}"]
    else:
        progress(f"no dev set at {options.dev_set}: hit@1 not measured")

    embedder = embedders[default_label]
    for label in list(embedders):
        if label != default_label:
            del embedders[label]  # peak memory below reflects one model, as served
    with Stopwatch() as full:
        report = build_index(settings, embedder, full=True)
    results.update(full_build_s=round(full.seconds, 2), passages=report.passages)
    progress(f"full build: {report.passages} passages in {full.seconds:.1f}s")
    spare_name, spare_text = corpus.spare
    (docs / spare_name).write_text(spare_text, encoding="utf-8")
    with Stopwatch() as incremental:
        added = build_index(settings, embedder)
    results.update(
        incremental_add_s=round(incremental.seconds, 2),
        incremental_passages=added.embedded,
        incremental_share_of_full=round(incremental.seconds / full.seconds, 4),
    )
    progress(f"incremental add of one document: {incremental.seconds:.2f}s")
    version_dir = settings.index_dir / current_version(settings.index_dir)
    index_bytes = folder_bytes(version_dir)
    text_bytes = sum(len(t.encode()) for _, t in [*corpus.documents, corpus.spare])
    results.update(
        index_bytes=index_bytes,
        bytes_per_passage=round(index_bytes / added.passages),
        bytes_per_passage_without_text=round((index_bytes - text_bytes) / added.passages),
    )

    with Stopwatch() as load:
        service = QAService(settings, embedder=embedder)
        service.warm_up()
    results["index_load_s"] = round(load.seconds, 2)
    latency = in_process_latency(service, questions)
    results.update(
        floor_p50_ms=latency["floor"]["p50_ms"],
        floor_p95_ms=latency["floor"]["p95_ms"],
        retrieve_p50_ms=latency["retrieve"]["p50_ms"],
        retrieve_p95_ms=latency["retrieve"]["p95_ms"],
        ask_p50_ms=latency["ask"]["p50_ms"],
        ask_p95_ms=latency["ask"]["p95_ms"],
    )
    progress(f"in-process latency: {latency}")

    if not options.no_http:
        results.update(_http(settings, questions, options, work, floor_of(service)))
    if options.large:
        from bench.large import compare_exact_hnsw

        retriever = service.retriever
        vectors = retriever.data.passage_vectors
        queries = embedder.encode(questions + sample_questions(corpus, 170, seed=2))
        sizes = [int(size) for size in options.large_sizes.split(",") if size.strip()]
        results["large"] = [
            compare_exact_hnsw(
                vectors,
                queries,
                size,
                settings.hnsw_m,
                served=(settings.hnsw_ef_search, settings.candidates),
                sentences_per_passage=len(retriever.data.sentences) / len(vectors),
                bm25_bytes_per_passage=retriever.index.memory_bytes()["bm25"] / len(vectors),
            )
            for size in sizes
        ]
    results["peak_rss_mb"] = peak_rss_mb()
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds"] = round(time.perf_counter() - began, 1)
    return results


def _http(
    settings: Any,
    questions: list[str],
    options: argparse.Namespace,
    work: Path,
    floor: Callable[[str], object],
) -> dict[str, Any]:
    from bench.http import ServerProcess, http_latency
    from bench.measure import progress

    progress("starting qa serve on a free loopback port")
    with ServerProcess(settings, work / "server.log") as server:
        progress(f"server ready in {server.started_s:.1f}s")
        http = http_latency(
            server, questions, options.clients, options.per_client, floor, options.http_rounds
        )
    out: dict[str, Any] = {
        "http_p50_ms": http["answer"]["p50_ms"],
        "http_p95_ms": http["answer"]["p95_ms"],
        "floor_beside_http_p50_ms": http["floor_beside_http"]["p50_ms"],
        "http_over_floor": round(
            http["answer"]["p50_ms"] / max(http["floor_beside_http"]["p50_ms"], 1e-9), 2
        ),
        "health_idle_p99_ms": http["health_idle"]["p99_ms"],
        "sequential_rps": http["sequential_rps"],
        "server_start_s": round(server.started_s, 1),
        "server_peak_rss_mb": server.peak_rss_mb,
        "answer_workers_peak_rss_mb": server.workers_peak_rss_mb,
    }
    if "concurrent_rps" in http:
        out.update(
            concurrent_clients=http["concurrent_clients"],
            concurrent_rps=http["concurrent_rps"],
            concurrency_speedup=round(http["concurrent_rps"] / http["sequential_rps"], 2),
            concurrent_p50_ms=http["concurrent_answer"]["p50_ms"],
            health_loaded_p99_ms=http["health_loaded"]["p99_ms"],
        )
    return out


def summary_table(results: dict[str, Any]) -> str:
    """The headline figures, one per line, for a person reading a terminal."""
    keys = [
        "passages", "embed_backend", "embed_per_s_torch", "embed_per_s_onnx_fp32",
        "embed_per_s_onnx_int8", "onnx_speedup", "hit_at_1_torch", "hit_at_1_onnx_fp32",
        "hit_at_1_onnx_int8", "full_build_s", "incremental_add_s", "incremental_share_of_full",
        "floor_p50_ms", "retrieve_p50_ms", "ask_p50_ms", "http_p50_ms",
        "floor_beside_http_p50_ms", "http_over_floor", "sequential_rps",
        "concurrent_rps", "concurrency_speedup", "health_idle_p99_ms", "health_loaded_p99_ms",
        "bytes_per_passage", "peak_rss_mb", "server_peak_rss_mb",
        "answer_workers_peak_rss_mb", "seconds",
    ]  # fmt: skip
    return "\n".join(f"{key:28} {results[key]}" for key in keys if key in results)


if __name__ == "__main__":
    sys.exit(main())
