"""The ONNX embedding backend: the local model exported once to ONNX and run with onnxruntime.

Why not the ``sentence-transformers[onnx]`` extra: it pulls optimum, whose pins on transformers
and huggingface-hub break Gradio's requirements. Instead we export the transformer, mean pooling
and L2 normalisation as one graph with ``torch.onnx`` (once per model, cached beside the extracted
model in the cache folder), optionally quantise its weights to int8, and tokenise with the
``tokenizers`` library from the model's own ``tokenizer.json``. torch is needed only to export.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from qa.errors import ModelUnavailable

log = logging.getLogger(__name__)

# Bump when the exported graph changes, so cached files from an older export are not reused.
EXPORT_VERSION = 1
# Weights of every MatMul quantised per output channel; activations quantised on the fly. Per
# channel keeps per-text cosine to the float model near 0.99; per tensor drops it to about 0.95.
QUANTIZE_RECIPE = "int8-dynamic-matmul-per-channel-v1"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def onnx_folder(cache_dir: Path, model_checksum: str) -> Path:
    """Where a model's ONNX files live: keyed by the weights' checksum, next to the extracted model."""
    return cache_dir / f"onnx-{model_checksum[:12]}-v{EXPORT_VERSION}"


def quantized_checksum(model_checksum: str) -> str:
    """The identity of the int8 model's vectors: they differ from the float model's, so an index
    built with one must not be extended with the other."""
    return hashlib.sha256(f"{model_checksum}+{QUANTIZE_RECIPE}".encode()).hexdigest()


def pooling_modes(pooling: dict[str, object]) -> set[str]:
    """The modes a sentence-transformers Pooling config turns on. Folders saved before
    sentence-transformers 6 set flags (``"pooling_mode_mean_tokens": true``); from 6 on, one key
    names them (``"pooling_mode": "mean"``, or a list), which is how a model fine-tuned today
    is saved."""
    named = pooling.get("pooling_mode")
    if isinstance(named, str):
        return {named}
    if isinstance(named, list):
        return {str(mode) for mode in named}
    return {
        key.removeprefix("pooling_mode_").removesuffix("_tokens")
        for key, on in pooling.items()
        if key.startswith("pooling_mode_") and on
    }


def check_mean_pooled(model_path: Path) -> None:
    """The exported graph mean-pools and normalises, which is what the packaged model does."""
    pooling_file = model_path / "1_Pooling" / "config.json"
    modules_file = model_path / "modules.json"
    if not pooling_file.is_file() or not modules_file.is_file():
        raise ModelUnavailable(
            f"{model_path} is not a sentence-transformers folder; use QA_EMBED_BACKEND=torch"
        )
    pooling = json.loads(pooling_file.read_text())
    modules = [m.get("type", "") for m in json.loads(modules_file.read_text())]
    if pooling_modes(pooling) != {"mean"} or not modules or not modules[-1].endswith("Normalize"):
        raise ModelUnavailable(
            f"the ONNX backend supports mean-pooled, normalised models only ({model_path}); "
            "use QA_EMBED_BACKEND=torch"
        )


def export_onnx(model_path: Path, target: Path) -> None:
    """Export transformer + mean pooling + normalisation to ``target`` (written atomically)."""
    import torch
    from transformers import AutoModel

    check_mean_pooled(model_path)
    # Eager attention traces to plain ops that honour the padding mask for any batch shape.
    transformer = AutoModel.from_pretrained(str(model_path), attn_implementation="eager").eval()
    wants_types = "token_type_ids" in inspect.signature(transformer.forward).parameters

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any, *types: Any) -> Any:
            extra = {"token_type_ids": types[0]} if types else {}
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, **extra
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    # An example with padding, so the traced graph is the one that masks padded positions.
    ids = torch.full((2, 12), 101, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    names = list(_INPUTS if wants_types else _INPUTS[:2])
    example = (ids, mask, torch.zeros_like(ids)) if wants_types else (ids, mask)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about constants we do not rely on
        torch.onnx.export(
            Pooled(),
            example,
            str(staging),
            input_names=names,
            output_names=["embedding"],
            dynamic_axes={
                **{n: {0: "batch", 1: "tokens"} for n in names},
                "embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,  # the TorchScript exporter needs no onnxscript
        )
    os.replace(staging, target)


def quantize_onnx(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the MatMul weights (written atomically)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    quantize_dynamic(
        str(source),
        str(staging),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    os.replace(staging, target)


def ensure_onnx_model(model_path: Path, folder: Path, quantized: bool) -> Path:
    """The cached ONNX file for this model, exported (and quantised) on first use."""
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / "model.onnx"
    int8 = folder / "model-int8.onnx"
    wanted = int8 if quantized else fp32
    with FileLock(str(folder / ".export.lock")):  # two processes starting at once export once
        if not fp32.is_file() and not wanted.is_file():
            log.warning("exporting %s to ONNX once (cached in %s)", model_path.name, folder)
            export_onnx(model_path, fp32)
        if quantized and not int8.is_file():
            log.warning("quantising the ONNX model to int8 once")
            quantize_onnx(fp32, int8)
    return wanted


def max_tokens(model_path: Path) -> int:
    """The sequence length sentence-transformers truncates to (not tokenizer.json's own setting)."""
    limits = []
    for name, key in (
        ("sentence_bert_config.json", "max_seq_length"),
        ("config.json", "max_position_embeddings"),
    ):
        path = model_path / name
        if path.is_file():
            value = json.loads(path.read_text()).get(key)
            if isinstance(value, int):
                limits.append(value)
    return min(limits) if limits else 512


class OnnxEncoder:
    """Tokenise with ``tokenizer.json``, run the ONNX graph, return normalised float32 vectors.

    Each text runs alone, never padded into a batch: with dynamic int8 quantisation a batch
    shares one activation scale, so a text's vector would depend on its neighbours (cosine
    0.985 between the same question alone and in a batch); and a batch in document order is
    mostly padding for sentences (2.5 times the real tokens). One at a time measured faster.
    The cores are used by running texts side by side, one thread each (a run releases the
    GIL), which suits short texts better than splitting one small run across cores.
    """

    def __init__(self, onnx_path: Path, model_path: Path, workers: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.tokenizer.no_padding()
        # sentence-transformers' limit, not tokenizer.json's own (128 for this model).
        self.tokenizer.enable_truncation(max_length=max_tokens(model_path))
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dimension = int(self.session.get_outputs()[0].shape[1])
        self.workers = workers or os.cpu_count() or 1
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, in the order given."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        if len(encodings) == 1 or self.workers == 1:
            self._run(encodings, out, 0, 1)
            return out
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="qa-onnx")
        share = min(self.workers, len(encodings))
        runs = [self._pool.submit(self._run, encodings, out, i, share) for i in range(share)]
        for run in runs:
            run.result()
        return out

    def _run(self, encodings: list[Any], out: np.ndarray, first: int, step: int) -> None:
        """Rows ``first, first + step, …`` of ``out``: each thread writes only its own rows."""
        for row in range(first, len(encodings), step):
            encoding = encodings[row]
            feed = {
                "input_ids": np.array([encoding.ids], dtype=np.int64),
                "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
                "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
            }
            (vector,) = self.session.run(None, {name: feed[name] for name in self.inputs})
            out[row] = vector[0]
