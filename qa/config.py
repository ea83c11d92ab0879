"""The one settings object. Nothing else in the project reads the environment.

Every knob has a documented default; override with environment variables prefixed ``QA_``
(for example ``QA_DOCS_DIR=/data/reports``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "all-MiniLM-L6-v2"
# HNSW search breadth: at 1M bench vectors (M=16, efConstruction=160, 8-bit codes) this meets
# recall@10 >= 0.95 against exact float32 search at a p50 under 10 ms (0.96 at 5.1 ms; with M=32,
# 0.973 at 7.9 ms for 130 bytes a passage more: docs/benchmarks.md).
DEFAULT_EF_SEARCH = 1024


def _cores() -> int:
    return os.cpu_count() or 1


class Settings(BaseSettings):
    """Configuration for indexing, retrieval and serving."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    # Where things live.
    docs_dir: Path = Field(PROJECT_ROOT / "seeds", description="Folder of source documents.")
    index_dir: Path = Field(PROJECT_ROOT / "index", description="Folder of the built index.")
    cache_dir: Path = Field(
        Path.home() / ".cache" / "qa", description="Where the packaged model is extracted once."
    )
    model: str = Field(
        DEFAULT_MODEL,
        description="Embedding model: the packaged all-MiniLM-L6-v2, or a local folder path.",
    )

    # Chunking: passages of a few whole sentences, never longer than max_chars.
    max_chars: int = Field(700, ge=100, le=4000)
    overlap_sentences: int = Field(1, ge=0, le=5)

    # Index type: exact inner product below the threshold, HNSW above it (or forced).
    index_type: str = Field("auto", pattern="^(auto|flat|hnsw)$")
    hnsw_threshold: int = Field(200_000, ge=1)
    hnsw_m: int = Field(16, ge=4, le=128, description="HNSW graph degree (links per vector).")
    hnsw_ef_search: int = Field(
        DEFAULT_EF_SEARCH, ge=1, description="HNSW efSearch, saved with the index."
    )
    embed_batch_size: int = 32
    embed_backend: str = Field(
        "onnx",
        pattern="^(torch|onnx)$",
        description="onnx (onnxruntime, the faster; see docs/benchmarks.md) or torch.",
    )
    embed_quantize: bool = Field(
        True, description="With the onnx backend, use the int8-quantised model (faster)."
    )
    embed_title: bool = Field(
        False, description="Give the document title to the embedder as context."
    )

    # Retrieval and answering knobs (see README "Tuning").
    fusion: str = Field("score", pattern="^(score|rrf)$", description="How evidence is fused.")
    rrf_k: int = Field(60, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = 1.0
    bm25_weight: float = 1.5
    sentence_weight: float = 0.75
    date_boost: float = Field(
        0.5, description="Fusion bonus for passages matching a question year."
    )
    candidates: int = Field(100, description="Passages each retriever contributes to fusion.")
    dedup_similarity: float = Field(0.95, description="Cosine above which passages are collapsed.")
    min_term_coverage: float = Field(
        0.5, description="Share of question terms the corpus must contain to answer."
    )
    min_dense_score: float = Field(0.25, description="Best cosine below which nothing answers.")

    answer_overlap_weight: float = Field(1.5, description="Answer sentence: weight of rare words.")
    answer_passage_weight: float = Field(2.0, description="Answer sentence: weight of its passage.")
    answer_type_bonus: float = Field(0.3, description="Answer sentence: has the asked-for type.")

    # Serving.
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: str | None = Field(None, description="Bearer token for write endpoints.")
    max_upload_mb: float = 20.0
    max_upload_cache_mb: float = Field(
        500.0,
        gt=0,
        description="Room for the web page's uploads in Gradio's cache (emptied hourly); "
        "further uploads are refused until then.",
    )
    answer_workers: int = Field(
        default_factory=lambda: _cores() if _cores() > 1 else 0,
        ge=0,
        le=64,
        description="Processes that answer the API's questions (default: one per core, none on "
        "one core); each holds its own model and index. 0 answers in the server process.",
    )
    answer_concurrency: int = Field(
        default_factory=_cores,
        ge=1,
        description="Questions the server process answers at once when no answer worker runs "
        "(default: one per core); more wait their turn instead of fighting over the cores "
        "and Python's GIL.",
    )


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process; tests build their own ``Settings(...)`` instead."""
    return Settings()
