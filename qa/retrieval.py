"""Question -> ranked passages: candidates from the dense and the BM25 index, evidence gathered
for each (meaning at passage and sentence level, words, title and section heading, years), and
the evidence fused by the fitted passage scorer (``qa.scorers``), with corpus-learned
abbreviations taken into account."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qa.aliases import AliasForms, AliasTable, expand_with, presence_with_alias_forms
from qa.config import Settings
from qa.dates import find_years
from qa.documents import name_words
from qa.embedding import Embedder
from qa.evidence import EvidenceReader
from qa.passage_features import (
    RERANKED,
    PassageEvidence,
    features_off,
    passage_features,
    refined_features,
)
from qa.scorers import Scorers, shipped_scorers
from qa.sentence_map import SentenceMap
from qa.store import SearchIndex, Store, check_model, open_store
from qa.text import bm25_tokenize, content_words, stem

# Candidates looked at per result asked for when folding near-duplicates (see ``search``).
DUPLICATE_WINDOW = 3
# Passages read to find a phrase: the best by BM25 for its words, which hold it if any does.
PHRASE_PASSAGES = 20


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
    score: float = 0.0  # the passage scorer's log-odds that it is relevant
    duplicates: list[int] = field(default_factory=list)
    coverage: float = 0.0  # share of the question's rarity-weighted words it contains
    sentence_coverage: float = 0.0  # the largest share of them one of its sentences holds


@dataclass(frozen=True)
class Pool:
    """Every candidate of one question: passage rows, their evidence and feature matrix."""

    rows: np.ndarray
    evidence: PassageEvidence
    features: np.ndarray


@dataclass
class Query:
    """A question prepared for search: expanded text, its tokens, years and embedding."""

    text: str
    expanded: str
    tokens: list[str]  # stemmed words of the expanded question (for BM25)
    asked_tokens: list[str]  # stemmed words of the question as asked
    aliases: AliasForms  # (asked form, other form) stems of each alias
    years: set[int]
    vector: np.ndarray
    # Stems of the question's words in capitals that shorten a name the documents write ("EPL").
    shortened: frozenset[str] = frozenset()


def open_retriever(
    settings: Settings, embedder: Embedder, version: str | None = None, store: Store | None = None
) -> Retriever:
    """A retriever over ``version`` (CURRENT's by default), verified and made by ``embedder``'s model.

    The one way a served version is opened: by the service and by its answer workers alike."""
    loaded = (store or open_store(settings)).open(version)
    check_model(loaded.data.manifest, embedder.name, embedder.checksum)
    return Retriever(loaded, embedder, settings)


class Retriever:
    """Searches one loaded index version; built once per version and shared by all requests."""

    def __init__(
        self,
        index: SearchIndex,
        embedder: Embedder,
        settings: Settings,
        scorers: Scorers | None = None,
    ) -> None:
        self.index = index
        self.data = index.data
        self.embedder = embedder
        self.settings = settings
        self.aliases = AliasTable.learn(d.text for d in self.data.documents.values())
        self.vocabulary = self._vocabulary()
        self.sentence_idf = self._sentence_idf()
        self.sentence_map = SentenceMap(self.data)
        self.evidence = EvidenceReader(index, self.sentence_map, self.idf)
        self.corpus_years = self.evidence.corpus_years
        self.scorers = scorers or shipped_scorers()

    # --- preparation ---------------------------------------------------------------------

    def _vocabulary(self) -> set[str]:
        """The stems of every content word the documents write (read as a question's are), in
        their text, their titles and their files' names: a question naming a licence "the GPL"
        names what a file "GPL-3" holds, though its text may write only the long form."""
        vocabulary: set[str] = set()
        for doc in self.data.documents.values():
            named = f"{doc.title} {name_words(doc.source)} {doc.text}"
            vocabulary.update(map(stem, content_words(named)))
        return vocabulary

    def _sentence_idf(self) -> dict[str, float]:
        """Inverse sentence frequency of each stem: rare words are stronger evidence of an answer."""
        frequency: dict[str, int] = {}
        for row in range(len(self.data.sentences)):
            for token in set(bm25_tokenize(self.data.sentence_text(row))):
                frequency[token] = frequency.get(token, 0) + 1
        total = len(self.data.sentences) + 1
        return {token: float(np.log(total / (count + 0.5))) for token, count in frequency.items()}

    def writes_phrase(self, stems: list[str]) -> bool:
        """Whether a passage, or the title of its document, writes these stems in a row,
        function words aside ("Open Source Initiative" as ``["open", "sourc", "initi"]``). Read
        in the passages BM25 ranks best for them, not the whole corpus. A web page's or a PDF's
        title need not be in its text, and a question may name the document by it."""
        rows, _ = self.index.lexical_search(stems, PHRASE_PASSAGES)
        wanted = f" {' '.join(stems)} "
        titles = {
            self.data.documents[self.data.passages.doc_id(row)].title for row in rows.tolist()
        }
        return any(
            wanted in f" {' '.join(bm25_tokenize(text))} "
            for text in [*titles, *(self.data.passage_text(row) for row in rows.tolist())]
        )

    def idf(self, token: str) -> float:
        return self.sentence_idf.get(token, float(np.log(len(self.data.sentences) + 2)))

    def sentences_of(self, passage_row: int) -> list[int]:
        """Rows of the sentences lying inside a passage, in order."""
        return self.sentence_map.of(passage_row)

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
            shortened=frozenset(
                token
                for name in (self.aliases.shortened_names(question) if components.aliases else [])
                for token in bm25_tokenize(name)
            ),
        )

    # --- search --------------------------------------------------------------------------

    def pool(self, query: Query, components: Components = Components()) -> Pool:
        """Candidates from both indexes (the dense index's nearest and BM25's best), with the
        evidence and first-stage features the passage scorer reads."""
        total = len(self.data.passages)
        width = min(total, self.settings.candidates)
        rows, dense = np.zeros(0, np.int64), np.zeros(0)
        if width:
            rows, dense = self.index.dense_search(query.vector, width)
        bm25 = np.zeros(len(rows))
        if width and components.bm25 and query.tokens:
            found, found_scores = self.index.lexical_search(query.tokens, width)
            taken = set(rows.tolist())
            fresh = np.array([row not in taken for row in found.tolist()], dtype=bool)
            extra = found[fresh]  # found by BM25 only
            bm25 = np.concatenate(
                [self.index.lexical_scores(query.tokens, rows), found_scores[fresh]]
            ).astype(np.float64)
            rows = np.concatenate([rows, extra])
            dense = np.concatenate([dense, self.index.passage_vectors(extra) @ query.vector])
        years = query.years if components.dates else set()
        weights = self.token_weights(query)
        evidence = self.evidence.gather(
            query.vector, rows, dense, bm25, weights, years, query.aliases
        )
        return Pool(rows, evidence, passage_features(evidence))

    def search(
        self, query: Query, top_k: int, components: Components = Components()
    ) -> list[Candidate]:
        """Ranked candidates, best first, near-duplicates folded into the first of them.

        Every candidate is scored by the first-stage scorer; the best are scored again with the
        evidence read from their sentences' words. Candidate objects are made only for the few
        that can still be returned."""
        pool = self.pool(query, components)
        if not len(pool.rows):
            return []
        off = features_off(
            components.dense, components.bm25, components.sentences, components.dates
        )
        first = self.scorers.passage_first.score(pool.features, off)
        # Duplicates of the kept passages can rank anywhere; looking a little past top_k finds
        # the ones that matter without comparing every candidate with every other.
        head = np.argsort(-first, kind="stable")[: max(RERANKED, top_k * DUPLICATE_WINDOW)]
        refined = self.evidence.refine(
            query.vector, pool.rows[head], self.token_weights(query), query.aliases
        )
        features = np.hstack([pool.features[head], refined_features(refined)])
        second = self.scorers.passage.score(features, off)
        order = np.argsort(-second, kind="stable")[: top_k * DUPLICATE_WINDOW]
        evidence = pool.evidence
        ranked = [
            Candidate(
                int(pool.rows[head[i]]),
                float(evidence.dense[head[i]]),
                float(evidence.bm25[head[i]]),
                float(evidence.sentence[head[i]]),
                float(second[i]),
                coverage=float(evidence.coverage[head[i]]),
                sentence_coverage=float(refined.coverage[i]),
            )
            for i in order.tolist()
        ]
        return self._collapse_duplicates(ranked, top_k)

    def token_weights(self, query: Query) -> dict[str, float]:
        """The question's distinct stemmed words (aliases expanded), each weighted by rarity."""
        return self.evidence.weights(query.tokens)

    def term_presence(
        self, tokens: list[str], rows: np.ndarray, aliases: AliasForms = ()
    ) -> dict[str, np.ndarray]:
        """For each token, which of ``rows`` contain it (or the other form of an alias of
        ``aliases`` holding it)."""
        return presence_with_alias_forms(self.evidence.term_presence(tokens, rows), aliases)

    def _collapse_duplicates(self, window: list[Candidate], top_k: int) -> list[Candidate]:
        """The first ``top_k`` distinct passages of ``window`` (ranked): one that says the same as
        a better-ranked passage of another document (cosine above ``dedup_similarity``) is folded
        into it as a citation."""
        kept: list[int] = []  # positions in ``window``
        rows = [c.row for c in window]
        matrix = self.index.passage_vectors(rows)
        similar = (matrix @ matrix.T >= self.settings.dedup_similarity).tolist()
        documents = self.data.passages.doc[rows].tolist()
        for i, candidate in enumerate(window):
            twin = next(
                (k for k in kept if documents[k] != documents[i] and similar[k][i]),
                None,
            )
            if twin is not None:
                window[twin].duplicates.append(candidate.row)
            elif len(kept) < top_k:
                kept.append(i)
        return [window[i] for i in kept]
