"""What an ``OSError`` that reached the command line really was, in a sentence that says what
to do. ``OSError`` covers a full disk, a read-only index folder, a file elsewhere that cannot
be read, and every network failure (``URLError``, ``ConnectionError`` and timeouts are
``OSError`` too): each gets its own advice, and only the index folder's problems say that the
previous index is untouched."""

from __future__ import annotations

import errno
import socket
import ssl
from pathlib import Path
from urllib.error import URLError

from knowledge.terminal import printable

__all__ = ["describe_os_error", "is_network_error"]

# Errors of the disk or of permissions: what a refresh writing its index folder can meet.
_DISK = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG}
_NETWORK = (URLError, ConnectionError, TimeoutError, socket.gaierror, socket.herror, ssl.SSLError)


def is_network_error(exc: BaseException) -> bool:
    """A failure to reach another machine: name resolution, refused, reset, timed out, TLS."""
    if isinstance(exc, _NETWORK):
        return True
    return isinstance(exc, OSError) and exc.errno in {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}


def _inside(filename: object, folder: Path | None) -> bool:
    if folder is None or not isinstance(filename, str | Path):
        return False
    try:
        return Path(filename).resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


def describe_os_error(exc: OSError, index_dir: Path | None) -> str:
    """One message (after ``kotae: error: ``) for ``exc``; ``index_dir`` is the index folder in use."""
    reason = exc.strerror or str(exc)
    if is_network_error(exc):
        detail = getattr(exc, "reason", None) or reason
        return printable(
            f"a network connection failed ({detail}). Check the network connection, the proxy "
            "settings and the address Kotae connects to, then run the command again; "
            "no index was changed."
        )
    where = index_dir if index_dir is not None else "the index folder"
    if _inside(exc.filename, index_dir) or (exc.filename is None and exc.errno in _DISK):
        target = f" ({exc.filename})" if exc.filename else ""
        return printable(
            f"could not write the index folder {where}{target}: {reason}. "
            "Free disk space or make the folder writable, then run the command again; "
            "the previous index is untouched."
        )
    if exc.filename is not None:
        advice = {
            errno.ENOSPC: " Free disk space, then run the command again.",
            errno.EDQUOT: " Free disk space, then run the command again.",
            errno.EACCES: " Check its permissions, then run the command again.",
            errno.EPERM: " Check its permissions, then run the command again.",
            errno.EROFS: " It is on a read-only file system.",
        }.get(exc.errno or 0, "")
        return printable(f"could not use {exc.filename}: {reason}.{advice}")
    return printable(f"{reason} (an operating-system error; nothing in the index was changed).")
