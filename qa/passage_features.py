"""What the passage scorers read about each candidate passage: the evidence gathered for it,
turned into one row of numbers.

Ranking runs in two stages: every candidate is scored on ``PASSAGE_FEATURES`` (array operations),
then the best ``RERANKED`` of them again with ``REFINED_FEATURES`` added (which read each of their
sentences' words). Each signal comes in a raw form and one relative to the best candidate of the
same question, so that the fitted weights carry from a corpus where every score is high to one
where all are low.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PASSAGE_FEATURES = (
    "dense",  # cosine of question and passage
    "dense_gap",  # ... minus the best candidate's
    "dense_rank",  # 1 / (10 + rank among the candidates by dense score)
    "bm25_rel",  # BM25 over the best candidate's BM25
    "bm25_rank",
    "sentence",  # cosine of the question and the passage's closest sentence
    "sentence_gap",
    "heading_dense",  # cosine of the question and the passage's section heading
    "document_dense",  # the best cosine among the candidates of the passage's document
    "coverage",  # share of the question's rarity-weighted words the passage (or its title) holds
    "title_coverage",  # ... its document's title contains
    "heading_coverage",  # ... its section heading contains
    "year_published",  # the document was published in a year the question names
    "year_mentioned",  # the passage mentions that year
    "year_other",  # the question names a year, the passage's document is of another only
    "log_chars",
)
REFINED_FEATURES = (
    "sentence_coverage",  # the largest share of the question's weighted words one sentence has
    "sentence_both",  # the best sentence by cosine plus share of the question's words
)
RERANKED = 40  # candidates the second stage scores again
# Which features each switchable component of the ranking owns (``qa eval --ablation``).
COMPONENT_FEATURES = {
    "dense": ("dense", "dense_gap", "dense_rank"),
    "bm25": ("bm25_rel", "bm25_rank", "coverage", "title_coverage", "heading_coverage"),
    "sentences": ("sentence", "sentence_gap", "heading_dense", *REFINED_FEATURES),
    "dates": ("year_published", "year_mentioned", "year_other"),
}
_RANK_OFFSET = 10.0


@dataclass(frozen=True)
class PassageEvidence:
    """Per-candidate evidence arrays, all of the same length."""

    dense: np.ndarray
    bm25: np.ndarray
    sentence: np.ndarray
    heading_dense: np.ndarray
    document_dense: np.ndarray
    coverage: np.ndarray
    title_coverage: np.ndarray
    heading_coverage: np.ndarray
    year_published: np.ndarray
    year_mentioned: np.ndarray
    year_other: np.ndarray
    chars: np.ndarray


def passage_features(evidence: PassageEvidence) -> np.ndarray:
    """The feature matrix, one row per candidate, columns in ``PASSAGE_FEATURES`` order."""
    dense, bm25, sentence = evidence.dense, evidence.bm25, evidence.sentence
    if not len(dense):
        return np.zeros((0, len(PASSAGE_FEATURES)))
    best_bm25 = bm25.max()
    columns = [
        dense,
        dense - dense.max(),
        _rank_weight(dense),
        bm25 / best_bm25 if best_bm25 > 0 else np.zeros_like(bm25),
        np.where(bm25 > 0, _rank_weight(bm25), 0.0),
        sentence,
        sentence - sentence.max(),
        evidence.heading_dense,
        evidence.document_dense,
        evidence.coverage,
        evidence.title_coverage,
        evidence.heading_coverage,
        evidence.year_published,
        evidence.year_mentioned,
        evidence.year_other,
        np.log1p(evidence.chars),
    ]
    return np.column_stack(columns).astype(np.float64)


@dataclass(frozen=True)
class SentenceEvidence:
    """Per-candidate evidence read from each sentence's words (the second stage's)."""

    coverage: np.ndarray
    both: np.ndarray


def refined_features(evidence: SentenceEvidence) -> np.ndarray:
    """The second stage's extra columns, in ``REFINED_FEATURES`` order."""
    return np.column_stack([evidence.coverage, evidence.both]).astype(np.float64)


def _rank_weight(values: np.ndarray) -> np.ndarray:
    """1 / (offset + rank), rank 1 for the highest value (reciprocal-rank fusion's term)."""
    order = np.argsort(-values, kind="stable")
    weight = np.empty(len(values))
    weight[order] = 1.0 / (_RANK_OFFSET + np.arange(1, len(values) + 1))
    return weight


def features_off(dense: bool, bm25: bool, sentences: bool, dates: bool) -> tuple[str, ...]:
    """The features of the components switched off."""
    switched = {"dense": dense, "bm25": bm25, "sentences": sentences, "dates": dates}
    return tuple(
        name for part, on in switched.items() if not on for name in COMPONENT_FEATURES[part]
    )
