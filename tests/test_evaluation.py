"""qa.evaluation, which produces the README's and docs/quality.md's quality tables: the relevance
rule, the counts, the confidence bands, collections and the macro average."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.answering import Answer, CitedPassage
from qa.errors import QAError
from qa.evaluation import (
    Collection,
    EvalQuestion,
    evaluate,
    is_relevant,
    load_questions,
    macro_average,
)


def _passage(rank: int, text: str) -> CitedPassage:
    return CitedPassage(rank, 1.0, text, "d", "T", "t.txt", None, 0, len(text), "0" * 64)


def _answer(question: str, answer: str | None, confidence: float, texts: list[str]) -> Answer:
    passages = [_passage(i + 1, t) for i, t in enumerate(texts)]
    return Answer(question, answer, answer is not None, confidence, 1.0, passages)


def test_relevance_is_normalised_containment_within_700_characters() -> None:
    gold = ['has retained its "good" rating']
    assert is_relevant("Hammersmith  and Fulham HAS RETAINED its “good”\nrating.", gold)
    assert not is_relevant("x" * 700 + ' has retained its "good" rating', gold)
    assert not is_relevant("It kept its rating.", gold)


def test_evaluate_counts_hits_answers_refusals_and_bands() -> None:
    questions = [
        EvalQuestion("q1", ["right phrase"], False),
        EvalQuestion("q2", ["right phrase"], False),
        EvalQuestion("q3", [], True),
        EvalQuestion("q4", [], True),
    ]
    answers = {
        "q1": _answer("q1", "The right phrase. [1]", 0.9, ["the right phrase here", "other"]),
        "q2": _answer("q2", None, 0.0, ["other", "other", "right phrase"]),
        "q3": _answer("q3", None, 0.0, ["other"]),
        "q4": _answer("q4", "Something. [1]", 0.6, ["other"]),
    }
    report = evaluate(questions, lambda q: answers[q])
    assert (report.hit_at_1, report.hit_at_3) == (0.5, 1.0)
    assert report.mrr_at_5 == pytest.approx((1 + 1 / 3) / 2)
    assert report.answer_accuracy == 0.5
    assert (report.abstained_correctly, report.unanswerable) == (1, 2)
    assert (report.false_abstentions, report.answerable) == (1, 2)
    assert report.bands["0.8-1"] == {"answers": 1, "right": 1}
    assert report.bands["0.5-0.8"] == {"answers": 1, "right": 0}  # an unanswerable answered


def test_question_files_are_checked_line_by_line(tmp_path: Path) -> None:
    good = tmp_path / "good_qa.jsonl"
    good.write_text(
        '{"q": "Who?", "gold": ["Sir Michael"]}\n\n{"q": "Why?", "unanswerable": true}\n'
    )
    assert load_questions(good) == [
        EvalQuestion("Who?", ["sir michael"], False),
        EvalQuestion("Why?", [], True),
    ]
    bad = tmp_path / "bad_qa.jsonl"
    bad.write_text('{"q": "Who?"}\nnot json\n')
    with pytest.raises(QAError, match="bad_qa.jsonl:2"):
        load_questions(bad)


def test_a_collection_finds_its_documents_beside_its_questions(tmp_path: Path) -> None:
    (tmp_path / "manuals").mkdir()
    questions = tmp_path / "manuals_qa.jsonl"
    assert Collection.parse(str(questions)) == Collection(
        "manuals", questions, tmp_path / "manuals"
    )
    assert Collection.parse(str(tmp_path / "dev_qa.jsonl")).docs_dir is None
    explicit = Collection.parse(f"{tmp_path / 'dev_qa.jsonl'}={tmp_path / 'seeds'}")
    assert explicit.docs_dir == tmp_path / "seeds"
    cache = tmp_path / "cache"
    assert explicit.index_folder(cache) != Collection.parse(str(questions)).index_folder(cache)


def test_the_macro_average_weighs_every_collection_the_same() -> None:
    small = {"hit_at_1": 1.0, "hit_at_3": 1.0, "mrr_at_5": 1.0, "answer_accuracy": 1.0}
    large = {"hit_at_1": 0.5, "hit_at_3": 0.5, "mrr_at_5": 0.5, "answer_accuracy": 0.0}
    reports = {
        "small": {
            **small,
            "abstained_correctly": 1,
            "unanswerable": 1,
            "false_abstentions": 0,
            "answerable": 2,
        },
        "large": {
            **large,
            "abstained_correctly": 0,
            "unanswerable": 4,
            "false_abstentions": 10,
            "answerable": 100,
        },
    }
    macro = macro_average(reports)
    assert macro["hit_at_1"] == 0.75 and macro["answer_accuracy"] == 0.5
    assert macro["refused"] == 0.5 and macro["false_refusals"] == 0.05
