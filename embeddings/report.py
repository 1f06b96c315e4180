"""What a refresh did, for the command line (and a log) to show."""

from __future__ import annotations

from dataclasses import dataclass, field

from embeddings.manifest import SkippedFile

__all__ = ["RefreshReport"]


@dataclass(frozen=True)
class RefreshReport:
    """What a refresh did. Paths are relative to the documents folder, sorted.

    ``nothing_changed`` means no document changed and nothing was written (``version`` is the
    version already current). ``rebuilt_reason`` says why every document was re-embedded
    (first build, other model or chunking, ``--full``, damaged previous index), else None.
    ``failed`` lists documents that could not be read, with the reason; those that were in
    the previous version are still in the index unless their bytes changed, in which case they
    are also in ``removed`` (see :func:`~embeddings.refresh.refresh_index`).
    ``skipped`` lists every file of the folder that is not indexed (those of ``failed``, files of
    other types, links not followed …) with its category, by path.
    """

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    passages_embedded: int = 0
    sentences_embedded: int = 0
    passages_total: int = 0
    seconds: float = 0.0
    rebuilt_reason: str | None = None
    version: str | None = None  # the version now current
    nothing_changed: bool = False
    sentences_total: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
