"""The fitted scorers: small logistic-regression models over features the engine computes anyway.

Their weights are fitted by ``python -m bench.fit`` (leave-one-collection-out figures in
docs/quality.md) and shipped in ``qa/weights.json``; nothing here needs scikit-learn. A model
scores a feature matrix with ``x @ coef + intercept`` after standardising each feature, and
reads as a probability through the logistic function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS_FILE = Path(__file__).with_name("weights.json")


@dataclass(frozen=True)
class LinearScorer:
    """One fitted model: its feature names (in column order), standardisation and weights."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearScorer:
        return cls(
            tuple(data["features"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coef"], dtype=np.float64),
            float(data["intercept"]),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "coef": self.coef.round(6).tolist(),
            "intercept": round(self.intercept, 6),
        }

    def score(self, x: np.ndarray, off: tuple[str, ...] = ()) -> np.ndarray:
        """The model's log-odds for each row of ``x``; features named in ``off`` count as their
        mean (an ablation switches a signal off without refitting)."""
        standard = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        for name in off:
            if name in self.features:
                standard[:, self.features.index(name)] = 0.0
        return standard @ self.coef + self.intercept  # type: ignore[no-any-return]

    def probability(self, x: np.ndarray, off: tuple[str, ...] = ()) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.score(x, off)))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Scorers:
    """Every fitted model the engine uses, plus the decision thresholds fitted with them."""

    passage_first: LinearScorer  # is this passage relevant? (first stage: every candidate)
    passage: LinearScorer  # ... (second stage: the best of the first, with refined evidence)
    sentence: LinearScorer  # does this sentence answer it?
    answerable: LinearScorer  # do the documents answer the question at all?
    right: LinearScorer  # is the chosen answer right? (the answer's confidence)
    answer_threshold: float  # answerable probability below which the engine abstains

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scorers:
        return cls(
            LinearScorer.from_dict(data["passage_first"]),
            LinearScorer.from_dict(data["passage"]),
            LinearScorer.from_dict(data["sentence"]),
            LinearScorer.from_dict(data["answerable"]),
            LinearScorer.from_dict(data["right"]),
            float(data["answer_threshold"]),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "passage_first": self.passage_first.as_dict(),
            "passage": self.passage.as_dict(),
            "sentence": self.sentence.as_dict(),
            "answerable": self.answerable.as_dict(),
            "right": self.right.as_dict(),
            "answer_threshold": round(self.answer_threshold, 4),
        }


@lru_cache(maxsize=1)
def shipped_scorers() -> Scorers:
    """The models in ``qa/weights.json``, read once."""
    return Scorers.from_dict(json.loads(WEIGHTS_FILE.read_text(encoding="utf-8")))
