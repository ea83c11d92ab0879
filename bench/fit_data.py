"""Gathering what the scorers are fitted on: for every question of every collection, each
candidate passage's features (and whether it is relevant), each candidate sentence's features
(and whether the answer built from it is right), and the facts the verdict reads.

Everything is computed by the engine's own functions (``Retriever.pool``, ``sentence_row``,
``answer_span``, ``QuestionFacts``), so a model fitted here scores what the engine computes.
Only the columns that depend on the other models (a sentence's passage rank, the verdict's
scores) are left to fill in per fold, by ``bench.fit``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.abstention import QuestionFacts
from qa.answer_choice import (
    answer_beyond_title,
    answer_span,
    answer_words,
    joined_span,
    neighbour_cosine,
    traits_of,
)
from qa.config import Settings
from qa.embedding import Embedder
from qa.evaluation import Collection, is_relevant, is_relevant_answer, load_questions
from qa.indexer import build_index
from qa.passage_features import PASSAGE_FEATURES, REFINED_FEATURES, refined_features
from qa.reading import reading_text
from qa.retrieval import Retriever, open_retriever
from qa.sentence_features import NOT_ANSWERS, sentence_row

# Passages whose sentences are gathered: the best by each signal, so that whatever a fitted
# model ranks in its top three has its sentences here.
_PER_SIGNAL = 12
_SIGNALS = ("dense", "bm25_rel", "sentence", "coverage", "heading_coverage", "sentence_both")


@dataclass
class QuestionData:
    question: str
    collection: str
    answerable: bool
    passage_x: np.ndarray  # [candidates, PASSAGE_FEATURES]
    refined_x: np.ndarray  # [candidates, REFINED_FEATURES] (the engine reads them for the best)
    passage_y: np.ndarray  # relevant or not
    rows: np.ndarray  # the candidates' passage rows
    dense: np.ndarray
    bm25: np.ndarray
    sentence: np.ndarray
    coverage: np.ndarray
    presence: dict[str, np.ndarray]  # question stem -> which candidates contain it
    facts: QuestionFacts
    # Candidate sentences of the gathered passages: the passage (index into the candidates),
    # its intrinsic features, and whether the answer built from it is right.
    sentence_passage: np.ndarray
    sentence_x: np.ndarray
    sentence_y: np.ndarray
    sentence_position: np.ndarray  # its place among its passage's sentences
    sentence_y_joined: np.ndarray  # right if the answer also took in the next sentence
    sentence_joins: np.ndarray  # ... and whether the two together are short enough to join
    sentence_beyond: np.ndarray  # ``answer_beyond_title`` of the answer built from it


def open_collection(
    settings: Settings, embedder: Embedder, collection: Collection, cache_dir: Path
) -> Retriever:
    """A retriever over the collection's own index (built or brought up to date first), the
    same folder ``qa eval`` keeps it in."""
    docs = collection.docs_dir or settings.docs_dir
    served = settings.model_copy(
        update={"docs_dir": docs, "index_dir": collection.index_folder(cache_dir)}
    )
    print(f"{collection.name}: indexing {docs}", file=sys.stderr)
    build_index(served, embedder)
    return open_retriever(served, embedder)


def gather(
    settings: Settings, embedder: Embedder, collection: Collection, cache_dir: Path
) -> list[QuestionData]:
    """Index the collection (incrementally, in its own folder) and gather every question's data."""
    retriever = open_collection(settings, embedder, collection, cache_dir)
    return [
        _question_data(retriever, collection.name, item.question, item.gold, item.unanswerable)
        for item in load_questions(collection.questions)
    ]


def _question_data(
    retriever: Retriever, collection: str, question: str, gold: list[str], unanswerable: bool
) -> QuestionData:
    query = retriever.prepare(question)
    pool = retriever.pool(query)
    refined = refined_features(
        retriever.evidence.refine(
            query.vector, pool.rows, retriever.token_weights(query), query.aliases
        )
    )
    every = np.hstack([pool.features, refined])
    data = retriever.data
    texts = [data.passage_text(row) for row in pool.rows.tolist()]
    relevant = np.array([not unanswerable and is_relevant(t, gold) for t in texts], dtype=bool)
    facts = QuestionFacts.of(retriever, query)
    presence = retriever.term_presence(list(dict.fromkeys(facts.stems)), pool.rows, query.aliases)
    traits = traits_of(retriever, query)

    gathered: set[int] = set()
    for signal in _SIGNALS:
        column = every[:, (*PASSAGE_FEATURES, *REFINED_FEATURES).index(signal)]
        gathered.update(np.argsort(-column, kind="stable")[:_PER_SIGNAL].tolist())
    sentence_passage, sentence_x, sentence_y = [], [], []
    sentence_position, sentence_y_joined, sentence_joins = [], [], []
    sentence_beyond = []
    for index in sorted(gathered):
        rows = retriever.sentences_of(int(pool.rows[index]))
        if not rows:
            continue
        cosine_of = dict(
            zip(rows, (retriever.index.sentence_vectors(rows) @ query.vector).tolist(), strict=True)
        )
        doc = data.documents[data.passages.doc_id(int(pool.rows[index]))]
        for position, row in enumerate(rows):
            kind = int(data.sentence_kinds[row])
            if kind in NOT_ANSWERS:
                continue
            text = data.sentence_text(row)
            around = neighbour_cosine(rows, position, cosine_of)
            start, end = answer_span(retriever, rows, position, traits)
            words = answer_words(retriever, rows, (start, end))
            sentence_beyond.append(
                answer_beyond_title(retriever, traits, rows, (start, end), int(pool.rows[index]))
            )
            sentence_x.append(
                sentence_row(text, kind, cosine_of[row], traits, position, around, words)
            )
            answer = joined = reading_text(doc.text[start:end])
            sentence_y.append(not unanswerable and is_relevant_answer(answer, gold))
            sentence_passage.append(index)
            sentence_position.append(position)
            pair = None
            if position + 1 < len(rows):
                pair = joined_span(retriever, rows, (position, position + 1), traits)
                if pair is not None:
                    joined = reading_text(doc.text[pair[0] : pair[1]])
            sentence_joins.append(pair is not None)
            sentence_y_joined.append(not unanswerable and is_relevant_answer(joined, gold))
    evidence = pool.evidence
    return QuestionData(
        question=question,
        collection=collection,
        answerable=not unanswerable,
        passage_x=pool.features,
        refined_x=refined,
        passage_y=relevant,
        rows=pool.rows,
        dense=evidence.dense,
        bm25=evidence.bm25,
        sentence=evidence.sentence,
        coverage=evidence.coverage,
        presence=presence,
        facts=facts,
        sentence_passage=np.array(sentence_passage, dtype=np.int64),
        sentence_x=np.array(sentence_x, dtype=np.float64).reshape(len(sentence_y), -1),
        sentence_y=np.array(sentence_y, dtype=bool),
        sentence_position=np.array(sentence_position, dtype=np.int64),
        sentence_y_joined=np.array(sentence_y_joined, dtype=bool),
        sentence_joins=np.array(sentence_joins, dtype=bool),
        sentence_beyond=np.array(sentence_beyond, dtype=np.float64),
    )
