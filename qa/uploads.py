"""Changing the docs folder safely: a client's file name is never used as a path, and a batch of
writes and removals can be undone as a whole until it is committed.

Temporary and backup files are hidden (leading dot), so a build running meanwhile never reads them.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path

from qa.errors import BadUpload

MAX_NAME_BYTES = 150  # well under the usual 255-byte limit, leaving room for a suffix
_TWIN_KINDS = ("upload", "backup", "deleted")  # hidden files named .qa-<kind>-<random>
_MAX_SUFFIX_CHARS = 10
_RESERVED = set('<>:"/\\|?*')  # not allowed in Windows names; replaced so copies stay portable


def safe_filename(name: str | None) -> str:
    """The basename a client-supplied file name is stored under; ``BadUpload`` if none is left.

    Normalises first (NFKC turns a fullwidth solidus into "/"), then keeps only the last path part,
    drops control and format characters (NUL, right-to-left overrides), and strips leading dots
    (hidden files are never indexed, and ".." must never survive) and trailing dots and spaces.
    """
    text = unicodedata.normalize("NFKC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(
        "_" if char in _RESERVED else char
        for char in text
        if not unicodedata.category(char).startswith("C")
    )
    text = " ".join(text.split()).strip(" .")
    stem, dot, suffix = text.rpartition(".")
    if not dot or len(suffix) > _MAX_SUFFIX_CHARS:
        stem, suffix = text, ""
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8")) - 1
    stem = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore").strip(" .")
    if not stem:
        raise BadUpload(f"file name {_shown(name)} has no usable characters")
    return f"{stem}.{suffix}" if suffix else stem


def _shown(name: str | None) -> str:
    return repr((name or "")[:80])


def remove_leftovers(docs_dir: Path) -> list[Path]:
    """Delete the hidden files a crashed ``DocsChange`` left in ``docs_dir``; return what went.

    A crash rolls forward: files already renamed into place stay, documents moved aside for
    deletion stay deleted, and the backups that could have undone them go (their original names
    were never recorded). Only a holder of the build lock may call this: a live change in another
    process has files of the same names.
    """
    removed = []
    for kind in _TWIN_KINDS:
        for path in docs_dir.rglob(f".qa-{kind}-*"):
            if path.is_file() or path.is_symlink():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


class DocsChange:
    """Writes and removals in the docs folder, applied at once and undoable until ``commit``."""

    def __init__(self, docs_dir: Path) -> None:
        self.docs_dir = docs_dir.resolve()
        self._undo: list[Callable[[], None]] = []
        self._leftovers: list[Path] = []  # backups to delete on commit

    def _inside(self, path: Path) -> Path:
        """``path`` if its folder lies inside the docs folder (links resolved), else refuse.

        Only the folder is resolved: renames replace a final symbolic link, never write through it.
        """
        if path.name in ("", ".", "..") or not path.parent.resolve().is_relative_to(self.docs_dir):
            raise BadUpload(f"{path.name!r} would lie outside the docs folder")
        return path

    def _hidden_twin(self, path: Path, kind: str) -> Path:
        return path.parent / f".qa-{kind}-{uuid.uuid4().hex[:12]}"

    def write(self, name: str, data: bytes) -> None:
        """Put ``data`` at ``docs_dir/name`` atomically (temp file, fsync, rename)."""
        if name != safe_filename(name):
            raise BadUpload(f"unsafe file name {_shown(name)}")
        target = self._inside(self.docs_dir / name)
        temporary = self._hidden_twin(target, "upload")
        backup: Path | None = None
        try:
            with temporary.open("xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if target.exists():
                backup = self._backup(target)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            if backup is not None:
                backup.unlink(missing_ok=True)
                self._leftovers.remove(backup)
            raise
        if backup is None:
            self._undo.append(lambda: target.unlink(missing_ok=True))
        else:
            self._undo.append(lambda: os.replace(backup, target))

    def remove(self, source: str) -> None:
        """Move the document at ``source`` (relative to the docs folder) aside; gone on commit."""
        target = self._inside(self.docs_dir / source)
        if not target.exists():
            return  # already gone from disk: the next build drops it from the index
        backup = self._hidden_twin(target, "deleted")
        os.replace(target, backup)
        self._leftovers.append(backup)
        self._undo.append(lambda: os.replace(backup, target))

    def _backup(self, target: Path) -> Path:
        backup = self._hidden_twin(target, "backup")
        try:
            os.link(target, backup)  # a second name for the old content: cheap and exact
        except OSError:
            shutil.copy2(target, backup)
        self._leftovers.append(backup)
        return backup

    @property
    def changed(self) -> bool:
        return bool(self._undo)

    def rollback(self) -> None:
        """Put every file back as it was, newest change first; tries every step even if one fails."""
        failure: OSError | None = None
        while self._undo:
            try:
                self._undo.pop()()
            except OSError as error:
                failure = failure or error
        self._leftovers.clear()
        if failure is not None:
            raise failure

    def commit(self) -> None:
        """Keep the changes; delete the backups."""
        self._undo.clear()
        for leftover in self._leftovers:
            leftover.unlink(missing_ok=True)
        self._leftovers.clear()
