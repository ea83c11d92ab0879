"""The benchmark harness runs on a tiny corpus and reports every figure; no timing is asserted
(benchmarks are scripts that print figures, not timed tests)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from bench.corpus import sample_questions, synthetic_corpus
from bench.http import Client
from bench.large import compare_exact_hnsw, noisy_vectors, recall_at
from bench.run import main as bench_main
from qa.chunking import chunk_text
from qa.cli import main as cli_main
from qa.config import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "seeds"
REQUIRED = [
    "passages",
    "embed_per_s_torch",
    "embed_per_s_onnx",
    "full_build_s",
    "incremental_add_s",
    "retrieve_p50_ms",
    "floor_p50_ms",
    "http_p50_ms",
]


def test_corpus_is_deterministic_and_has_the_passages_asked_for() -> None:
    first = synthetic_corpus(SEEDS, 120, seed=3)
    assert first == synthetic_corpus(SEEDS, 120, seed=3)
    assert first != synthetic_corpus(SEEDS, 120, seed=4)
    chunked = sum(len(chunk_text(text)) for _, text in first.documents)
    assert chunked == len(first.passages) and 120 <= chunked <= 125
    assert first.spare[0] not in {name for name, _ in first.documents}
    assert all(len(p) <= 700 for p in first.passages)
    # Passages of real length; a title is alone only where the paragraph after it does not fit.
    assert sum(len(p) > 100 for p in first.passages[:50]) >= 45
    questions = sample_questions(first, 5)
    assert len(questions) == 5 and all(q.endswith("?") for q in questions)


def test_hnsw_comparison_reports_recall_against_exact() -> None:
    rng = np.random.default_rng(0)
    base = rng.standard_normal((40, 16)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    vectors = noisy_vectors(base, 500)
    assert vectors.shape == (500, 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    result = compare_exact_hnsw(
        base, base[:10], 500, hnsw_m=8, ef_values=(16, 64), bm25_bytes_per_passage=100.0
    )
    assert result["vectors"] == 500 and result["exact"]["p50_ms"] > 0
    memory = result["memory_per_passage"]
    assert memory["bm25_bytes"] == 100.0
    parts = [v for k, v in memory.items() if k.endswith("_bytes") and k != "total_bytes"]
    assert memory["total_bytes"] == pytest.approx(sum(parts), abs=0.5)
    for figures in result["hnsw"].values():
        assert 0.5 <= figures["recall_at_10"] <= 1.0
    assert recall_at(np.array([[1, 2]]), np.array([[2, 3]])) == 0.5


@pytest.mark.slow
def test_bench_runs_on_a_tiny_corpus_and_prints_one_json_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--passages", "50", "--json", "--queries", "5", "--embed-sample", "8"]
    argv += ["--rounds", "1", "--clients", "2", "--per-client", "2"]
    argv += ["--dev-set", str(tmp_path / "absent.jsonl"), "--results-dir", str(tmp_path)]
    assert bench_main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    results = json.loads(lines[-1])
    for key in REQUIRED:
        assert results[key] > 0, key
    assert results["passages"] >= 50
    assert results["incremental_passages"] > 0
    assert results["bytes_per_passage"] > 384 * 4  # at least the vector itself
    assert results["concurrent_rps"] > 0 and results["health_loaded_p99_ms"] > 0
    saved = json.loads(Path(results["results_file"]).read_text())
    assert saved["passages"] == results["passages"]


@pytest.mark.slow
def test_store_comparison_measures_both_stores_on_one_corpus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("pymilvus", reason="the Milvus store needs pip install '.[scale]'")
    assert bench_main(["--store", "milvus", "--passages", "40", "--queries", "5", "--json"]) == 0
    results = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert results["passages"] >= 40 and results["questions"] == 5
    for store in ("embedded", "milvus"):
        figures = results[store]
        assert figures["write_s"] > 0 and figures["retrieve_p50_ms"] > 0, store
        assert 0 <= figures["hit_at_1"] <= 1 and figures["qa_process_bytes_per_passage"] > 0
    assert results["milvus"]["hit_at_1"] == results["embedded"]["hit_at_1"]  # same answers
    assert results["milvus"]["milvus_server_rss_growth_mb"] > 0


def test_cli_passes_options_through_to_the_harness(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli_main(["bench", "--help"])
    assert stopped.value.code == 0
    assert "--passages" in capsys.readouterr().out


class _ClosesSilently(BaseHTTPRequestHandler):
    """Keeps-alive in words, then drops the connection, as uvicorn does with an idle one."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


def test_client_reconnects_when_the_server_dropped_an_idle_connection() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ClosesSilently)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = Client(server.server_address[1], timeout=5)
        assert all(client.health() > 0 for _ in range(3))  # each after the server hung up
        client.close()
    finally:
        server.shutdown()


def test_paired_comparison_counts_questions_that_moved_and_tests_the_sign(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``bench.fit --against``: a question counts up when the candidate gets it and the baseline
    does not, down the other way; unchanged ones are left out of the sign test."""
    from bench.fit import print_paired

    baseline = {("a", f"q{i}"): (False, i < 3) for i in range(10)}
    candidate = {("a", f"q{i}"): (i < 8, i < 2) for i in range(10)} | {("b", "new"): (True, True)}
    print_paired(baseline, candidate)
    lines = capsys.readouterr().out.splitlines()
    assert "(10 answerable questions in both)" in lines[1]
    hit = next(line for line in lines if line.startswith("hit@1   all"))
    answer = next(line for line in lines if line.startswith("answer  all"))
    assert "up   8  down   0" in hit and "p = 0.008" in hit  # 2 * 0.5**8
    assert "up   0  down   1" in answer and "p = 1.000" in answer
