"""Gathering the evidence for candidate passages: which of the question's (rarity-weighted)
words each holds, in its text, its document's title and its section heading; the years it is
about; how close in meaning its sentences and heading are.

Array operations over all candidates, except the per-sentence word shares (``refine``), which
read each sentence's words and so run only for the candidates the first ranking keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet

import numpy as np

from qa.aliases import AliasForms, presence_with_alias_forms, with_alias_forms
from qa.dates import find_years
from qa.documents import name_words
from qa.passage_features import PassageEvidence, SentenceEvidence
from qa.sentence_map import SentenceMap
from qa.store import SearchIndex
from qa.text import bm25_tokenize

_STEMS_CACHE = 200_000  # sentences whose stems are kept between questions (about 40 MB)


class EvidenceReader:
    """What evidence gathering needs of one index version, computed once when it is loaded."""

    def __init__(
        self, index: SearchIndex, sentences: SentenceMap, idf: Callable[[str], float]
    ) -> None:
        self.index = index
        self.data = data = index.data
        self.sentences = sentences
        self.idf = idf
        doc_ids = data.passages.doc_ids
        documents = [data.documents[d] for d in doc_ids]
        # What each document is about, as the words of its title and of its file's name: people
        # name a file for its subject ("sil-ofl-1.1.txt", "GPL-3"), and a text opening with a
        # copyright line or a tool's marker has a poor title of its own.
        self.title_stems = [
            frozenset(bm25_tokenize(f"{doc.title} {name_words(doc.source)}")) for doc in documents
        ]
        # For each title word, the documents (in the passages' numbering) whose titles hold it.
        holders: dict[str, list[int]] = {}
        for number, stems in enumerate(self.title_stems):
            for stem in stems:
                holders.setdefault(stem, []).append(number)
        self._title_holders = {stem: np.array(found) for stem, found in holders.items()}
        # The year each document (in the passages' numbering) was published, 0 if undated.
        self.published = np.array(
            [int(doc.published[:4]) if doc.published else 0 for doc in documents], dtype=np.int32
        )
        # Years a passage's text mentions, kept only for the passages that mention any (a set
        # per passage would cost ~200 bytes each at a million passages).
        self.text_years: dict[int, frozenset[int]] = {}
        for row in range(len(data.passages)):
            years = find_years(data.passage_text(row))
            if years:
                self.text_years[row] = frozenset(years)
        self.corpus_years: set[int] = set().union(*self.text_years.values()) | {
            int(y) for y in self.published.tolist() if y
        }
        self._stems: dict[int, frozenset[str]] = {}
        if len(data.sentences) <= _STEMS_CACHE:
            # Every sentence's words are read now, while the version loads, when the cache can
            # hold them all. Read on demand, the forty candidates a question refines bring about
            # ninety sentences never read before, and reading those took as long as the rest
            # of the search (``qa bench``: 2,000 passages, 7,000 sentences read in 0.17 s).
            for row in range(len(data.sentences)):
                self.stems(row)

    def weights(self, tokens: list[str]) -> dict[str, float]:
        """The question's distinct stemmed words, each weighted by rarity."""
        return {token: self.idf(token) for token in dict.fromkeys(tokens)}

    def term_presence(self, tokens: list[str], rows: np.ndarray) -> dict[str, np.ndarray]:
        """For each token, which of ``rows`` contain it (the store's lexical index knows)."""
        return self.index.term_presence(tokens, rows)

    def gather(
        self,
        vector: np.ndarray,
        rows: np.ndarray,
        dense: np.ndarray,
        bm25: np.ndarray,
        weights: dict[str, float],
        years: set[int],
        aliases: AliasForms = (),
    ) -> PassageEvidence:
        """The evidence for every candidate (``rows``, with their dense and BM25 scores); a
        passage holding one form of an alias the question mentions holds both."""
        data = self.data
        total = sum(weights.values()) or 1.0
        documents = data.passages.doc[rows]
        coverage = np.zeros(len(rows))
        presence = presence_with_alias_forms(self.term_presence(list(weights), rows), aliases)
        titled = self._title_presence(documents, list(weights), aliases)
        for token, present in presence.items():
            coverage += weights[token] * (present | titled[token])
        title = self._shares(
            documents, weights, total, lambda d: with_alias_forms(self.title_stems[d], aliases)
        )
        heading_rows = self.sentences.heading[rows]
        heading = self._shares(
            heading_rows, weights, total, lambda h: with_alias_forms(self.stems(h), aliases)
        )
        heading_dense = np.zeros(len(rows))
        has_heading = heading_rows >= 0
        if has_heading.any():
            heading_dense[has_heading] = (
                self.index.sentence_vectors(heading_rows[has_heading]) @ vector
            )
        published = np.zeros(len(rows))
        mentioned = np.zeros(len(rows))
        other = np.zeros(len(rows))
        if years:
            published_year = self.published[documents]
            published = np.isin(published_year, list(years)).astype(np.float64)
            mentioned = np.array(
                [bool(self.text_years.get(row, frozenset()) & years) for row in rows.tolist()],
                dtype=np.float64,
            )
            other = ((published_year > 0) & (published == 0) & (mentioned == 0)).astype(np.float64)
        document_dense = np.full(int(documents.max()) + 1 if len(rows) else 0, -1.0)
        np.maximum.at(document_dense, documents, dense)
        chars = (data.passages.end[rows] - data.passages.start[rows]).astype(np.float64)
        return PassageEvidence(
            dense=dense,
            bm25=bm25,
            sentence=self._best_sentence_cosine(vector, rows),
            heading_dense=heading_dense,
            document_dense=document_dense[documents] if len(rows) else np.zeros(0),
            coverage=coverage / total,
            title_coverage=title,
            heading_coverage=heading,
            year_published=published,
            year_mentioned=mentioned,
            year_other=other,
            chars=chars,
        )

    def refine(
        self,
        vector: np.ndarray,
        rows: np.ndarray,
        weights: dict[str, float],
        aliases: AliasForms = (),
    ) -> SentenceEvidence:
        """For each of ``rows``: the largest share of the question's weighted words one of its
        sentences holds, and the best sum of a sentence's cosine and share (a sentence both close
        in meaning and holding the question's words is precise evidence)."""
        share = np.zeros(len(rows))
        both = np.zeros(len(rows))
        gathered, counts = self.sentences.runs(rows)
        has = counts > 0
        if has.any():
            starts = np.cumsum(counts[has]) - counts[has]
            cosines = self.index.sentence_vectors(gathered) @ vector
            total = sum(weights.values()) or 1.0
            shares = (
                np.array(
                    [
                        _weight_held(weights, with_alias_forms(self.stems(row), aliases))
                        for row in gathered.tolist()
                    ]
                )
                / total
            )
            share[has] = np.maximum.reduceat(shares, starts)
            both[has] = np.maximum.reduceat(cosines + shares, starts)
        return SentenceEvidence(share, both)

    def stems(self, sentence_row: int) -> frozenset[str]:
        """The stemmed words of a sentence (cached: the same sentences come back question after
        question)."""
        if sentence_row < 0:
            return frozenset()
        found = self._stems.get(sentence_row)
        if found is None:
            found = frozenset(bm25_tokenize(self.data.sentence_text(sentence_row)))
            if len(self._stems) >= _STEMS_CACHE:
                self._stems.clear()
            self._stems[sentence_row] = found
        return found

    def _best_sentence_cosine(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Each candidate's best sentence by cosine (0 without sentences)."""
        best = np.zeros(len(rows))
        gathered, counts = self.sentences.runs(rows)
        has = counts > 0
        if has.any():
            starts = np.cumsum(counts[has]) - counts[has]
            best[has] = np.maximum.reduceat(self.index.sentence_vectors(gathered) @ vector, starts)
        return best

    def _title_presence(
        self, documents: np.ndarray, tokens: list[str], aliases: AliasForms
    ) -> dict[str, np.ndarray]:
        """For each token, which candidates' document titles (or file names) hold it. A passage
        counts a word its title holds as its own: the passage on grep's ``-l`` option is about
        grep without repeating the name, and a page's opening passage, which repeats it, should
        not win on that word alone."""
        nowhere = np.zeros(len(documents), dtype=bool)
        presence = {
            token: _among(documents, self._title_holders[token])
            if token in self._title_holders
            else nowhere
            for token in tokens
        }
        return presence_with_alias_forms(presence, aliases)

    @staticmethod
    def _shares(
        keys: np.ndarray,
        weights: dict[str, float],
        total: float,
        stems_of: Callable[[int], AbstractSet[str]],
    ) -> np.ndarray:
        """The share of the question's weighted words in the stems of each key (a document or a
        heading), computed once per distinct key."""
        distinct, inverse = np.unique(keys, return_inverse=True)
        shares = np.array(
            [_weight_held(weights, stems_of(int(k))) / total for k in distinct.tolist()]
        )
        return shares[inverse] if len(keys) else np.zeros(0)


def _among(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which of ``values`` ``sorted_set`` (ascending, not empty) holds: ``np.isin`` by binary
    search, in a quarter of its time for the hundred candidates of a question."""
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


def _weight_held(weights: dict[str, float], stems: AbstractSet[str]) -> float:
    """The summed weight of the question's words that ``stems`` hold (summed in the question's
    order, so that the result does not depend on set order)."""
    if stems.isdisjoint(weights):
        return 0.0
    return sum(w for t, w in weights.items() if t in stems)
