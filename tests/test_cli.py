"""The ``qa`` command refuses bad input like the API (exit 2, one line, nothing created) and
``qa index verify`` tells an index out of step with its docs folder (exit 1) from a damaged one
(exit 2). In-process ``qa.cli.main`` over the real model and index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from qa.cli import main as cli_main
from qa.config import Settings


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


def test_verify_tells_an_index_out_of_step_with_its_docs_folder(
    tmp_path: Path,
    copy_seeds_index: Callable[[Path], Settings],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 17, Why-6: a file written into the docs folder without a build (a crash mid-upload)
    left ``qa index verify`` at exit 0."""
    copied = copy_seeds_index(tmp_path)
    verify = ["index", "verify", "--docs", str(copied.docs_dir), "--index", str(copied.index_dir)]
    assert cli_main(verify) == 0
    capsys.readouterr()

    (copied.docs_dir / "unreadable.txt").write_bytes(b"\x00\x01\x02" * 100)
    assert cli_main(verify) == 0  # a build skips it too: said, not a difference
    assert "skipped unreadable.txt" in capsys.readouterr().err

    (copied.docs_dir / "ferries.txt").write_text("The Brisk river ferries ran every hour.\n")
    first = sorted(p for p in copied.docs_dir.iterdir() if p.suffix == ".txt")[0]
    removed = first.name
    first.unlink()
    assert cli_main(verify) == 1
    warning = capsys.readouterr().err
    assert "out of step" in warning and "ferries.txt" in warning and removed in warning

    # Without --docs: the folder the index was built from, as its manifest records it (the
    # session's seeds copy, unchanged), not the changed copy nor the configured seeds/.
    assert cli_main(["index", "verify", "--index", str(copied.index_dir)]) == 0
