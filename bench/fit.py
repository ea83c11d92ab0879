"""Fitting the scorers (``qa/weights.json``) and reporting them leave-one-collection-out.

    python -m bench.fit                      # report in-sample and held-out figures
    python -m bench.fit --write              # ... and write qa/weights.json (fit on all)
    python -m bench.fit --keep-rankers --verdict-held-out --data d.pkl --only a,b,c
                                             # the verdict alone, held out, on three collections

Four logistic regressions (scikit-learn, a dev dependency; the engine only reads their weights):
passage relevance, answer sentence, answerable, answer right. Every figure is given twice: fitted
on all collections and scored in-sample, and fitted without a collection and scored on it. The
verdict's models read features made by the passage and sentence models; those features are
computed with models that never saw the question's collection (nested leave-one-out), so the
verdict learns how held-out scores look, which is how a new corpus's scores look.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

from bench.fit_data import QuestionData, gather
from qa.abstention import JUDGED_PASSAGES, QUESTION_FEATURES, question_row
from qa.answer_choice import (
    ANSWER_PASSAGES,
    AnswerChoice,
    SentencePool,
    answer_margin,
    better_neighbour,
)
from qa.config import PROJECT_ROOT, get_settings
from qa.embedding import Embedder
from qa.evaluation import CONFIDENCE_BANDS, Collection
from qa.passage_features import PASSAGE_FEATURES, REFINED_FEATURES, RERANKED
from qa.retrieval import Candidate
from qa.scorers import WEIGHTS_FILE, LinearScorer, Scorers, shipped_scorers
from qa.sentence_features import SENTENCE_FEATURES, finish

SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval"
DEFAULT_COLLECTIONS = (
    f"{SHARED_EVAL / 'dev_qa.jsonl'}={PROJECT_ROOT / 'seeds'}",
    str(SHARED_EVAL / "python_howto_qa.jsonl"),
    *(str(p) for p in sorted((PROJECT_ROOT / "eval").glob("*_qa.jsonl"))),
)
FALSE_REFUSALS = 0.03  # the share of answerable (training) questions the threshold may refuse


def fit_listwise(
    groups: list[tuple[np.ndarray, np.ndarray]], names: Sequence[str], c: float
) -> LinearScorer:
    """A linear scorer fitted to pick, in each group (one question's candidates), one of its
    positives: the softmax over the group's scores, maximising the probability of the positives
    (L2-regularised like scikit-learn's ``C``). Groups without a positive teach nothing."""
    groups = [(x, y) for x, y in groups if y.any() and len(y) > 1]
    stacked = np.vstack([x for x, _ in groups])
    mean = stacked.mean(axis=0)
    scale = stacked.std(axis=0)
    scale[scale < 1e-9] = 1.0
    standard = [((x - mean) / scale, y.astype(bool)) for x, y in groups]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, gradient = 0.5 * float(w @ w) / c, w / c
        for x, y in standard:
            scores = x @ w
            top = scores.max()
            p = np.exp(scores - top)
            p /= p.sum()
            positive = p[y].sum()
            total -= float(np.log(positive + 1e-300))
            q = np.where(y, p / max(positive, 1e-300), 0.0)  # posterior over the positives
            gradient -= x.T @ (q - p)
        return total, gradient

    result = minimize(loss, np.zeros(stacked.shape[1]), jac=True, method="L-BFGS-B")
    return LinearScorer(tuple(names), mean, scale, result.x, 0.0)


def fit_linear(x: np.ndarray, y: np.ndarray, names: Sequence[str], c: float) -> LinearScorer:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit((x - mean) / scale, y.astype(int))
    return LinearScorer(tuple(names), mean, scale, model.coef_[0], float(model.intercept_[0]))


@dataclass
class Choice:
    """What the engine would do for one question under some models."""

    order: np.ndarray  # candidate indices, best first
    scores: np.ndarray  # passage log-odds, per candidate
    answer: AnswerChoice | None  # only its scores are meaningful here
    answer_right: bool


def ranking(question: QuestionData, models: Models) -> tuple[np.ndarray, np.ndarray]:
    """The engine's two-stage order of the candidates (best first) and each one's score: the
    first stage for all, the second for the best ``RERANKED`` of them, which lead."""
    first = models.passage_first.score(question.passage_x)
    head = np.argsort(-first, kind="stable")[:RERANKED]
    features = np.hstack([question.passage_x[head], question.refined_x[head]])
    second = models.passage.score(features)
    scores = np.full(len(first), -np.inf)
    scores[head] = second
    return head[np.argsort(-second, kind="stable")], scores


def decide(question: QuestionData, models: Models) -> Choice:
    order, scores = ranking(question, models)
    top = order[:ANSWER_PASSAGES]
    rank_of = {int(index): rank for rank, index in enumerate(top.tolist())}
    chosen = np.array([int(p) in rank_of for p in question.sentence_passage.tolist()], dtype=bool)
    if not chosen.any():
        return Choice(order, scores, None, False)
    x = question.sentence_x[chosen].copy()
    passages = question.sentence_passage[chosen]
    ranks = np.array([rank_of[int(p)] for p in passages.tolist()], dtype=np.float64)
    finish(x, ranks, scores[passages] - scores[order[0]])
    sentence_scores = models.sentence.score(x)
    ranked = np.argsort(-sentence_scores, kind="stable")
    best = int(ranked[0])
    right = bool(question.sentence_y[chosen][best])
    positions = question.sentence_position[chosen]
    # The engine answers with the best sentence and its better neighbour, by the same rule.
    pool = SentencePool(passages, np.arange(len(passages)), positions, x, [])
    partner = better_neighbour(pool, sentence_scores, best)
    if partner is not None:
        earlier = best if positions[best] < positions[partner] else partner
        if question.sentence_joins[chosen][earlier]:
            right = bool(question.sentence_y_joined[chosen][earlier])
    answer = AnswerChoice(
        0,
        0,
        0,
        float(sentence_scores[best]),
        float(x[best, SENTENCE_FEATURES.index("cosine")]),
        float(x[best, SENTENCE_FEATURES.index("overlap")]),
        answer_margin(sentence_scores, passages, positions, best),
        float(question.sentence_beyond[chosen][best]),
    )
    return Choice(order, scores, answer, right)


def verdict_row(question: QuestionData, choice: Choice) -> np.ndarray:
    top_indices = choice.order[:JUDGED_PASSAGES].tolist()
    top = [
        Candidate(
            int(question.rows[i]),
            float(question.dense[i]),
            float(question.bm25[i]),
            float(question.sentence[i]),
            float(choice.scores[i]),
            coverage=float(question.coverage[i]),
            sentence_coverage=float(
                question.refined_x[i, REFINED_FEATURES.index("sentence_coverage")]
            ),
        )
        for i in top_indices
    ]
    presence = {stem: held[top_indices] for stem, held in question.presence.items()}
    return question_row(question.facts, top, presence, choice.answer)


@dataclass
class Models:
    passage_first: LinearScorer
    passage: LinearScorer
    sentence: LinearScorer


def fit_rankers(
    questions: list[QuestionData],
    c: float,
    passage_rankers: tuple[LinearScorer, LinearScorer] | None = None,
) -> Models:
    """The two passage rankers and the sentence scorer, fitted in that order (the sentence
    scorer on the sentences of the passages the rankers put first); with ``passage_rankers``,
    only the sentence scorer is fitted, under those."""
    answerable = [q for q in questions if q.answerable]
    if passage_rankers is not None:
        first, second = passage_rankers
    else:
        first = fit_listwise([(q.passage_x, q.passage_y) for q in answerable], PASSAGE_FEATURES, c)
        groups = []
        for q in answerable:
            head = np.argsort(-first.score(q.passage_x), kind="stable")[:RERANKED]
            groups.append((np.hstack([q.passage_x[head], q.refined_x[head]]), q.passage_y[head]))
        second = fit_listwise(groups, (*PASSAGE_FEATURES, *REFINED_FEATURES), c)
    partial = Models(first, second, second)  # the sentence model is fitted next
    xs, ys = [], []
    for q in answerable:
        order, scores = ranking(q, partial)
        rank_of = {int(i): r for r, i in enumerate(order[:ANSWER_PASSAGES].tolist())}
        chosen = np.array([int(p) in rank_of for p in q.sentence_passage.tolist()], dtype=bool)
        if not chosen.any():
            continue
        rows = q.sentence_x[chosen].copy()
        passages = q.sentence_passage[chosen]
        ranks = np.array([rank_of[int(p)] for p in passages.tolist()], dtype=np.float64)
        xs.append(finish(rows, ranks, scores[passages] - scores[order[0]]))
        ys.append(q.sentence_y[chosen])
    sentence = fit_listwise(list(zip(xs, ys, strict=True)), SENTENCE_FEATURES, c)
    return Models(first, second, sentence)


def fit_all(by_collection: dict[str, list[QuestionData]], c: float) -> Scorers:
    """Every model fitted on these collections; the verdict's on nested held-out features."""
    names = list(by_collection)
    rows, answerable, right = [], [], []
    for held in names:
        inner = fit_rankers([q for n in names if n != held for q in by_collection[n]], c)
        for q in by_collection[held]:
            choice = decide(q, inner)
            rows.append(verdict_row(q, choice))
            answerable.append(q.answerable)
            right.append(q.answerable and choice.answer_right)
    x = np.vstack(rows)
    answerable_model = fit_linear(x, np.array(answerable), QUESTION_FEATURES, c)
    right_model = fit_linear(x, np.array(right), QUESTION_FEATURES, c)
    probabilities = answerable_model.probability(x)[np.array(answerable)]
    threshold = float(np.quantile(probabilities, FALSE_REFUSALS)) if len(probabilities) else 0.5
    rankers = fit_rankers([q for n in names for q in by_collection[n]], c)
    return Scorers(
        rankers.passage_first,
        rankers.passage,
        rankers.sentence,
        answerable_model,
        right_model,
        threshold,
    )


@dataclass
class Report:
    answerable: int = 0
    unanswerable: int = 0
    hit1: int = 0
    hit3: int = 0
    reciprocal: float = 0.0
    right: int = 0
    refused: int = 0
    false_refusals: int = 0
    bands: dict[str, list[int]] = field(
        default_factory=lambda: {label: [0, 0] for label, _ in CONFIDENCE_BANDS}
    )

    def as_dict(self) -> dict[str, Any]:
        n = max(1, self.answerable)
        return {
            "hit_at_1": round(self.hit1 / n, 3),
            "hit_at_3": round(self.hit3 / n, 3),
            "mrr_at_5": round(self.reciprocal / n, 3),
            "answer_accuracy": round(self.right / n, 3),
            "refused": f"{self.refused}/{self.unanswerable}",
            "false_refusals": f"{self.false_refusals}/{self.answerable}",
            "bands": {k: f"{v[1]}/{v[0]}" for k, v in self.bands.items() if v[0]},
            "sure": self.sure(),
        }

    def sure(self) -> str:
        """Answers at confidence >= 0.5, and how many of them were right."""
        confident = [self.bands[label] for label, low in CONFIDENCE_BANDS if low >= 0.5]
        return f"{sum(v[1] for v in confident)}/{sum(v[0] for v in confident)}"


def simulate(scorers: Scorers, questions: list[QuestionData]) -> Report:
    report = Report()
    for q in questions:
        choice = decide(q, Models(scorers.passage_first, scorers.passage, scorers.sentence))
        features = verdict_row(q, choice)
        found = (
            choice.answer is not None
            and scorers.answerable.probability(features)[0] >= scorers.answer_threshold
        )
        confidence = float(scorers.right.probability(features)[0])
        right = found and q.answerable and choice.answer_right
        if found:
            band = next(label for label, low in CONFIDENCE_BANDS if confidence >= low)
            report.bands[band][0] += 1
            report.bands[band][1] += int(right)
        if not q.answerable:
            report.unanswerable += 1
            report.refused += int(not found)
            continue
        report.answerable += 1
        relevant = q.passage_y[choice.order[:5]]
        first = int(np.argmax(relevant)) + 1 if relevant.any() else None
        report.hit1 += first == 1
        report.hit3 += first is not None and first <= 3
        report.reciprocal += 1.0 / first if first else 0.0
        report.right += int(right)
        report.false_refusals += int(not found)
    return report


def held_out_scorers(by_collection: dict[str, list[QuestionData]], c: float) -> dict[str, Scorers]:
    """For each collection, every model fitted without it."""
    return {
        name: fit_all({n: q for n, q in by_collection.items() if n != name}, c)
        for name in by_collection
    }


def held_out_verdicts(
    by_collection: dict[str, list[QuestionData]], c: float, rankers: Scorers
) -> dict[str, Scorers]:
    """For each collection, the verdict fitted without it, under ``rankers`` (the shipped ones):
    what refitting the verdict alone changes on a collection it has not seen."""
    return {
        name: replace(
            held_out,
            passage_first=rankers.passage_first,
            passage=rankers.passage,
            sentence=rankers.sentence,
        )
        for name, held_out in held_out_scorers(by_collection, c).items()
    }


def held_out_outcomes(
    by_collection: dict[str, list[QuestionData]], held_out: dict[str, Scorers]
) -> dict[tuple[str, str], tuple[bool, bool]]:
    """Each answerable question's (top passage relevant, answer right), by the models fitted
    without its collection."""
    outcomes = {}
    for name, questions in by_collection.items():
        for q in questions:
            if q.answerable:
                report = simulate(held_out[name], [q])
                outcomes[(name, q.question)] = (report.hit1 == 1, report.right == 1)
    return outcomes


def print_paired(
    baseline: dict[tuple[str, str], tuple[bool, bool]],
    candidate: dict[tuple[str, str], tuple[bool, bool]],
) -> None:
    """Questions the candidate data gets right and the baseline wrong (up), and the reverse
    (down), held out, with a two-sided sign test over the questions that moved."""
    from scipy.stats import binomtest

    shared = [key for key in candidate if key in baseline]
    names = sorted({name for name, _ in shared})
    print(f"\nheld out, against the baseline data ({len(shared)} answerable questions in both)")
    for column, label in ((0, "hit@1"), (1, "answer")):
        for name in [*names, "all"]:
            keys = [key for key in shared if name in ("all", key[0])]
            up = sum(candidate[k][column] > baseline[k][column] for k in keys)
            down = sum(candidate[k][column] < baseline[k][column] for k in keys)
            p = binomtest(up, up + down).pvalue if up + down else 1.0
            print(f"{label:7} {name:16} up {up:3}  down {down:3}  sign test p = {p:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fit", description=__doc__)
    parser.add_argument("collections", nargs="*", default=list(DEFAULT_COLLECTIONS))
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument("--write", action="store_true", help=f"write {WEIGHTS_FILE.name}")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--keep-rankers",
        action="store_true",
        help="refit only the verdict models: the passage and sentence scorers stay as shipped "
        "(held-out figures still refit everything per fold)",
    )
    parser.add_argument(
        "--keep-passage-rankers",
        action="store_true",
        help="the passage rankers stay as shipped; the sentence scorer is refitted under them, "
        "and the verdict models too (held-out figures still refit everything per fold)",
    )
    parser.add_argument(
        "--verdict-held-out",
        action="store_true",
        help="held-out figures refit only the verdict per fold, under the shipped rankers",
    )
    parser.add_argument(
        "--only",
        help="use only these of the gathered collections (names, comma-separated)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        help="gathered data: read from this file if it exists, else saved to it",
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="DATA",
        help="gathered baseline data (as --data): print which questions moved up or down, held out",
    )
    args = parser.parse_args(argv)
    if args.data is not None and args.data.exists():
        by_collection: dict[str, list[QuestionData]] = pickle.loads(args.data.read_bytes())
    else:
        settings = get_settings().model_copy(update={"answer_workers": 0})
        embedder = Embedder.from_settings(settings)
        by_collection = {}
        for spec in args.collections:
            collection = Collection.parse(spec)
            by_collection[collection.name] = gather(
                settings, embedder, collection, settings.cache_dir
            )
        if args.data is not None:
            args.data.write_bytes(pickle.dumps(by_collection))

    if args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - by_collection.keys())
        if unknown:
            parser.error(f"--only: no gathered collection named {', '.join(unknown)}")
        by_collection = {name: by_collection[name] for name in wanted}
    everything = fit_all(by_collection, args.c)
    if args.keep_rankers:
        shipped = shipped_scorers()
        everything = replace(
            everything,
            passage_first=shipped.passage_first,
            passage=shipped.passage,
            sentence=shipped.sentence,
        )
    elif args.keep_passage_rankers:
        shipped = shipped_scorers()
        kept = (shipped.passage_first, shipped.passage)
        everyone = [q for questions in by_collection.values() for q in questions]
        everything = replace(
            everything,
            passage_first=kept[0],
            passage=kept[1],
            sentence=fit_rankers(everyone, args.c, kept).sentence,
        )

    def folds(data: dict[str, list[QuestionData]]) -> dict[str, Scorers]:
        if args.verdict_held_out:
            return held_out_verdicts(data, args.c, shipped_scorers())
        return held_out_scorers(data, args.c)

    held_out = folds(by_collection)
    results: dict[str, dict[str, Any]] = {}
    for name, questions in by_collection.items():
        results[name] = {
            "in_sample": simulate(everything, questions).as_dict(),
            "held_out": simulate(held_out[name], questions).as_dict(),
        }
    if args.write:
        WEIGHTS_FILE.write_text(json.dumps(everything.as_dict(), indent=1) + "\n")
        print(f"wrote {WEIGHTS_FILE}", file=sys.stderr)
    if args.json:
        print(json.dumps(results))
        return 0
    print(
        f"{'collection':16} {'':9} hit@1  hit@3  MRR@5  answer  refused  false-ref  >=0.5 right"
        "  bands"
    )
    for name, result in results.items():
        for kind in ("in_sample", "held_out"):
            r = result[kind]
            print(
                f"{name:16} {kind:9} {r['hit_at_1']:.3f}  {r['hit_at_3']:.3f}  {r['mrr_at_5']:.3f}  "
                f"{r['answer_accuracy']:.3f}   {r['refused']:7}  {r['false_refusals']:9}  "
                f"{r['sure']:11}  {r['bands']}"
            )
    if args.against is not None:
        baseline: dict[str, list[QuestionData]] = pickle.loads(args.against.read_bytes())
        baseline = {name: baseline[name] for name in by_collection if name in baseline}
        print_paired(
            held_out_outcomes(baseline, folds(baseline)),
            held_out_outcomes(by_collection, held_out),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
