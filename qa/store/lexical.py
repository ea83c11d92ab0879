"""The lexical leg of the embedded store: BM25 over stemmed words, kept compact, scored fast."""

from __future__ import annotations

import logging

import bm25s
import numpy as np

from qa.text import bm25_tokenize

# bm25s sets its own logger to DEBUG, which would print build details on every CLI run.
logging.getLogger("bm25s").setLevel(logging.WARNING)


def build_bm25(texts: list[str]) -> bm25s.BM25:
    """BM25 over stemmed, lower-cased words; our own tokenizer so queries match identically.

    Each (word, passage) score is kept as float16: half the memory of float32 (about 100 bytes a
    passage), off by at most 0.06% of the top score; ``bm25_scores`` sums them in float64."""
    retriever = bm25s.BM25(dtype="float16")
    retriever.index([bm25_tokenize(t) for t in texts] or [["_"]], show_progress=False)
    return retriever


def bm25_memory_bytes(bm25: bm25s.BM25) -> int:
    """Bytes of a BM25 index's postings: a score and a passage number per (word, passage), and a
    pointer per word. Its vocabulary (a dict of words) grows far slower than the passages and is
    not counted."""
    return sum(int(bm25.scores[part].nbytes) for part in ("data", "indices", "indptr"))


def bm25_scores(bm25: bm25s.BM25, tokens: list[str]) -> np.ndarray:
    """Every passage's BM25 score for ``tokens``, as ``bm25.get_scores`` gives it, faster.

    The same sum of the stored (word, passage) scores, a word counted as often as the query
    repeats it; but one ``np.bincount``, in float64, instead of bm25s's ``np.add.at`` (without
    numba), which took 1.03 ms a question at 10,000 passages against 0.09."""
    vocabulary, scores = bm25.vocab_dict, bm25.scores
    ids = np.array([vocabulary[t] for t in tokens if t in vocabulary], dtype=np.int64)
    indptr = scores["indptr"]
    spans = [slice(int(a), int(b)) for a, b in zip(indptr[ids], indptr[ids + 1], strict=True)]
    if not spans:
        return np.zeros(int(scores["num_docs"]), dtype=np.float64)
    rows = np.concatenate([scores["indices"][span] for span in spans])
    weights = np.concatenate([scores["data"][span] for span in spans]).astype(np.float64)
    return np.bincount(rows, weights=weights, minlength=int(scores["num_docs"]))


def bm25_top(bm25: bm25s.BM25, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The (at most) ``k`` passages scoring highest for ``tokens``, in row order, and their scores;
    passages that hold none of the words are left out."""
    scores = bm25_scores(bm25, tokens)
    total = len(scores)
    rows = np.sort(np.argpartition(-scores, k - 1)[:k]) if 0 < k < total else np.arange(total)
    rows = rows[scores[rows] > 0]
    return rows.astype(np.int64), scores[rows]


def term_presence(bm25: bm25s.BM25, tokens: list[str], rows: np.ndarray) -> dict[str, np.ndarray]:
    """For each token, which of ``rows`` contain it (read off BM25's sorted postings)."""
    vocabulary = bm25.vocab_dict
    indptr, indices = bm25.scores["indptr"], bm25.scores["indices"]
    presence = {}
    for token in tokens:
        number = vocabulary.get(token)
        if number is None or not len(rows):
            presence[token] = np.zeros(len(rows), dtype=bool)
            continue
        holders = indices[int(indptr[number]) : int(indptr[number + 1])]
        place = np.minimum(np.searchsorted(holders, rows), len(holders) - 1)
        presence[token] = holders[place] == rows if len(holders) else np.zeros(len(rows), bool)
    return presence
