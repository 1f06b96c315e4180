"""The index directory on disk, and the file operations that keep it safe to read at any time.

::

    INDEX_DIR/
      current -> versions/<version-id>     relative symlink, replaced atomically
      versions/<version-id>/               one complete, immutable index
      versions/<version-id>.tmp/           being written; never read; removed by the next run
      .lock                                held by the one refresh that may write

A version directory is written under its ``.tmp`` name, flushed to disk, renamed, and only then
pointed to by ``current``: a reader sees either the old index or the new one, never a mixture.
Everything Kotae creates here is readable by its owner only.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from knowledge.errors import IndexBusyError

__all__ = [
    "CURRENT",
    "LEXICAL_DIR",
    "LOCK",
    "MANIFEST",
    "PASSAGES",
    "PASSAGE_OFFSETS",
    "SENTENCE_VECTORS",
    "TMP_SUFFIX",
    "VECTORS",
    "VERSIONS",
    "clean_leftovers",
    "create_private",
    "current_version",
    "finalise_tree",
    "index_lock",
    "make_private_dir",
    "new_version_id",
    "open_private",
    "prune_versions",
    "publish_version",
]

CURRENT = "current"
VERSIONS = "versions"
LOCK = ".lock"
TMP_SUFFIX = ".tmp"
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
PASSAGE_OFFSETS = "passages.offsets.npy"
VECTORS = "vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
ANN_GRAPH = "vectors.usearch"  # optional HNSW graph over vectors.npy
LEXICAL_DIR = "lexical"

_DIR_MODE = 0o700
_FILE_MODE = 0o600


def current_version(index_dir: str | os.PathLike[str]) -> str | None:
    """The version ``current`` points to, or ``None``; one ``readlink``, cheap enough to poll."""
    try:
        target = os.readlink(Path(index_dir) / CURRENT)
    except OSError:
        return None
    return Path(target).name or None


def new_version_id() -> str:
    """Sortable by creation time, unique even for two versions made in the same second."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def make_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents, each owner-only (0700)."""
    if path.is_dir():
        return
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):  # outermost first; each new folder owner-only, whatever the umask
        folder.mkdir(mode=_DIR_MODE, exist_ok=True)
        os.chmod(folder, _DIR_MODE)


def create_private(path: Path, mode: str = "wb") -> IO:
    """A new file, created owner-only (0600), open in ``mode`` ("wb", "w+b", or "w" for UTF-8 text)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
    if "b" in mode:
        return os.fdopen(fd, mode)
    return os.fdopen(fd, mode, encoding="utf-8", newline="\n")


@contextlib.contextmanager
def open_private(path: Path, mode: str = "wb") -> Iterator[IO]:
    """:func:`create_private`, closed when the ``with`` block ends."""
    with create_private(path, mode) as f:
        yield f


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def finalise_tree(root: Path) -> None:
    """Make every file 0600 and every directory 0700 under ``root``, and flush all to disk.

    Files written by libraries (the BM25 files) get the same treatment as ours.
    """
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            file = Path(dirpath) / name
            os.chmod(file, _FILE_MODE)
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.chmod(dirpath, _DIR_MODE)
        _fsync_dir(Path(dirpath))


def publish_version(index_dir: Path, tmp_dir: Path, version: str) -> None:
    """Rename a finished ``.tmp`` version into place, then point ``current`` at it atomically."""
    versions = index_dir / VERSIONS
    final = versions / version
    os.rename(tmp_dir, final)
    _fsync_dir(versions)
    link = index_dir / f"{CURRENT}{TMP_SUFFIX}-{os.getpid()}-{secrets.token_hex(3)}"
    os.symlink(f"{VERSIONS}/{version}", link)
    try:
        os.replace(link, index_dir / CURRENT)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(link)
        raise
    _fsync_dir(index_dir)


def clean_leftovers(index_dir: Path) -> list[str]:
    """Remove what an interrupted refresh left behind (call with the lock held); their names."""
    removed: list[str] = []
    versions = index_dir / VERSIONS
    if versions.is_dir():
        for entry in versions.iterdir():
            if entry.name.endswith(TMP_SUFFIX):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(f"{VERSIONS}/{entry.name}")
    for entry in index_dir.glob(f"{CURRENT}{TMP_SUFFIX}-*"):
        with contextlib.suppress(OSError):
            entry.unlink()
            removed.append(entry.name)
    return removed


def prune_versions(index_dir: Path, keep: set[str]) -> None:
    """Delete every complete version not in ``keep`` (the new one and the one it replaced)."""
    versions = index_dir / VERSIONS
    for entry in versions.iterdir():
        if entry.name not in keep and not entry.name.endswith(TMP_SUFFIX) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def index_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's write lock, or fail at once with :class:`IndexBusyError`."""
    from filelock import FileLock, Timeout

    lock_path = index_dir / LOCK
    lock = FileLock(str(lock_path), timeout=0, mode=_FILE_MODE)
    try:
        lock.acquire()
    except Timeout:
        raise IndexBusyError(
            f"Another `kotae index` is already refreshing the index at {index_dir} "
            f"(it holds the lock {lock_path}). Wait for it to finish, then run `kotae index` "
            "again if your documents changed since it started."
        ) from None
    try:
        yield
    finally:
        lock.release()
