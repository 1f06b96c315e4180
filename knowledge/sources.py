"""Finding the document files of a folder, and hashing them cheaply.

Symbolic links: the tree is first walked without following any link; then each link is
looked at. A link is followed only if its target (fully resolved) lies inside the documents
folder and is not already included — so a link never leads outside the folder, a link cycle
is never entered twice, and a file reachable both directly and through a link is listed once,
under its direct path. Skipped links are reported through ``on_problem``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from knowledge import limits
from knowledge.confined import FileMovedError, OutsideFolderError, sha256_inside
from knowledge.errors import UNREADABLE, UNSUPPORTED, ConfigError, DocumentError
from knowledge.files import FileTooLargeError, NotRegularFileError
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

_OUTSIDE = (
    "is a symbolic link to a place outside the documents folder and is not followed; "
    "copy the file into the folder instead"
)


@dataclass(frozen=True)
class SourceFile:
    """A document file found in the documents folder."""

    path: Path  # absolute (not resolved: a followed link keeps its own name)
    rel: str  # POSIX path relative to the documents folder; what citations show
    size: int
    mtime_ns: int

    @property
    def root(self) -> Path:
        """The documents folder this file was found in (as it was named, not resolved)."""
        return self.path.parents[self.rel.count("/")]


def os_error_reason(exc: OSError) -> str:
    """A sentence for an ``OSError`` raised while reading a document."""
    if isinstance(exc, FileNotFoundError):
        return "the file disappeared while it was being read; run the refresh again"
    if isinstance(exc, PermissionError):
        return "permission denied; make the file readable by the user that runs Kotae"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file; rename it so it does not end in a document extension"
    if isinstance(exc, NotRegularFileError):
        return f"is a {exc.kind}, not a regular file; replace it with the file itself or remove it"
    if isinstance(exc, FileTooLargeError):
        return limits.over_limit("its size", exc.limit, "bytes")
    if isinstance(exc, OutsideFolderError):
        return _OUTSIDE
    if isinstance(exc, FileMovedError):
        return "was replaced while it was being read; run the refresh again"
    return f"cannot be read ({exc.strerror or exc}); check the file and its disk"


def unsupported_reason(rel: str) -> str:
    """Why a file of the documents folder is not read, and what to do about it."""
    suffix = Path(rel).suffix.lower()
    if suffix in _SAVE_AS:
        return f"{suffix} files are not read; save it as {_SAVE_AS[suffix]} (or PDF) to have it indexed"
    what = f"{suffix} files are" if suffix else "files without an extension are"
    return f"{what} not read (Kotae reads .txt .md .html .pdf .docx .pptx .xlsx); convert it or ignore this"


def file_sha256(source: SourceFile | Path | str) -> str:
    """SHA-256 of the raw bytes of a document, read in blocks (hex digest).

    A :class:`SourceFile` is read only if it still is a regular file inside its folder
    (:mod:`knowledge.confined`) and at most :data:`knowledge.limits.MAX_DOCUMENT_BYTES` long.
    """
    path, root = (source.path, source.root) if isinstance(source, SourceFile) else (Path(source), Path("/"))
    try:
        return sha256_inside(path, root, limit=limits.MAX_DOCUMENT_BYTES)
    except OSError as exc:
        raise DocumentError(str(path), os_error_reason(exc)) from exc


def _printable(rel: str) -> str:
    """``rel`` as valid text: bytes that are not UTF-8 shown as ``\\xe9``."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _bad_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


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

    def walk(self, directory: str, prefix: str, real_dir: Path) -> None:
        """List ``directory`` (reached as ``prefix``, resolved ``real_dir``) and its real
        subfolders, depth first.

        Iterative, and a real entry's resolved path is its folder's plus its name: a tree
        thousands of folders deep costs neither Python's recursion limit nor a resolution of
        every path component for every folder.
        """
        pending = [(directory, prefix, real_dir)]
        while pending:
            folder, at, real_folder = pending.pop()
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                self.report(at.rstrip("/") or ".", f"folder skipped: {os_error_reason(exc)}")
                continue
            below: list[tuple[str, str, Path]] = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                rel = at + entry.name
                if _bad_name(entry.name):
                    self.bad_name(entry, rel)
                elif entry.is_symlink():
                    self.links.append((entry, rel))
                elif entry.is_dir(follow_symlinks=False):
                    real = real_folder / entry.name
                    if real not in self.seen_dirs:
                        self.seen_dirs.add(real)
                        below.append((entry.path, rel + "/", real))
                elif entry.is_file(follow_symlinks=False):
                    self.add_file(entry, rel, real_folder / entry.name)
            pending.extend(reversed(below))

    def bad_name(self, entry: os.DirEntry[str], rel: str) -> None:
        """A name that is not valid UTF-8 cannot be cited or stored: report it, skip it."""
        is_dir = entry.is_dir(follow_symlinks=False)
        what = "folder" if is_dir else "file"
        self.report(
            _printable(rel),
            f"{what} skipped: its name is not valid UTF-8; rename it (for example with "
            "`convmv -f latin1 -t utf8`) so that it can be cited",
        )

    def add_file(self, entry: os.DirEntry[str], rel: str, real: Path) -> None:
        if rel == METADATA_FILENAME:
            return
        if Path(entry.name).suffix.lower() not in SUPPORTED_EXTENSIONS:
            self.report(rel, unsupported_reason(rel), UNSUPPORTED)
            return
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
                self.report(rel, _OUTSIDE)
                continue
            if target.is_dir():
                if target in self.seen_dirs:
                    self.report(rel, "links to a folder that is already included; skipped")
                    continue
                self.seen_dirs.add(target)
                self.walk(entry.path, rel + "/", target)
            elif target.is_file():
                self.add_file(entry, rel, target)


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
    walk.walk(str(walk.root), "", walk.real_root)
    walk.follow_links()
    return sorted(walk.found, key=lambda s: s.rel)
