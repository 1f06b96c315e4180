"""Reading a file only if what was opened lies inside the documents folder.

A symbolic link can be swapped between the moment it is checked and the moment it is read: a
walk that saw ``link.txt -> inside.txt`` may then read ``/etc/secret``. So the file is opened
first (a regular file only, :func:`knowledge.files.open_regular`), then its path is resolved,
checked to lie inside the folder, and the *opened descriptor* is checked to be that very file
(same device and inode). What is read is what was checked.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from knowledge.files import FileTooLargeError, open_regular

__all__ = ["FileMovedError", "OutsideFolderError", "open_inside", "read_inside", "sha256_inside"]

_BLOCK = 1 << 20


class OutsideFolderError(OSError):
    """The name leads (through a symbolic link) to a file outside the folder."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(errno.EXDEV, "leads outside the documents folder", str(path))


class FileMovedError(OSError):
    """The name was pointed at another file while it was being opened."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(errno.ESTALE, "changed while it was being opened", str(path))


def open_inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> BinaryIO:
    """Open the regular file ``path`` for reading if it is a file inside ``root``.

    Raises :class:`OutsideFolderError`, :class:`FileMovedError`,
    :class:`~knowledge.files.NotRegularFileError` or another ``OSError``.
    """
    fh = open_regular(path)
    try:
        real = Path(path).resolve(strict=True)
        if not real.is_relative_to(Path(root).resolve()):
            raise OutsideFolderError(path)
        opened, named = os.fstat(fh.fileno()), os.stat(real)
        if (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
            raise FileMovedError(path)
    except BaseException:
        fh.close()
        raise
    return fh


def read_inside(path: str | os.PathLike[str], root: str | os.PathLike[str], *, limit: int) -> bytes:
    """The bytes of ``path`` (see :func:`open_inside`); :class:`FileTooLargeError` past ``limit``."""
    with open_inside(path, root) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(path, limit)
    return data


def sha256_inside(path: str | os.PathLike[str], root: str | os.PathLike[str], *, limit: int) -> str:
    """SHA-256 (hex) of the bytes of ``path``, read in blocks; :class:`FileTooLargeError` past
    ``limit`` bytes."""
    digest = hashlib.sha256()
    size = 0
    with open_inside(path, root) as fh:
        while block := fh.read(_BLOCK):
            size += len(block)
            if size > limit:
                raise FileTooLargeError(path, limit)
            digest.update(block)
    return digest.hexdigest()
