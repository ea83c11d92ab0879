"""Question -> ranked passages: dense and BM25 evidence at passage and sentence level, fused as
weighted normalised scores, with question years and corpus-learned abbreviations considered."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qa.aliases import AliasTable, expand_with
from qa.config import Settings
from qa.dates import find_years
from qa.embedding import Embedder
from qa.store import LoadedIndex, bm25_scores, check_model, load_version, search_one_thread
from qa.text import bm25_tokenize, stem, words

# Candidates looked at per result asked for when folding near-duplicates (see ``search``).
DUPLICATE_WINDOW = 3
# The date bonus's share for a passage that only mentions the asked year (see ``_fused``).
MENTIONED_YEAR_SHARE = 0.5


@dataclass(frozen=True)
class Components:
    """Which parts of the ranking are switched on; ``qa eval --ablation`` turns them off one by one."""

    dense: bool = True
    bm25: bool = True
    sentences: bool = True
    dates: bool = True
    aliases: bool = True


@dataclass
class Candidate:
    """A passage under consideration, with the evidence gathered for it."""

    row: int
    dense: float = 0.0
    bm25: float = 0.0
    sentence: float = 0.0
    score: float = 0.0
    duplicates: list[int] = field(default_factory=list)


@dataclass
class Query:
    """A question prepared for search: expanded text, its tokens, years and embedding."""

    text: str
    expanded: str
    tokens: list[str]  # stemmed words of the expanded question (for BM25)
    asked_tokens: list[str]  # stemmed words of the question as asked
    aliases: list[tuple[list[str], list[str]]]  # (asked form, other form) stems of each alias
    years: set[int]
    vector: np.ndarray


def open_retriever(settings: Settings, embedder: Embedder, version: str | None = None) -> Retriever:
    """A retriever over ``version`` (CURRENT's by default), verified and made by ``embedder``'s model.

    The one way a served version is opened: by the service and by its answer workers alike."""
    loaded = load_version(settings.index_dir, version)
    check_model(loaded.data.manifest, embedder.name, embedder.checksum)
    return Retriever(loaded, embedder, settings)


class Retriever:
    """Searches one loaded index version; built once per version and shared by all requests."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.data = index.data
        self.embedder = embedder
        self.settings = settings
        self.aliases = AliasTable.learn(d.text for d in self.data.documents.values())
        self.vocabulary = self._vocabulary()
        self.sentence_idf = self._sentence_idf()
        self._sentence_positions()
        self.published_years = {
            doc_id: {int(doc.published[:4])} if doc.published else set()
            for doc_id, doc in self.data.documents.items()
        }
        # Years a passage's text mentions, kept only for the passages that mention any (a set
        # per passage would cost ~200 bytes each at a million passages).
        self.text_years: dict[int, frozenset[int]] = {}
        for row in range(len(self.data.passages)):
            years = find_years(self.data.passage_text(row))
            if years:
                self.text_years[row] = frozenset(years)
        self.corpus_years: set[int] = set().union(
            *self.text_years.values(), *self.published_years.values()
        )

    # --- preparation ---------------------------------------------------------------------

    def _vocabulary(self) -> set[str]:
        vocabulary: set[str] = set()
        for doc in self.data.documents.values():
            for word in words(doc.title + " " + doc.text):
                vocabulary.add(stem(word.removesuffix("'s")))
        return vocabulary

    def _sentence_idf(self) -> dict[str, float]:
        """Inverse sentence frequency of each stem: rare words are stronger evidence of an answer."""
        frequency: dict[str, int] = {}
        for row in range(len(self.data.sentences)):
            for token in set(bm25_tokenize(self.data.sentence_text(row))):
                frequency[token] = frequency.get(token, 0) + 1
        total = len(self.data.sentences) + 1
        return {token: float(np.log(total / (count + 0.5))) for token, count in frequency.items()}

    def idf(self, token: str) -> float:
        return self.sentence_idf.get(token, float(np.log(len(self.data.sentences) + 2)))

    def _sentence_positions(self) -> None:
        """For each passage, the range of its sentences among the sentence rows ordered by
        (document, start): two int32 arrays (8 bytes a passage), no per-sentence Python objects.

        The store orders rows so already (the order is then not kept) and sentences do not
        overlap, so a passage's sentences are one run of rows; where either does not hold, the
        order is kept and each passage's rows are filtered by their ends as they are asked for.
        """
        sentences, passages = self.data.sentences, self.data.passages
        order = np.lexsort((sentences.start, sentences.doc))
        number = {doc_id: i for i, doc_id in enumerate(sentences.doc_ids)}
        doc = sentences.doc[order].astype(np.int64)
        starts = (doc << 32) | sentences.start[order]
        ends = (doc << 32) | sentences.end[order]
        # Each passage's document in the sentences' numbering; -1 (no sentences) sorts first.
        owner = np.array([number.get(d, -1) for d in passages.doc_ids], dtype=np.int64)
        passage_doc = owner[passages.doc] if len(passages) else np.zeros(0, np.int64)
        first = np.searchsorted(starts, (passage_doc << 32) | passages.start, "left")
        last = np.searchsorted(starts, (passage_doc << 32) | passages.end, "left")
        self._filter_ends = not bool(np.all(np.diff(ends) >= 0))
        if not self._filter_ends:  # ends ascend with starts: the inside ones are a prefix
            inside = np.searchsorted(ends, (passage_doc << 32) | passages.end, "right")
            last = np.maximum(first, np.minimum(last, inside))
        identity = bool(np.array_equal(order, np.arange(len(order))))
        self._sentence_order = None if identity else order.astype(np.int32)
        self._first_sentence = first.astype(np.int32)
        self._last_sentence = last.astype(np.int32)

    def sentences_of(self, passage_row: int) -> list[int]:
        """Rows of the sentences lying inside a passage, in order."""
        rows, _ = self._sentence_runs(np.array([passage_row], dtype=np.int64))
        return rows.tolist()

    def prepare(self, question: str, components: Components = Components()) -> Query:
        pairs = self.aliases.pairs_in(question) if components.aliases else []
        expanded = expand_with(question, pairs)
        return Query(
            text=question,
            expanded=expanded,
            tokens=bm25_tokenize(expanded),
            asked_tokens=bm25_tokenize(question),
            aliases=[(bm25_tokenize(asked), bm25_tokenize(other)) for asked, other in pairs],
            years=find_years(question),
            vector=self.embedder.encode([expanded])[0],
        )

    # --- search --------------------------------------------------------------------------

    def search(
        self, query: Query, top_k: int, components: Components = Components()
    ) -> list[Candidate]:
        """Ranked candidates, best first, near-duplicates folded into the first of them.

        Evidence and fusion are arrays over all candidates (a hundred or more); Candidate
        objects are made only for the few that can still be returned."""
        total = len(self.data.passages)
        if total == 0:
            return []
        width = min(total, self.settings.candidates)
        scores, found = search_one_thread(self.index.faiss_index, query.vector[None, :], width)
        keep = found[0] >= 0
        rows, dense = found[0][keep].astype(np.int64), scores[0][keep].astype(np.float64)
        bm25 = np.zeros(len(rows))
        if components.bm25 and query.tokens:
            every_bm25 = bm25_scores(self.index.bm25, query.tokens)
            top = np.argpartition(-every_bm25, width - 1)[:width] if width < total else None
            top = np.arange(total) if top is None else np.sort(top)
            extra = top[(every_bm25[top] > 0) & ~np.isin(top, rows)]  # found by BM25 only
            rows = np.concatenate([rows, extra])
            dense = np.concatenate([dense, self.data.passage_rows(extra) @ query.vector])
            bm25 = every_bm25[rows].astype(np.float64)
        sentence = self._sentence_scores(query, rows)
        evidence = {"dense": dense, "bm25": bm25, "sentence": sentence}
        score = self._fused(query, rows, evidence, components)
        # Duplicates of the kept passages can rank anywhere; looking a little past top_k finds
        # the ones that matter without comparing every candidate with every other. Stable: ties
        # keep their order.
        window = np.argsort(-score, kind="stable")[: top_k * DUPLICATE_WINDOW]
        ranked = [
            Candidate(
                int(rows[i]), float(dense[i]), float(bm25[i]), float(sentence[i]), float(score[i])
            )
            for i in window.tolist()
        ]
        return self._collapse_duplicates(ranked, top_k)

    def _sentence_runs(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sentence rows of the given passages, concatenated in order, and how many each
        passage has: array operations only (this runs for every candidate of every question)."""
        firsts = self._first_sentence[rows].astype(np.int64)
        counts = self._last_sentence[rows].astype(np.int64) - firsts
        starts = np.cumsum(counts) - counts
        positions = np.repeat(firsts, counts) + np.arange(counts.sum()) - np.repeat(starts, counts)
        order = self._sentence_order
        gathered = order[positions].astype(np.int64) if order is not None else positions
        if self._filter_ends:  # overlapping sentences: keep those ending inside the passage
            owner = np.repeat(np.arange(len(rows)), counts)
            inside = self.data.sentences.end[gathered] <= self.data.passages.end[rows][owner]
            gathered = gathered[inside]
            counts = np.bincount(owner[inside], minlength=len(rows)).astype(np.int64)
        return gathered, counts

    def _sentence_scores(self, query: Query, rows: np.ndarray) -> np.ndarray:
        """Each candidate's best sentence by cosine (0 without sentences): short, precise evidence
        that a passage answers.

        One matrix product over all candidates' sentences, gathered with array operations, then
        a maximum per candidate's run of rows."""
        best = np.zeros(len(rows))
        gathered, counts = self._sentence_runs(rows)
        has = counts > 0
        if has.any():
            counts = counts[has]
            starts = np.cumsum(counts) - counts  # empty runs add no rows: these index `gathered`
            scores = self.data.sentence_rows(gathered) @ query.vector
            best[has] = np.maximum.reduceat(scores, starts)
        return best

    def _fused(
        self,
        query: Query,
        rows: np.ndarray,
        evidence: dict[str, np.ndarray],
        components: Components,
    ) -> np.ndarray:
        """Weighted fusion of the evidence arrays, plus a bonus for passages about the asked year.

        ``fusion="score"`` adds min-max normalised scores, which keeps how far apart candidates
        are; ``fusion="rrf"`` adds reciprocal ranks, which only keeps their order.
        """
        settings = self.settings
        lists = [
            (weight, name)
            for weight, name, enabled in (
                (settings.dense_weight, "dense", components.dense),
                (settings.bm25_weight, "bm25", components.bm25),
                (settings.sentence_weight, "sentence", components.sentences),
            )
            if enabled
        ]
        score = np.zeros(len(rows))
        for weight, name in lists:
            values = evidence[name]
            if settings.fusion == "rrf":
                order = np.argsort(-values, kind="stable")
                contribution = np.zeros(len(values))
                contribution[order] = weight / (settings.rrf_k + np.arange(1, len(values) + 1))
                contribution[values <= 0] = 0.0
            else:
                spread = values.max() - values.min() if len(values) else 0.0
                contribution = (
                    weight * (values - values.min()) / spread if spread > 0 else 0 * values
                )
            score += contribution
        if components.dates and query.years:
            # A document published in the asked year counts fully; one that only mentions the
            # year (a 2019 article recalling 2016) counts half.
            scale = 1.0 / (settings.rrf_k + 1) if settings.fusion == "rrf" else 1.0
            for i, row in enumerate(rows.tolist()):
                doc_id = self.data.passages.doc_id(row)
                if self.published_years[doc_id] & query.years:
                    score[i] += settings.date_boost * scale
                elif self.text_years.get(row, frozenset()) & query.years:
                    score[i] += MENTIONED_YEAR_SHARE * settings.date_boost * scale
        return score

    def _collapse_duplicates(self, window: list[Candidate], top_k: int) -> list[Candidate]:
        """The first ``top_k`` distinct passages of ``window`` (ranked): one that says the same as
        a better-ranked passage of another document (cosine above ``dedup_similarity``) is folded
        into it as a citation."""
        kept: list[Candidate] = []
        matrix = self.data.passage_rows([c.row for c in window])
        vectors = {c.row: matrix[i] for i, c in enumerate(window)}
        for candidate in window:
            doc_id = self.data.passages.doc_id(candidate.row)
            twin = next(
                (
                    k
                    for k in kept
                    if self.data.passages.doc_id(k.row) != doc_id
                    and float(vectors[k.row] @ vectors[candidate.row])
                    >= self.settings.dedup_similarity
                ),
                None,
            )
            if twin is not None:
                twin.duplicates.append(candidate.row)
            elif len(kept) < top_k:
                kept.append(candidate)
        return kept
