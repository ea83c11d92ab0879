"""The one settings object. Nothing else in the project reads the environment.

Every knob has a documented default; override with environment variables prefixed ``QA_``
(for example ``QA_DOCS_DIR=/data/reports``). ``python -m qa.config --markdown`` prints the
README's table of them, generated from the fields below.
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
    """Configuration for indexing, retrieval and serving.

    Every field's description is the README's (``python -m qa.config --markdown`` prints the
    README's table; a test keeps the two the same). ``shown_default`` describes a default that
    depends on the machine."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    # Where things live.
    docs_dir: Path = Field(
        PROJECT_ROOT / "seeds",
        description="Documents folder: the source of truth the index follows.",
    )
    index_dir: Path = Field(PROJECT_ROOT / "index", description="Built index (git-ignored).")
    cache_dir: Path = Field(
        Path.home() / ".cache" / "qa",
        description="Where the packaged model is extracted once (sha256-checked before use), "
        "and its ONNX export made.",
    )
    data_dir: Path = Field(
        PROJECT_ROOT / "data",
        description="What readers contribute (`feedback.sqlite`, append-only): kept apart from "
        "the versioned index, so no build, rebuild or restart loses it (git-ignored).",
    )
    store: str = Field(
        "embedded",
        pattern="^(embedded|milvus)$",
        description="Where index versions live: `embedded` (files in `QA_INDEX_DIR`, FAISS and "
        "BM25 in memory) or `milvus` (`pip install '.[scale]'`; see docs/scale.md).",
    )
    milvus_uri: str = Field(
        "",
        description="With `QA_STORE=milvus`: a local file path (Milvus Lite) or "
        "`http://host:19530` (a Milvus server or cluster). Empty: `QA_INDEX_DIR/milvus.db`.",
    )
    milvus_token: str = Field(
        "",
        repr=False,
        description="With `QA_STORE=milvus`: the server's token (`user:password`), if any.",
    )
    milvus_prefix: str = Field(
        "qa_",
        pattern="^[A-Za-z_][A-Za-z0-9_]{0,31}$",
        description="With `QA_STORE=milvus`: the start of every collection and alias name, so "
        "several qa deployments can share one Milvus.",
    )
    model: str = Field(
        DEFAULT_MODEL,
        description="The packaged model, or a path to a local sentence-transformers folder; "
        "nothing is downloaded at run time.",
    )

    # Chunking: passages of a few whole sentences, never longer than max_chars.
    max_chars: int = Field(
        700,
        ge=100,
        le=4000,
        description="Passage size limit in characters; changing it triggers a full rebuild.",
    )
    overlap_sentences: int = Field(
        0,
        ge=0,
        le=5,
        description="Sentences a passage shares with the one before (0: each sentence is in one "
        "passage); changing it triggers a full rebuild.",
    )

    # Index type: exact inner product below the threshold, HNSW above it (or forced).
    index_type: str = Field(
        "auto",
        pattern="^(auto|flat|hnsw)$",
        description="`flat` (exact inner product), `hnsw`, or `auto`: HNSW from "
        "`QA_HNSW_THRESHOLD` passages on.",
    )
    hnsw_threshold: int = Field(
        200_000, ge=1, description="Passages from which `auto` builds an HNSW index."
    )
    hnsw_m: int = Field(
        16,
        ge=4,
        le=128,
        description="HNSW graph degree (links per vector), saved with the index; the HNSW index "
        "stores 8-bit codes.",
    )
    hnsw_ef_search: int = Field(
        DEFAULT_EF_SEARCH,
        ge=1,
        description="HNSW search breadth (efSearch), saved with the index.",
    )
    embed_batch_size: int = Field(32, ge=1, description="Texts embedded per model call in a build.")
    embed_backend: str = Field(
        "onnx",
        pattern="^(torch|onnx)$",
        description="`onnx` runs an ONNX export of the model (made once, locally, into the "
        "cache) with onnxruntime; `torch` runs sentence-transformers. See docs/benchmarks.md.",
    )
    embed_quantize: bool = Field(
        True,
        description="With the onnx backend, use the int8-quantised model (faster, same dev-set "
        "quality); switching to or from it rebuilds the index.",
    )
    embed_title: bool = Field(
        False,
        description="Give the document title to the embedder as context for every passage "
        "(a definition-list entry's passage, such as a man page option, always has it).",
    )

    # Retrieval. How evidence is weighed, which sentence answers and when to abstain are not
    # settings: the scorers fitted on every evaluation collection decide (qa/weights.json).
    # 50 each gives a pool of 50-100, above the 40 the second stage reranks; on the six
    # evaluation collections 30, 40, 50 and 100 rank and answer identically, and 50 costs less.
    candidates: int = Field(
        50, description="Passages each index (dense, BM25) contributes to the candidates."
    )
    dedup_similarity: float = Field(
        0.95,
        description="Cosine above which passages of different documents are folded into one "
        "result (`also_in`).",
    )

    # Serving.
    host: str = Field("127.0.0.1", description="Address `qa serve` listens on.")
    port: int = Field(8000, description="Port `qa serve` listens on.")
    admin_token: str | None = Field(
        None,
        description="Bearer token for the write endpoints and the Documents tab; unset, writes "
        "are allowed only on a loopback address.",
    )
    max_upload_mb: float = Field(
        20.0, gt=0, description="Upload size limit (all files of one request together)."
    )
    max_upload_cache_mb: float = Field(
        500.0,
        gt=0,
        description="Room for the web page's uploads in Gradio's cache (emptied hourly); a "
        "request that would pass it, or one client's quarter of it, is refused before anything "
        "is stored.",
    )
    write_wait_s: float = Field(
        10.0,
        ge=0,
        le=600,
        description="How long an upload or delete waits for another write (a rebuild, an "
        "upload) to finish before answering 409; the wait holds one of the server's threads.",
    )
    reconcile_every_s: float = Field(
        60.0,
        ge=-1,
        description="How often a running server compares the docs folder with the index and "
        "indexes what was added, changed or removed behind its back (also done at start-up); "
        "`0`: at start-up only; `-1`: never. `/health` shows what the last pass found.",
    )
    watch: bool = Field(
        False,
        description="Index files created, changed or deleted in the docs folder within seconds "
        "(as `qa serve --watch`), through the same lock and atomic publish as uploads.",
    )
    answer_workers: int = Field(
        default_factory=lambda: _cores() if _cores() > 1 else 0,
        ge=0,
        le=64,
        description="Processes that answer the questions of `/answer` and the chat, each with "
        "its own model and index in memory (about 220 MB at the seeds, 270 MB at 10,000 "
        "passages), at a lower CPU priority than the server so `/health` and the pages stay "
        "prompt under load. `0` answers in the server process. `/health` shows how many run; "
        "one that dies is replaced, and meanwhile the server answers itself.",
        json_schema_extra={"shown_default": "cores (0 on one core)"},
    )
    answer_concurrency: int = Field(
        default_factory=_cores,
        ge=1,
        description="With no answer worker running: questions the server process works on at "
        "once; more wait their turn instead of fighting over the cores and Python's GIL.",
        json_schema_extra={"shown_default": "cores"},
    )


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process; tests build their own ``Settings(...)`` instead."""
    return Settings()


def shown_default(name: str) -> str:
    """A field's default as the README shows it: paths relative to the project or home, a
    machine-dependent default described in words."""
    field = Settings.model_fields[name]
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "shown_default" in extra:
        return str(extra["shown_default"])
    value = field.get_default(call_default_factory=False)
    if value is None:
        return "unset"
    if isinstance(value, Path):
        if value.is_relative_to(PROJECT_ROOT):
            return f"`{value.relative_to(PROJECT_ROOT).as_posix()}/`"
        if value.is_relative_to(Path.home()):
            return f"`~/{value.relative_to(Path.home()).as_posix()}`"
        return f"`{value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "":
        return "empty"
    return f"`{value}`"


def settings_markdown() -> str:
    """The README's settings table: every field, its variable, its real default, its meaning."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        variable = f"`QA_{name.upper()}`"
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| {variable} | {shown_default(name)} | {meaning} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--markdown"]:
        sys.exit("usage: python -m qa.config --markdown")
    print(settings_markdown(), end="")
