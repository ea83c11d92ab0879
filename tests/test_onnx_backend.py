"""The ONNX backend against the torch one, with the real packaged model: same vectors (float),
close vectors (int8), and an index identity that makes a backend switch rebuild when it must."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa.config import PROJECT_ROOT, Settings
from qa.embedding import Embedder
from qa.errors import ModelUnavailable
from qa.indexer import build_index
from qa.onnx_backend import OnnxEncoder, check_mean_pooled, export_onnx

SEEDS = PROJECT_ROOT / "seeds"


def _texts() -> list[str]:
    """Real seed text of every length: a word, a question, passages, one past the token limit."""
    text = (SEEDS / "000_5c5e7cba44887efe.txt").read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return [
        "Ofsted",
        "Who was Ofsted's chief inspector when the 2016 reports came out?",
        *paragraphs[:6],
        " ".join(paragraphs),  # far beyond 256 tokens: truncated identically by both backends
    ]


@pytest.fixture(scope="module")
def torch_model() -> Embedder:
    return Embedder(backend="torch")


@pytest.fixture(scope="module")
def onnx_fp32() -> Embedder:
    return Embedder(backend="onnx", quantize=False)


@pytest.fixture(scope="module")
def onnx_int8() -> Embedder:
    return Embedder(backend="onnx", quantize=True)


def test_float_onnx_gives_torch_vectors(torch_model: Embedder, onnx_fp32: Embedder) -> None:
    texts = _texts()
    reference = torch_model.encode(texts)
    vectors = onnx_fp32.encode(texts)
    cosines = np.sum(reference * vectors, axis=1)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    assert cosines.min() > 0.999, cosines


def test_int8_onnx_stays_close_to_torch(torch_model: Embedder, onnx_int8: Embedder) -> None:
    texts = _texts()
    reference = torch_model.encode(texts)
    cosines = np.sum(reference * onnx_int8.encode(texts), axis=1)
    assert np.allclose(np.linalg.norm(onnx_int8.encode(texts), axis=1), 1.0, atol=1e-4)
    assert cosines.min() > 0.97 and cosines.mean() > 0.985, cosines


def test_int8_ranks_passages_like_torch(torch_model: Embedder, onnx_int8: Embedder) -> None:
    question = "Who was Ofsted's chief inspector when the 2016 reports came out?"
    passages = _texts()[2:-1]
    expected = np.argsort(-(torch_model.encode(passages) @ torch_model.encode([question])[0]))
    found = np.argsort(-(onnx_int8.encode(passages) @ onnx_int8.encode([question])[0]))
    assert found[0] == expected[0]


def test_identity_is_shared_by_torch_and_float_onnx_only(
    torch_model: Embedder, onnx_fp32: Embedder, onnx_int8: Embedder
) -> None:
    assert torch_model.checksum == onnx_fp32.checksum
    assert onnx_int8.checksum != torch_model.checksum
    assert torch_model.name == onnx_int8.name


def test_switching_to_int8_rebuilds_and_float_does_not(
    tmp_path: Path, torch_model: Embedder, onnx_fp32: Embedder, onnx_int8: Embedder
) -> None:
    (tmp_path / "docs").mkdir()
    shutil.copy(SEEDS / "004_f0a960715aa8636b.txt", tmp_path / "docs")
    settings = Settings(docs_dir=tmp_path / "docs", index_dir=tmp_path / "index")
    assert build_index(settings, torch_model).full
    assert not build_index(settings, onnx_fp32).full  # same vectors: nothing to re-embed
    switched = build_index(settings, onnx_int8)
    assert switched.full and switched.embedded == switched.passages


def test_settings_choose_the_backend(tmp_path: Path) -> None:
    chosen = Embedder.from_settings(Settings(embed_backend="onnx", embed_quantize=True))
    assert (chosen.backend, chosen.quantized) == ("onnx", True)
    assert Embedder(backend="torch", quantize=True).quantized is False
    with pytest.raises(ValueError):
        Embedder(backend="tensorflow")


def test_models_not_mean_pooled_are_refused(tmp_path: Path) -> None:
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False})
    )
    (tmp_path / "modules.json").write_text(json.dumps([{"type": "Transformer"}]))
    with pytest.raises(ModelUnavailable, match="mean-pooled"):
        check_mean_pooled(tmp_path)
    with pytest.raises(ModelUnavailable, match="sentence-transformers folder"):
        check_mean_pooled(tmp_path / "1_Pooling")


@pytest.mark.parametrize(
    ("pooling", "accepted"),
    [
        ({"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}, True),
        ({"embedding_dimension": 384, "pooling_mode": "mean"}, True),  # sentence-transformers 6
        ({"pooling_mode": ["mean"]}, True),
        ({"pooling_mode": "cls"}, False),
        ({"pooling_mode": ["mean", "max"]}, False),
        ({"pooling_mode_mean_sqrt_len_tokens": True}, False),
    ],
)
def test_pooling_is_read_in_both_config_formats(
    tmp_path: Path, pooling: dict[str, object], accepted: bool
) -> None:
    # A model fine-tuned and saved with today's sentence-transformers names its pooling mode
    # in one key; older folders, like the packaged model, set one flag per mode.
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    modules = [{"type": "Transformer"}, {"type": "Pooling"}, {"type": "Normalize"}]
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    if accepted:
        check_mean_pooled(tmp_path)
    else:
        with pytest.raises(ModelUnavailable, match="mean-pooled"):
            check_mean_pooled(tmp_path)


@pytest.mark.slow
def test_export_from_scratch_matches_the_cached_model(tmp_path: Path, onnx_fp32: Embedder) -> None:
    """The export itself (not a cached file): written atomically, and gives the same vectors."""
    model_path = onnx_fp32.path
    shutil.copytree(model_path, tmp_path / "model")
    target = tmp_path / "model.onnx"
    export_onnx(tmp_path / "model", target)
    assert target.is_file() and not list(tmp_path.glob(".*.tmp"))
    fresh = OnnxEncoder(target, model_path)
    texts = _texts()[:4]
    assert np.allclose(fresh.encode(texts), onnx_fp32.encode(texts), atol=1e-5)
