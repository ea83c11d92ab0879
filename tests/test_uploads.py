"""Safe names for uploaded files, and docs-folder changes that undo completely."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.errors import BadUpload
from qa.uploads import MAX_NAME_BYTES, DocsChange, safe_filename


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("report.txt", "report.txt"),
        ("../../../../tmp/x.txt", "x.txt"),
        ("/etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\me\\notes.md", "notes.md"),
        ("..／..／etc／x.txt", "x.txt"),  # fullwidth solidus becomes "/" before the split
        ("nul\x00name.txt", "nulname.txt"),
        ("\u202egnp.txt", "gnp.txt"),  # right-to-left override dropped
        (".hidden.txt", "hidden.txt"),
        ("  spaced   out .txt ", "spaced out.txt"),
        ('what?<is>:"this"|*.txt', "what__is___this___.txt"),
        ("résumé 日本語.txt", "résumé 日本語.txt"),
        ("archive.tar.gz", "archive.tar.gz"),
        ("trailing.txt...", "trailing.txt"),
    ],
)
def test_safe_filename_keeps_only_a_harmless_basename(given: str, stored: str) -> None:
    assert safe_filename(given) == stored


@pytest.mark.parametrize("given", ["a" * 300 + ".txt", "日" * 300 + ".md", "x" * 1000])
def test_long_names_are_shortened_keeping_the_suffix(given: str) -> None:
    name = safe_filename(given)
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert name.endswith(given.rpartition(".")[2] if "." in given else "x")


@pytest.mark.parametrize("given", ["", None, "..", ".", "/", "../..", " . ", "\x00", "\u202e"])
def test_names_with_nothing_usable_are_refused(given: str | None) -> None:
    with pytest.raises(BadUpload):
        safe_filename(given)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_rollback_restores_written_replaced_and_removed_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "old.txt").write_bytes(b"old")
    (tmp_path / "sub" / "gone.txt").write_bytes(b"gone")
    before = snapshot(tmp_path)
    change = DocsChange(tmp_path)
    change.write("new.txt", b"new")
    change.write("old.txt", b"replaced")
    change.remove("sub/gone.txt")
    assert (tmp_path / "old.txt").read_bytes() == b"replaced"
    assert not (tmp_path / "sub" / "gone.txt").exists()
    change.rollback()
    assert snapshot(tmp_path) == before


def test_commit_keeps_changes_and_leaves_no_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_bytes(b"old")
    (tmp_path / "gone.txt").write_bytes(b"gone")
    change = DocsChange(tmp_path)
    change.write("old.txt", b"replaced")
    change.remove("gone.txt")
    change.commit()
    assert snapshot(tmp_path) == {"old.txt": b"replaced"}


def test_writes_never_leave_the_folder(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    change = DocsChange(docs)
    for name in ["../escape.txt", "/tmp/escape.txt", "sub/inner.txt", ".hidden.txt"]:
        with pytest.raises(BadUpload):
            change.write(name, b"x")
    with pytest.raises(BadUpload):
        change.remove("../outside.txt")
    assert list(tmp_path.rglob("*")) == [docs]
