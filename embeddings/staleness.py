"""Has the documents folder changed since an index version was built? Answered cheaply.

Each document's size and modification time are compared with those the manifest recorded; only a
file whose size is the same but whose time differs (or an index written before times were kept)
is hashed, and its SHA-256 compared with the manifest's. Nothing is read beyond that, and no model
is loaded. The metadata file (``kotae-metadata.yaml``) is not checked.
"""

from __future__ import annotations

import calendar
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from embeddings.manifest import DocInfo
from knowledge.errors import DocumentError

__all__ = ["Staleness", "check_staleness"]


@dataclass(frozen=True)
class Staleness:
    """What differs between the documents folder and an index: relative paths, sorted."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def stale(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self, limit: int = 3) -> str:
        """``"1 changed (a.md), 1 removed (old.txt)"``; empty when nothing differs."""
        parts = []
        for what, paths in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
            if paths:
                shown = ", ".join(paths[:limit]) + (", …" if len(paths) > limit else "")
                parts.append(f"{len(paths)} {what} ({shown})")
        return ", ".join(parts)


def check_staleness(
    docs_dir: str | os.PathLike[str], documents: Mapping[str, DocInfo], built_at: str | None = None
) -> Staleness:
    """Compare the documents under ``docs_dir`` with ``documents`` (an index's manifest entries).

    ``built_at`` is the version's ``created_at`` (``2026-12-06T22:41:05Z``): a file missing from
    the index that was last modified (or moved in) before then was there at the build and could
    not be read; it is not reported again. A file that cannot be hashed counts as changed (a
    refresh will report why). Raises :class:`~knowledge.errors.ConfigError` when ``docs_dir`` is
    not a folder.
    """
    import knowledge

    sources = {s.rel: s for s in knowledge.discover(Path(docs_dir))}
    built = _timestamp(built_at)
    added, changed = [], []
    for rel, source in sources.items():
        info = documents.get(rel)
        if info is None:
            if built is None or _touched(source.path) >= built - 1.0:
                added.append(rel)
        elif info.size is not None and info.size != source.size:
            changed.append(rel)
        elif info.size is None or info.mtime_ns != source.mtime_ns:
            try:
                if knowledge.file_sha256(source.path) != info.sha256:
                    changed.append(rel)
            except DocumentError:
                changed.append(rel)
    removed = [rel for rel in documents if rel not in sources]
    return Staleness(tuple(sorted(added)), tuple(sorted(changed)), tuple(sorted(removed)))


def _timestamp(created_at: str | None) -> float | None:
    if not created_at:
        return None
    try:
        return calendar.timegm(time.strptime(created_at, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None


def _touched(path: Path) -> float:
    """When the file's content or its place last changed (a file moved in keeps its mtime)."""
    try:
        stat = os.stat(path)
    except OSError:
        return float("inf")
    return max(stat.st_mtime, stat.st_ctime)
