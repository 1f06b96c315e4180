"""Where vectors live, behind a small interface, and exact top-k search.

The index keeps one store for passage vectors and one for sentence vectors. Rows are grouped by
document (each document's rows are contiguous), which is what lets a refresh copy an unchanged
document's vectors instead of embedding it again. :class:`NumpyVectorStore` keeps everything in
one ``.npy`` matrix; a database-backed store can implement :class:`VectorStore` later.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

from embeddings.stored import load_npy

__all__ = ["NumpyVectorStore", "VectorStore", "scores_of", "top_k"]


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best ``(row, score)`` pairs, highest score first, ties broken by lower row.

    ``argpartition`` finds the k-th best score in linear time; every row scoring at least that
    is a candidate (more than k only when there are ties at the boundary), and only the
    candidates are sorted. The result equals a full stable sort, which the tests check.
    """
    n = int(scores.shape[0])
    if k <= 0 or n == 0:
        return []
    if k < n:
        kth = np.partition(scores, n - k)[n - k]
        candidates = np.flatnonzero(scores >= kth)
    else:
        candidates = np.arange(n)
    order = np.lexsort((candidates, -scores[candidates]))[:k]
    rows = candidates[order]
    return [(int(r), float(scores[r])) for r in rows]


_CHUNK_ROWS = 16384


def scores_of(matrix: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``matrix @ q`` as float32. A float32 matrix (memory-mapped or not) goes to BLAS in one
    product; any other dtype is converted a block of rows at a time, never all at once (a
    converted copy of a million-row float16 matrix would be 1.5 GB per query)."""
    if matrix.dtype == np.float32:
        return np.asarray(matrix @ q, dtype=np.float32)
    out = np.empty(matrix.shape[0], dtype=np.float32)
    for at in range(0, matrix.shape[0], _CHUNK_ROWS):
        out[at : at + _CHUNK_ROWS] = matrix[at : at + _CHUNK_ROWS].astype(np.float32) @ q
    return out


def _simd_top_k(matrix: np.ndarray, q: np.ndarray, k: int) -> list[tuple[int, float]] | None:
    """Exact float16 top-k with usearch's SIMD kernels when it is installed (numpy has no fast
    float16 product: converting blocks costs ~10x the float32 BLAS product); else None."""
    try:
        from usearch.index import MetricKind, search
    except ImportError:
        return None
    found = search(matrix, q.astype(np.float16), k, MetricKind.IP, exact=True)
    return [(int(r), 1.0 - float(d)) for r, d in zip(found.keys, found.distances, strict=True)]


class VectorStore(Protocol):
    """Rows of L2-normalised vectors, grouped by document."""

    dim: int

    def __len__(self) -> int: ...

    def add(self, doc: str, vectors: np.ndarray) -> int:
        """Append ``doc``'s vectors (its previous ones must be deleted first); the first row."""
        ...

    def delete(self, doc: str) -> None: ...

    def vectors_of(self, doc: str) -> np.ndarray: ...

    def rows_of(self, doc: str) -> tuple[int, int]:
        """``(first_row, count)`` of ``doc``'s vectors."""
        ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]: ...

    def save(self, path: Path) -> None: ...


class NumpyVectorStore:
    """All vectors in one float32 (or float16) matrix, memory-mapped when loaded from disk."""

    def __init__(self, dim: int, dtype: str = "float32") -> None:
        self.dim = int(dim)
        self.dtype = np.dtype(dtype)
        self._blocks: dict[str, np.ndarray] = {}
        self._matrix: np.ndarray | None = np.zeros((0, self.dim), dtype=self.dtype)
        self._ranges: dict[str, tuple[int, int]] = {}

    # -- building --------------------------------------------------------------------------
    def add(self, doc: str, vectors: np.ndarray) -> int:
        if doc in self._ranges:
            raise ValueError(f"{doc} already has vectors in this store; delete them first")
        block = np.asarray(vectors, dtype=self.dtype)
        if block.ndim != 2 or block.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape (n, {self.dim}), got {block.shape}")
        first = len(self)
        self._ensure_blocks()
        self._blocks[doc] = block
        self._ranges[doc] = (first, int(block.shape[0]))
        self._matrix = None
        return first

    def delete(self, doc: str) -> None:
        if doc not in self._ranges:
            return
        self._ensure_blocks()
        del self._blocks[doc]
        self._ranges = {}
        first = 0
        for name, block in self._blocks.items():
            self._ranges[name] = (first, int(block.shape[0]))
            first += int(block.shape[0])
        self._matrix = None

    def _ensure_blocks(self) -> None:
        """Split a loaded matrix into per-document blocks before it is changed."""
        if self._blocks or self._matrix is None:
            return
        self._blocks = {
            doc: np.array(self._matrix[first : first + count])
            for doc, (first, count) in sorted(self._ranges.items(), key=lambda item: item[1])
        }

    # -- reading ---------------------------------------------------------------------------
    @property
    def matrix(self) -> np.ndarray:
        if self._matrix is None:
            blocks = list(self._blocks.values())
            self._matrix = np.concatenate(blocks) if blocks else np.zeros((0, self.dim), dtype=self.dtype)
        return self._matrix

    def __len__(self) -> int:
        return sum(count for _, count in self._ranges.values())

    def rows_of(self, doc: str) -> tuple[int, int]:
        return self._ranges[doc]

    def vectors_of(self, doc: str) -> np.ndarray:
        first, count = self._ranges[doc]
        if self._blocks:
            return self._blocks[doc]
        return self.matrix[first : first + count]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Exact cosine top-k: one matrix–vector product over every row."""
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            raise ValueError(f"query has {q.shape[0]} dimensions, the index has {self.dim}")
        norm = float(np.linalg.norm(q))
        if norm > 0:
            q = q / norm
        if self.matrix.dtype == np.float16 and 0 < k < self.matrix.shape[0]:
            found = _simd_top_k(self.matrix, q, k)
            if found is not None:
                return found
        return top_k(scores_of(self.matrix, q), k)

    # -- disk ------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the matrix as a ``.npy`` file (no pickle) to ``path``."""
        with open(path, "wb") as f:
            np.save(f, np.ascontiguousarray(self.matrix, dtype=self.dtype), allow_pickle=False)

    @classmethod
    def load(cls, path: Path, ranges: Mapping[str, tuple[int, int]], *, mmap: bool = True) -> NumpyVectorStore:
        """Open a matrix written by :meth:`save`; ``ranges`` come from the manifest.

        Raises ``ValueError``/``OSError`` when the file is damaged or does not fit ``ranges``.
        """
        matrix = load_npy(path, mmap=mmap)
        if matrix.ndim != 2:
            raise ValueError(f"expected a 2-dimensional matrix, found shape {matrix.shape}")
        store = cls(int(matrix.shape[1]), dtype=str(matrix.dtype))
        store._matrix = matrix
        rows = int(matrix.shape[0])
        covered = 0
        for doc, (first, count) in sorted(ranges.items(), key=lambda item: tuple(item[1])):
            if first != covered or count < 0:
                raise ValueError(f"rows of {doc} start at {first}, expected {covered}")
            store._ranges[doc] = (int(first), int(count))
            covered += count
        if covered != rows:
            raise ValueError(f"documents cover {covered} rows but the matrix has {rows}")
        return store
