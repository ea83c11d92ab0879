"""Incremental builds: only new and changed documents are embedded; deleted ones disappear."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from qa.config import Settings
from qa.embedding import Embedder
from qa.indexer import build_index
from qa.store import load_version, verify_version

NEW_DOC = "Lambeth children's services were rated requires improvement by inspectors in 2021.\n"


def test_first_build_indexes_every_seed(settings: Settings, embedder: Embedder) -> None:
    report = build_index(settings, embedder)
    assert report.added == 5 and report.unchanged == 0 and report.failed == []
    assert report.embedded == report.passages > 0
    verify_version(settings.index_dir)


def test_adding_one_file_embeds_only_its_passages(settings: Settings, embedder: Embedder) -> None:
    first = build_index(settings, embedder)
    (settings.docs_dir / "new.txt").write_text(NEW_DOC)
    second = build_index(settings, embedder)
    assert (second.added, second.unchanged, second.updated, second.removed) == (1, 5, 0, 0)
    assert second.embedded == 1  # one short sentence makes one passage
    assert second.passages == first.passages + 1


def test_unchanged_folder_writes_no_new_version(settings: Settings, embedder: Embedder) -> None:
    first = build_index(settings, embedder)
    again = build_index(settings, embedder)
    assert again.embedded == 0 and again.unchanged == 5
    assert again.version == first.version


def test_changed_and_deleted_documents(settings: Settings, embedder: Embedder) -> None:
    build_index(settings, embedder)
    seeds = sorted(settings.docs_dir.glob("*.txt"))
    seeds[0].write_text(seeds[0].read_text() + "\nA closing line added later.\n")
    seeds[1].unlink()
    report = build_index(settings, embedder)
    assert (report.updated, report.removed, report.unchanged) == (1, 1, 3)
    data = load_version(settings.index_dir).data
    assert {d.source for d in data.documents.values()} == {p.name for p in seeds if p.exists()}
    changed = next(d for d in data.documents.values() if d.source == seeds[0].name)
    assert changed.text.endswith("A closing line added later.\n")


def test_bad_file_is_skipped_and_the_rest_is_built(settings: Settings, embedder: Embedder) -> None:
    (settings.docs_dir / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (settings.docs_dir / "empty.txt").write_text("")
    report = build_index(settings, embedder)
    assert report.added == 5
    assert sorted(f["source"] for f in report.failed) == ["broken.pdf", "empty.txt"]
    assert all(f["error"] for f in report.failed)


def test_full_flag_and_parameter_change_reembed_everything(
    settings: Settings, embedder: Embedder
) -> None:
    first = build_index(settings, embedder)
    assert build_index(settings, embedder, full=True).embedded == first.passages
    smaller = settings.model_copy(update={"max_chars": 400})
    report = build_index(smaller, embedder)
    assert report.full and report.embedded == report.passages > first.passages


def test_every_passage_offset_is_exact(seeds_index: Settings) -> None:
    data = load_version(seeds_index.index_dir).data
    for record in data.passages:
        text = data.documents[record.doc_id].text[record.start : record.end]
        assert 0 < len(text) <= seeds_index.max_chars
        assert text == text.strip()


def test_missing_docs_folder_is_a_clear_error(tmp_path: Path, embedder: Embedder) -> None:
    from qa.errors import QAError

    settings = Settings(docs_dir=tmp_path / "nope", index_dir=tmp_path / "index")
    with pytest.raises(QAError, match="does not exist"):
        build_index(settings, embedder)


def test_a_reader_that_cannot_even_import_fails_only_its_file(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As in an install that lacks a reader's library: the PDF reader's import fails. That one
    file is reported with its reason; the build goes on and exits 0."""
    from qa.cli import main as cli_main

    (settings.docs_dir / "page.pdf").write_bytes(b"%PDF-1.4\n% a page\n")
    monkeypatch.setitem(sys.modules, "pypdf", None)  # `from pypdf import ...` raises
    paths = ["--docs", str(settings.docs_dir), "--index", str(settings.index_dir)]
    assert cli_main(["index", "build", *paths]) == 0
    out, err = capsys.readouterr()
    assert "5 documents" in out and "failed 1" in out
    assert "skipped page.pdf: could not be read (ModuleNotFoundError" in err
