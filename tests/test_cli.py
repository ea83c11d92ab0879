"""The ``qa`` command refuses bad input like the API (exit 2, one line, nothing created).
In-process ``qa.cli.main`` over the real model and index."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.cli import main as cli_main


def entries(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


@pytest.mark.parametrize(
    "command",
    [
        ["index", "build", "--docs", "{missing}", "--index", "{index}"],
        ["index", "build", "--docs", "{a_file}", "--index", "{index}"],
        ["ask", "a question", "--docs", "{missing}", "--index", "{index}"],
        ["serve", "--docs", "{missing}", "--index", "{index}", "--port", "1"],
        ["eval", "{missing}/qa.jsonl", "--docs", "{docs}", "--index", "{index}"],
        ["eval", "{questions}={missing}", "--docs", "{docs}", "--index", "{index}"],
        ["index", "verify", "--index", "{index}"],
    ],
    ids=["build", "build-file", "ask", "serve", "eval-questions", "eval-docs", "verify"],
)
def test_a_failed_command_exits_2_with_one_line_and_creates_nothing(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17, Why-11: ``qa index build --docs /nonexistent`` exited 2 but made the index
    folder; ``qa eval`` with a missing question file built the index first, then crashed."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("The Brisk river ferries ran every hour.\n")
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "qa.jsonl").write_text('{"q": "how often did the ferries run", "gold": []}\n')
    before = entries(tmp_path)
    names = {
        "missing": str(tmp_path / "missing"),
        "a_file": str(tmp_path / "a-file"),
        "index": str(tmp_path / "index"),
        "docs": str(tmp_path / "docs"),
        "questions": str(tmp_path / "qa.jsonl"),
    }
    assert cli_main([part.format(**names) for part in command]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("qa: error: ") and "\n" not in error, error
    assert entries(tmp_path) == before

