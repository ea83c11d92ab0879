"""Scoring the engine on a JSONL file of questions with gold phrases (format: eval/README.md).

A passage is relevant when it is at most 700 characters and its normalised text contains a gold
phrase; an answer is right when it contains one; unanswerable questions must get found: false.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.answering import Answer
from qa.errors import QAError
from qa.text import normalise

MAX_RELEVANT_CHARS = 700


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    gold: list[str]
    unanswerable: bool


# Confidence bands for the calibration table: (label, lowest confidence in the band).
CONFIDENCE_BANDS = (("0.8-1", 0.8), ("0.5-0.8", 0.5), ("0.2-0.5", 0.2), ("0-0.2", 0.0))


@dataclass(frozen=True)
class Collection:
    """A folder of documents and the questions asked of it."""

    name: str
    questions: Path
    docs_dir: Path | None  # None: the configured docs folder

    @classmethod
    def parse(cls, spec: str) -> Collection:
        """``QUESTIONS.jsonl`` or ``QUESTIONS.jsonl=DOCS``. Without ``=DOCS``, a folder beside
        the file named like it without ``_qa`` (``eval/man_pages_qa.jsonl`` -> ``eval/man_pages``)
        holds the documents if there is one; else the configured docs folder does."""
        questions, _, docs = spec.partition("=")
        path = Path(questions)
        name = path.stem.removesuffix("_qa")
        if docs:
            return cls(name, path, Path(docs))
        beside = path.parent / name
        return cls(name, path, beside if beside.is_dir() else None)

    def index_folder(self, cache_dir: Path) -> Path:
        """Where this collection's index is kept between runs (built incrementally)."""
        key = hashlib.sha256(str(self.docs_dir.resolve() if self.docs_dir else "").encode())
        return cache_dir / "eval-indexes" / f"{self.name}-{key.hexdigest()[:10]}"


@dataclass
class EvalReport:
    hit_at_1: float = 0.0
    hit_at_3: float = 0.0
    mrr_at_5: float = 0.0
    answer_accuracy: float = 0.0
    abstained_correctly: int = 0
    unanswerable: int = 0
    false_abstentions: int = 0
    answerable: int = 0
    mean_ms: float = 0.0
    # Per confidence band: answers given (found) and how many were right (wrong for every
    # answer to an unanswerable question).
    bands: dict[str, dict[str, int]] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            key: (round(v, 3) if isinstance(v, float) else v) for key, v in self.__dict__.items()
        }


def load_questions(path: Path) -> list[EvalQuestion]:
    """The questions of a JSONL file; ``QAError`` (one line, for the CLI) if it cannot be read."""
    questions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise QAError(f"cannot read questions from {path} ({error})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(
                EvalQuestion(
                    row["q"],
                    [normalise(g) for g in row.get("gold", [])],
                    bool(row.get("unanswerable")),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise QAError(f"{path}:{number}: not a question line ({error})") from None
    return questions


def is_relevant(text: str, gold: list[str]) -> bool:
    if len(text) > MAX_RELEVANT_CHARS:
        return False
    normalised = normalise(text)
    return any(phrase in normalised for phrase in gold)


def evaluate(questions: list[EvalQuestion], ask: Callable[[str], Answer]) -> EvalReport:
    """Ask every question (top 5) and score the answers."""
    report = EvalReport(bands={label: {"answers": 0, "right": 0} for label, _ in CONFIDENCE_BANDS})
    reciprocal_ranks, hits1, hits3, right, total_ms = [], 0, 0, 0, 0.0
    for item in questions:
        answer = ask(item.question)
        total_ms += answer.took_ms
        if answer.found:
            band = next(label for label, low in CONFIDENCE_BANDS if answer.confidence >= low)
            report.bands[band]["answers"] += 1
            report.bands[band]["right"] += int(
                not item.unanswerable and is_relevant_answer(answer.answer or "", item.gold)
            )
        if item.unanswerable:
            report.unanswerable += 1
            if not answer.found:
                report.abstained_correctly += 1
            else:
                report.misses.append(
                    {
                        "q": item.question,
                        "why": "answered an unanswerable question",
                        "answer": answer.answer,
                    }
                )
            continue
        report.answerable += 1
        ranks = [p.rank for p in answer.passages[:5] if is_relevant(p.text, item.gold)]
        first = ranks[0] if ranks else None
        hits1 += first == 1
        hits3 += first is not None and first <= 3
        reciprocal_ranks.append(1.0 / first if first else 0.0)
        answer_right = bool(answer.answer) and is_relevant_answer(answer.answer or "", item.gold)
        right += answer_right
        if not answer.found:
            report.false_abstentions += 1
        if first != 1 or not answer_right:
            report.misses.append(
                {
                    "q": item.question,
                    "first_relevant_rank": first,
                    "answer_right": answer_right,
                    "answer": answer.answer,
                }
            )
    n = max(1, report.answerable)
    report.hit_at_1, report.hit_at_3 = hits1 / n, hits3 / n
    report.mrr_at_5 = sum(reciprocal_ranks) / n
    report.answer_accuracy = right / n
    report.mean_ms = total_ms / max(1, len(questions))
    return report


def is_relevant_answer(answer: str, gold: list[str]) -> bool:
    normalised = normalise(answer)
    return any(phrase in normalised for phrase in gold)


def macro_average(reports: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The mean over collections of each rate (every collection counts the same)."""
    keys = ("hit_at_1", "hit_at_3", "mrr_at_5", "answer_accuracy")
    macro = {key: sum(r[key] for r in reports.values()) / max(1, len(reports)) for key in keys}
    refused = [
        r["abstained_correctly"] / r["unanswerable"] for r in reports.values() if r["unanswerable"]
    ]
    wrongly = [
        r["false_abstentions"] / r["answerable"] for r in reports.values() if r["answerable"]
    ]
    macro["refused"] = sum(refused) / max(1, len(refused))
    macro["false_refusals"] = sum(wrongly) / max(1, len(wrongly))
    return {key: round(value, 3) for key, value in macro.items()}
