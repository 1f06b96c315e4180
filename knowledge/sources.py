"""Finding the document files of a folder, and hashing them cheaply.

Symbolic links: the tree is first walked without following any link; then each link is
looked at. A link is followed only if its target (fully resolved) lies inside the documents
folder and is not already included — so a link never leads outside the folder, a link cycle
is never entered twice, and a file reachable both directly and through a link is listed once,
under its direct path. Skipped links are reported through ``on_problem``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from knowledge.errors import UNREADABLE, UNSUPPORTED, ConfigError, DocumentError
from knowledge.metadata import METADATA_FILENAME

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "ProblemHandler",
    "SourceFile",
    "discover",
    "file_sha256",
    "os_error_reason",
    "unsupported_reason",
]

SUPPORTED_EXTENSIONS = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".pptx", ".xlsx"}
)
_SAVE_AS = {
    ".doc": ".docx", ".rtf": ".docx", ".odt": ".docx", ".docm": ".docx",
    ".ppt": ".pptx", ".odp": ".pptx", ".pptm": ".pptx",
    ".xls": ".xlsx", ".ods": ".xlsx", ".xlsm": ".xlsx", ".csv": ".xlsx",
}

ProblemHandler = Callable[[DocumentError], None]

_HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class SourceFile:
    """A document file found in the documents folder."""

    path: Path  # absolute (not resolved: a followed link keeps its own name)
    rel: str  # POSIX path relative to the documents folder; what citations show
    size: int
    mtime_ns: int


def os_error_reason(exc: OSError) -> str:
    """A sentence for an ``OSError`` raised while reading a document."""
    if isinstance(exc, FileNotFoundError):
        return "the file disappeared while it was being read; run the refresh again"
    if isinstance(exc, PermissionError):
        return "permission denied; make the file readable by the user that runs Kotae"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file; rename it so it does not end in a document extension"
    return f"cannot be read ({exc.strerror or exc}); check the file and its disk"


def unsupported_reason(rel: str) -> str:
    """Why a file of the documents folder is not read, and what to do about it."""
    suffix = Path(rel).suffix.lower()
    if suffix in _SAVE_AS:
        return f"{suffix} files are not read; save it as {_SAVE_AS[suffix]} (or PDF) to have it indexed"
    what = f"{suffix} files are" if suffix else "files without an extension are"
    return f"{what} not read (Kotae reads .txt .md .html .pdf .docx .pptx .xlsx); convert it or ignore this"


def file_sha256(path: Path | str) -> str:
    """SHA-256 of the raw bytes of ``path``, read in blocks (hex digest)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(_HASH_BLOCK):
                digest.update(block)
    except OSError as exc:
        raise DocumentError(str(path), os_error_reason(exc)) from exc
    return digest.hexdigest()


class _Walk:
    """State of one :func:`discover` call."""

    def __init__(self, root: Path, on_problem: ProblemHandler | None) -> None:
        self.root = root
        self.real_root = root.resolve()
        self.on_problem = on_problem
        self.found: list[SourceFile] = []
        self.seen_dirs: set[Path] = {self.real_root}
        self.seen_files: dict[Path, str] = {}
        self.links: list[tuple[os.DirEntry[str], str]] = []

    def report(self, rel: str, reason: str, category: str = UNREADABLE) -> None:
        if self.on_problem is not None:
            self.on_problem(DocumentError(rel, reason, category))

    def walk(self, directory: str, prefix: str) -> None:
        """List ``directory`` (reached as ``prefix``), recursing into real subfolders."""
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.report(prefix.rstrip("/") or ".", f"folder skipped: {os_error_reason(exc)}")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = prefix + entry.name
            if entry.is_symlink():
                self.links.append((entry, rel))
            elif entry.is_dir(follow_symlinks=False):
                real = Path(entry.path).resolve()
                if real not in self.seen_dirs:
                    self.seen_dirs.add(real)
                    self.walk(entry.path, rel + "/")
            elif entry.is_file(follow_symlinks=False):
                self.add_file(entry, rel)

    def add_file(self, entry: os.DirEntry[str], rel: str) -> None:
        if rel == METADATA_FILENAME:
            return
        if Path(entry.name).suffix.lower() not in SUPPORTED_EXTENSIONS:
            self.report(rel, unsupported_reason(rel), UNSUPPORTED)
            return
        real = Path(entry.path).resolve()
        if real in self.seen_files:
            self.report(rel, f"is the same file as {self.seen_files[real]!r}; listed once")
            return
        try:
            st = entry.stat()
        except OSError as exc:
            self.report(rel, os_error_reason(exc))
            return
        self.seen_files[real] = rel
        path = Path(os.path.abspath(entry.path))
        self.found.append(SourceFile(path, rel, st.st_size, st.st_mtime_ns))

    def follow_links(self) -> None:
        while self.links:
            entry, rel = self.links.pop(0)
            try:
                target = Path(entry.path).resolve(strict=True)
            except (OSError, RuntimeError):
                self.report(rel, "is a broken symbolic link or a link loop; fix or remove it")
                continue
            if not target.is_relative_to(self.real_root):
                self.report(
                    rel,
                    "is a symbolic link to a place outside the documents folder and is not "
                    "followed; copy the file into the folder instead",
                )
                continue
            if target.is_dir():
                if target in self.seen_dirs:
                    self.report(rel, "links to a folder that is already included; skipped")
                    continue
                self.seen_dirs.add(target)
                self.walk(entry.path, rel + "/")
            elif target.is_file():
                self.add_file(entry, rel)


def discover(docs_dir: Path, on_problem: ProblemHandler | None = None) -> list[SourceFile]:
    """Document files under ``docs_dir`` (:data:`SUPPORTED_EXTENSIONS`, any case).

    Hidden files and folders (name starting with ``.``) and the metadata file are left out.
    The result is sorted by :attr:`SourceFile.rel`. Entries that cannot be used (files of
    other types, unreadable folders, links leading outside, duplicates) are passed to
    ``on_problem`` (with their :attr:`DocumentError.category`) and skipped.
    """
    root = Path(docs_dir)
    if not root.is_dir():
        raise ConfigError(
            f"documents folder {str(root)!r} does not exist or is not a folder; "
            "point the docs_dir setting (KOTAE_DOCS) at a folder of .txt/.md/.html/.pdf/.docx/.pptx/.xlsx files"
        )
    walk = _Walk(root.absolute(), on_problem)
    walk.walk(str(walk.root), "")
    walk.follow_links()
    return sorted(walk.found, key=lambda s: s.rel)
