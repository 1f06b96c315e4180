"""``passages.jsonl`` read lazily: one line per passage, found by a table of byte offsets.

Parsing a million JSON lines takes seconds; an index must open in a fraction of that. So the
file stays plain JSON Lines (inspectable, greppable), and beside it ``passages.offsets.npy``
holds ``n + 1`` byte offsets: passage ``i`` is ``data[offsets[i]:offsets[i + 1]]``. Opening
maps both files and checks the whole text against the CRC-32 recorded in the manifest (about
0.4 ms per MB), so a damaged or edited file is refused at load, as before; a line is parsed,
validated against its document's rows and cached on first use.
"""

from __future__ import annotations

import mmap
import threading
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from embeddings.manifest import Manifest, corrupt
from embeddings.stored import load_npy, parse_json
from knowledge.files import open_regular
from knowledge.passage import Passage

__all__ = ["CACHE_ROWS", "PassageTable", "SentenceSpan", "checksum", "crc_label", "line_offsets"]

SentenceSpan = tuple[int, int, int]  # (start, end, sentence_row); offsets in the document text
CACHE_ROWS = 1 << 16  # parsed passages kept; the cache is emptied when it grows past this


def checksum(data: bytes | mmap.mmap) -> str:
    """What the manifest records for a file's bytes."""
    return crc_label(zlib.crc32(data))


def crc_label(crc: int) -> str:
    """What the manifest records for a file whose CRC-32 (e.g. computed while writing) is ``crc``."""
    return f"crc32:{crc & 0xFFFFFFFF:08x}"


def line_offsets(lines: Sequence[bytes]) -> np.ndarray:
    """``len(lines) + 1`` int64 byte offsets of ``lines`` written one after the other."""
    out = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum(np.fromiter((len(b) for b in lines), dtype=np.int64, count=len(lines)), out=out[1:])
    return out


class PassageTable(Sequence[Passage]):
    """Row ``i`` → :class:`Passage` (and its sentence spans), parsed on first access."""

    def __init__(self, vdir: Path, name: str, offsets_name: str, manifest: Manifest) -> None:
        self._vdir = vdir
        self._name = name
        self._manifest = manifest
        self._n = int(manifest.counts["passages"])
        self._cache: dict[int, tuple[Passage, tuple[SentenceSpan, ...]]] = {}
        self._lock = threading.Lock()
        path = vdir / name
        try:
            with open_regular(path) as f:
                size = f.seek(0, 2)
                self._data: bytes | mmap.mmap = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        except FileNotFoundError:
            raise corrupt(vdir, f"{name} is missing") from None
        except OSError as exc:
            raise corrupt(vdir, f"{name} cannot be read ({exc})") from None
        expected = manifest.checksums.get(name)
        if expected is None or checksum(self._data) != expected:
            raise corrupt(vdir, f"{name} cannot be read (it does not match the checksum in manifest.json)")
        try:
            offsets = load_npy(vdir / offsets_name)
        except FileNotFoundError:
            raise corrupt(vdir, f"{offsets_name} is missing") from None
        except (OSError, ValueError, EOFError) as exc:
            raise corrupt(vdir, f"{offsets_name} cannot be read ({exc})") from None
        if offsets.shape != (self._n + 1,) or offsets.dtype != np.int64:
            raise corrupt(
                vdir,
                f"{name} holds a different number of passages than the manifest counts ({self._n}): "
                f"{offsets_name} has shape {offsets.shape}",
            )
        if int(offsets[0]) != 0 or int(offsets[-1]) != size or (self._n and not bool((np.diff(offsets) > 0).all())):
            raise corrupt(vdir, f"{offsets_name} does not fit {name}")
        self._offsets = offsets

    # -- Sequence ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Passage: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[Passage]: ...

    def __getitem__(self, i: int | slice) -> Passage | Sequence[Passage]:
        if isinstance(i, slice):
            return [self.row(j)[0] for j in range(*i.indices(self._n))]
        return self.row(i)[0]

    def __iter__(self) -> Iterator[Passage]:
        for j in range(self._n):
            yield self.row(j)[0]

    def sentences(self, i: int) -> tuple[SentenceSpan, ...]:
        return self.row(i)[1]

    def records(self, first: int, count: int) -> Iterator[dict[str, Any]]:
        """The stored JSON objects of rows ``first .. first + count - 1``, parsed one at a time
        and not cached (for copying a document into the next version)."""
        for row in range(first, first + count):
            record = self._json(row)
            if not isinstance(record, dict):
                raise corrupt(self._vdir, f"{self._name} is inconsistent (passage {row} is not an object)")
            yield record

    def _json(self, row: int) -> Any:
        """Row ``row``'s line of the file, parsed."""
        line = self._data[int(self._offsets[row]) : int(self._offsets[row + 1])]
        try:
            return parse_json(line)
        except ValueError as exc:  # not UTF-8, not JSON, nested too deeply, a number too long
            raise corrupt(self._vdir, f"{self._name} cannot be read ({exc})") from None

    # -- parsing -----------------------------------------------------------------------------
    def row(self, i: int) -> tuple[Passage, tuple[SentenceSpan, ...]]:
        i = int(i)
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(f"passage row {i} out of range (the index has {self._n})")
        found = self._cache.get(i)
        if found is None:
            found = self._parse(i)
            with self._lock:
                if len(self._cache) >= CACHE_ROWS:
                    self._cache.clear()
                self._cache[i] = found
        return found

    def _parse(self, row: int) -> tuple[Passage, tuple[SentenceSpan, ...]]:
        d = self._json(row)
        m = self._manifest
        try:
            info = m.documents[d["doc"]]
            first, count = info.passages
            sfirst, scount = info.sentences
            start, end, text = int(d["start"]), int(d["end"]), str(d["text"])
            if not first <= row < first + count or end - start != len(text) or start < 0:
                raise ValueError(f"passage {row} does not fit its document entry")
            spans = tuple((int(s), int(e), int(r)) for s, e, r in d["sentences"])
            if any(not sfirst <= r < sfirst + scount or r >= m.counts["sentences"] for *_, r in spans):
                raise ValueError(f"passage {row} names sentence rows outside its document")
            passage = Passage(
                doc_path=d["doc"],
                ordinal=int(d["ordinal"]),
                start=start,
                end=end,
                start_line=int(d["start_line"]),
                end_line=int(d["end_line"]),
                section=tuple(str(s) for s in d["section"]),
                text=text,
                page=d.get("page"),
                end_page=d.get("end_page"),
                places=tuple((int(offset), str(name)) for offset, name in d.get("places") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise corrupt(self._vdir, f"{self._name} is inconsistent ({type(exc).__name__}: {exc})") from None
        return passage, spans
