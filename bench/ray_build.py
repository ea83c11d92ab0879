"""Throughput of a Ray build against the in-process build on this machine: ``python -m
bench.ray_build [--passages N] [--json]``.

Both build the same synthetic corpus (``bench.corpus``) in full into fresh index folders and are
timed by their own ``BuildReport.seconds``; throughput is texts embedded (passages and sentence
units) a second. The in-process build's model is loaded before it is timed; the Ray build runs in
a local Ray started beforehand (its start is timed on its own), so its time includes what every
Ray build pays: tasks chunking, actors starting and each loading the model, batches moving
through the object store. The overhead ratio is in-process throughput over Ray throughput.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.corpus import synthetic_corpus, write_corpus
from bench.measure import progress
from qa.config import PROJECT_ROOT, Settings
from qa.embedding import Embedder
from qa.indexer import BuildReport, build_index
from qa.store import load_version


def _texts(settings: Settings) -> int:
    data = load_version(settings.index_dir).data
    return len(data.passages) + len(data.sentences)


def _row(report: BuildReport, texts: int) -> dict[str, Any]:
    return {
        "texts": texts,
        "seconds": round(report.seconds, 2),
        "texts_per_s": round(texts / report.seconds, 1),
    }


def measure(passages: int) -> dict[str, Any]:
    from qa.ray_build import build_on_ray, ray_cluster

    with tempfile.TemporaryDirectory(prefix="qa-bench-ray-") as folder:
        root = Path(folder)
        settings = Settings(docs_dir=root / "docs", index_dir=root / "in-process")
        corpus = synthetic_corpus(
            PROJECT_ROOT / "seeds", passages, settings.max_chars, settings.overlap_sentences
        )
        write_corpus(corpus, settings.docs_dir)
        embedder = Embedder.from_settings(settings)
        embedder.encode(["load the model before the clock starts"])
        progress(f"in-process build of {len(corpus.documents)} documents")
        in_process = build_index(settings, embedder, full=True)
        texts = _texts(settings)
        on_ray = settings.model_copy(update={"index_dir": root / "ray"})
        began = time.perf_counter()
        with ray_cluster(None) as ray:
            started = time.perf_counter() - began
            cpus = int(ray.cluster_resources().get("CPU", 0))
            progress(f"local Ray up in {started:.1f}s; Ray build")
            report = build_on_ray(on_ray, embedder, full=True)
        assert _texts(on_ray) == texts, "the two builds embedded different texts"
        fast, slow = _row(in_process, texts), _row(report, texts)
        return {
            "documents": len(corpus.documents),
            "passages": in_process.passages,
            "texts": texts,
            "ray_cpus": cpus,
            "ray_start_s": round(started, 2),
            "in_process": fast,
            "ray": slow,
            "overhead_ratio": round(fast["texts_per_s"] / slow["texts_per_s"], 2),
            "embedded_by": report.embedded_by,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ray_build", description=__doc__)
    parser.add_argument("--passages", type=int, default=500, help="corpus size (default 500)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = measure(args.passages)
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{result['documents']} documents, {result['passages']} passages, "
        f"{result['texts']} texts (passages + sentence units)"
    )
    for name in ("in_process", "ray"):
        row = result[name]
        print(f"{name:10} {row['texts_per_s']:8.1f} texts/s  ({row['seconds']}s)")
    print(
        f"overhead ratio (in-process / ray): {result['overhead_ratio']}  "
        f"[local Ray: {result['ray_cpus']} CPUs, started in {result['ray_start_s']}s, not counted]"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
