"""Start-up after a crash: leftovers of crashed writers go (only under the build lock), a change to
the docs folder that was cut short is indexed, and an edited manifest is caught by its checksum."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import pytest
from lock_holder import held_elsewhere

from qa.config import Settings
from qa.embedding import Embedder
from qa.errors import IndexCorrupt
from qa.service import QAService
from qa.store import versions as store

LATE = "Late note\n\nThe Quillmarsh lantern fair was first held in 1901 on the river Brisk.\n"


@pytest.fixture
def crashed(settings: Settings, seeds_index: Settings) -> Settings:
    """The seeds index, plus what writers killed mid-way leave behind in both folders."""
    shutil.copytree(seeds_index.index_dir, settings.index_dir)
    (settings.index_dir / ".tmp-v-20990101T000000-dead00").mkdir()
    (settings.index_dir / ".tmp-v-20990101T000000-dead00" / "passages.npy").write_bytes(b"half")
    (settings.index_dir / ".CURRENT.dead00").write_text("v-20990101T000000-dead00")
    docs = settings.docs_dir
    (docs / ".qa-upload-0123456789ab").write_bytes(b"an upload cut off half-wa")
    (docs / ".qa-backup-0123456789ab").write_bytes(b"the content an upload replaced\n")
    (docs / ".qa-deleted-0123456789ab").write_bytes(b"a document being deleted\n")
    (docs / "late.txt").write_text(LATE)  # renamed into place just before the crash
    return settings


def leftovers(settings: Settings) -> list[str]:
    names = [p.name for p in settings.index_dir.iterdir()] + [
        p.name for p in settings.docs_dir.iterdir()
    ]
    return sorted(n for n in names if n.startswith((".tmp-", ".CURRENT.", ".qa-")))


def test_start_up_removes_leftovers_and_indexes_the_interrupted_change(
    crashed: Settings, embedder: Embedder
) -> None:
    assert len(leftovers(crashed)) == 5
    service = QAService(crashed, embedder)
    health = service.health()
    assert leftovers(crashed) == []
    assert health["documents"] == 6 and health["notice"] is None
    answer = service.ask("When was the Quillmarsh lantern fair first held?")
    assert answer.passages[0].source == "late.txt"


def test_start_up_leaves_leftovers_to_a_writer_holding_the_lock(
    crashed: Settings, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    """Another writer mid-build owns its staging folder: a starting reader must not delete it."""
    with held_elsewhere(crashed.index_dir), caplog.at_level(logging.INFO, logger="qa.service"):
        service = QAService(crashed, embedder)
        health = service.health()
    assert len(leftovers(crashed)) == 5
    assert health["documents"] == 5  # served as it was; the writer's own build will catch up
    assert "another writer holds the build lock" in caplog.text


def test_an_edit_to_any_manifest_field_fails_its_checksum(
    seeds_index: Settings, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    shutil.copytree(seeds_index.index_dir, index)
    path = index / store.current_version(index) / store.MANIFEST
    manifest = json.loads(path.read_text())
    manifest["counts"]["documents"] += 1  # no file checksum covers this field
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="manifest.json does not match its checksum"):
        store.verify_version(index)


def test_version_names_sort_in_build_order_within_one_second() -> None:
    """Which version is newest decides fallbacks and clean-ups; builds a moment apart count."""
    names = []
    for _ in range(20):
        names.append(store.new_version_name())
        time.sleep(0.002)
    assert names == sorted(names) and len(set(names)) == 20
    assert all(store._VERSION_NAME.fullmatch(name) for name in names)
