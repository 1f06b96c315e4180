"""Reading the files of an index version, whatever state they are in.

An index file may have been damaged by a bad disk or copy, edited, or replaced by something
that is not a file at all. Every read here opens regular files only, checked on the opened
descriptor (a FIFO would block a reader forever, ``/dev/zero`` would never end), reads JSON
files whole only up to a size limit, and turns every way a parser fails on damaged bytes —
including the ones that are not ``ValueError`` (``RecursionError`` from JSON nested thousands
deep, ``tokenize.TokenError`` from numpy's header parser) — into ``ValueError``. Callers report
``OSError``/``ValueError`` as a damaged index with the command that fixes it.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal

import numpy as np

from knowledge.files import open_regular, read_regular

__all__ = ["JSON_LIMIT", "load_npy", "parse_json", "read_json"]

#: The largest JSON file of an index read whole (the manifest, the BM25 vocabulary, the English
#: glossary). A manifest takes ~600 bytes per document and a vocabulary ~25 bytes per word, so
#: this is far beyond any real index; a larger file is damage, refused before it is read.
JSON_LIMIT = 1 << 30


def parse_json(data: bytes | str) -> Any:
    """``json.loads``, with JSON nested too deeply to parse reported as ``ValueError``."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("it is nested too deeply to be read") from None


def read_json(path: str | os.PathLike[str], *, limit: int = JSON_LIMIT) -> Any:
    """The JSON value in the regular file ``path`` of at most ``limit`` bytes.

    ``OSError`` when it cannot be opened, is not a regular file or is larger (the subclasses of
    :mod:`knowledge.files`); ``ValueError`` when it is not JSON Kotae can read.
    """
    return parse_json(read_regular(path, limit=limit))


def _header(fh: Any) -> tuple[tuple[int, ...], bool, np.dtype]:
    from numpy.lib import format as npy

    version = npy.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = npy.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, fortran, dtype = npy.read_array_header_2_0(fh)
    else:
        raise ValueError(f"format version {version[0]}.{version[1]} is not one Kotae writes")
    return shape, fortran, dtype


def load_npy(path: str | os.PathLike[str], *, mmap: bool = True) -> np.ndarray:
    """The array in the ``.npy`` file ``path`` (no pickled objects), memory-mapped read-only
    when ``mmap``; ``OSError`` when it cannot be opened, ``ValueError`` when it is damaged."""
    with open_regular(path) as fh:
        try:
            shape, fortran, dtype = _header(fh)
        except Exception as exc:  # damaged header bytes: numpy's parser raises many kinds
            raise ValueError(f"its header cannot be read ({type(exc).__name__}: {exc})") from None
        if dtype.hasobject:
            raise ValueError("it holds Python objects, which Kotae never writes")
        if dtype.kind not in "biuf" or dtype.names is not None or dtype.subdtype is not None:
            raise ValueError(f"it holds {dtype}, not plain numbers")
        try:
            if not mmap:
                fh.seek(0)
                return np.load(fh, allow_pickle=False)
            order: Literal["C", "F"] = "F" if fortran else "C"
            mapped: Any = fh  # np.memmap maps the opened (checked) descriptor, read-only
            return np.memmap(mapped, dtype=dtype, mode="r", shape=shape, order=order, offset=fh.tell())
        except Exception as exc:  # shorter than its header says, or a size no machine maps
            raise ValueError(f"it does not hold what its header says ({type(exc).__name__}: {exc})") from None
