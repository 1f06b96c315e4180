"""An approximate nearest-neighbour option: an HNSW graph (usearch) over a store's vectors.

Optional (``pip install usearch``; off by default): exact search over a memory-mapped matrix
already answers a million passages in ~150 ms on two cores, so the graph is for larger indexes
or tighter latency. It reads like :class:`~embeddings.vector_store.NumpyVectorStore` for search
(``search(query, k) -> [(row, cosine)]``) and is saved beside the vectors, memory-mapped on load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from knowledge.errors import EmbedderError

__all__ = ["HnswParams", "UsearchVectorStore"]


class HnswParams:
    """Graph settings: ``connectivity`` (M), ``expansion_add`` (efConstruction), ``expansion_search`` (ef).

    The defaults are the smallest measured to hold recall@10 ≥ 0.95 within 10 ms at a million
    vectors on two cores (BENCHMARKS.md: M 16 / efC 64 stalled at 0.95 even with ef 1024;
    M 32 / efC 128 gives 1.0 at ef 128 in 4.4 ms), paid for with a ~5× slower build.
    """

    def __init__(self, connectivity: int = 32, expansion_add: int = 128, expansion_search: int = 128,
                 dtype: str = "f16") -> None:
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self.expansion_search = expansion_search
        self.dtype = dtype


def _usearch() -> Any:
    try:
        from usearch.index import Index
    except ImportError as exc:
        raise EmbedderError(
            "The approximate index needs usearch: run `pip install usearch` (or `pip install kotae[ann]`)."
        ) from exc
    return Index


class UsearchVectorStore:
    """Rows ``0..n-1`` of L2-normalised vectors in an HNSW graph; inner product = cosine.

    The graph stores float16 copies, whose rounding reorders near-ties around rank ``k``. Given
    the exact matrix (``rescore_with``), a search takes ``oversample × k`` candidates from the
    graph and ranks them by their exact float32 scores: a few hundred row reads per query.
    """

    def __init__(self, index: Any, dim: int, *, exact: np.ndarray | None = None, oversample: int = 4) -> None:
        self._index = index
        self.dim = dim
        self.exact = exact
        self.oversample = oversample

    def rescore_with(self, matrix: np.ndarray, oversample: int = 4) -> UsearchVectorStore:
        """Rank graph candidates by ``matrix`` (rows = keys), taking ``oversample × k`` of them."""
        if matrix.shape[0] != len(self) or matrix.shape[1] != self.dim:
            raise ValueError(f"the matrix is {matrix.shape}, the graph has {len(self)} × {self.dim}")
        self.exact = matrix
        self.oversample = max(1, int(oversample))
        return self

    @classmethod
    def build(cls, matrix: np.ndarray, params: HnswParams | None = None, *, threads: int = 0) -> UsearchVectorStore:
        params = params or HnswParams()
        index_cls = _usearch()
        dim = int(matrix.shape[1])
        index = index_cls(ndim=dim, metric="ip", dtype=params.dtype, connectivity=params.connectivity,
                          expansion_add=params.expansion_add, expansion_search=params.expansion_search)
        if matrix.shape[0]:
            index.add(np.arange(matrix.shape[0], dtype=np.uint64), np.asarray(matrix, dtype=np.float32),
                      threads=threads)
        return cls(index, dim)

    def __len__(self) -> int:
        return len(self._index)

    @property
    def expansion_search(self) -> int:
        return int(self._index.expansion_search)

    @expansion_search.setter
    def expansion_search(self, value: int) -> None:
        self._index.expansion_search = int(value)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            raise ValueError(f"query has {q.shape[0]} dimensions, the index has {self.dim}")
        if k <= 0 or len(self) == 0:
            return []
        if self.exact is None:
            found = self._index.search(q, min(k, len(self)))
            return [(int(key), 1.0 - float(d)) for key, d in zip(found.keys, found.distances, strict=True)]
        found = self._index.search(q, min(k * self.oversample, len(self)))
        rows = np.sort(np.asarray(found.keys, dtype=np.int64))  # ascending: sequential page reads
        scores = np.asarray(self.exact[rows], dtype=np.float32) @ q
        best = np.argsort(-scores, kind="stable")[:k]
        return [(int(rows[i]), float(scores[i])) for i in best]

    def save(self, path: Path) -> None:
        self._index.save(str(path))

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True, expansion_search: int | None = None) -> UsearchVectorStore:
        """Open a saved graph; ``expansion_search`` defaults to :class:`HnswParams`' (a saved graph
        does not keep it)."""
        index_cls = _usearch()
        index = index_cls.restore(str(path), view=mmap)
        if index is None:
            raise ValueError(f"{path} is not a usearch index")
        index.expansion_search = expansion_search or HnswParams().expansion_search
        return cls(index, int(index.ndim))
