"""Opening the files Kotae reads: regular files only, checked on the opened descriptor.

A FIFO under a document's or an index file's name blocks a read forever; a device such as
``/dev/zero`` never ends; a file swapped between a check and an open is read unchecked. So a
file is opened first (non-blocking, so that opening a FIFO cannot wait for a writer), then the
*opened descriptor* is examined: what is read is what was checked.

Both failures are :class:`OSError` subclasses, so code that already reports an unreadable file
(``knowledge.sources.os_error_reason``) reports these too, with their own sentence.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

__all__ = ["FileTooLargeError", "NotRegularFileError", "open_regular", "read_regular"]


class NotRegularFileError(OSError):
    """The name leads to a FIFO, a device, a socket or a folder instead of a regular file."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(errno.EINVAL, f"is a {kind}, not a regular file", str(path))
        self.kind = kind


class FileTooLargeError(OSError):
    """The file holds more bytes than the caller accepts."""

    def __init__(self, path: str | os.PathLike[str], limit: int) -> None:
        super().__init__(errno.EFBIG, f"is larger than {limit:,} bytes", str(path))
        self.limit = limit


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISDIR(mode):
        return "folder"
    return "special file"


def open_regular(path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> BinaryIO:
    """Open ``path`` for binary reading, or raise :class:`NotRegularFileError` / ``OSError``.

    With ``follow_symlinks=False`` a symbolic link as the last component is refused by the
    kernel (``O_NOFOLLOW``) instead of being followed.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(path, _kind(mode))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], *, limit: int | None = None, follow_symlinks: bool = True) -> bytes:
    """The bytes of the regular file ``path``; :class:`FileTooLargeError` past ``limit`` bytes.

    At most ``limit + 1`` bytes are read, whatever the file claims its size is.
    """
    with open_regular(path, follow_symlinks=follow_symlinks) as fh:
        data = fh.read(-1 if limit is None else limit + 1)
    if limit is not None and len(data) > limit:
        raise FileTooLargeError(Path(path), limit)
    return data
