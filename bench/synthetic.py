"""Synthetic vectors for the scale figures: random unit vectors (the worst case for any index:
no structure) or a mixture of clusters (closer to real embeddings), written as ``.npy``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DIM = 384
_BLOCK = 65536


def write_vectors(path: Path, n: int, *, dtype: str = "float32", clusters: int = 0, seed: int = 0) -> Path:
    """``n × 384`` L2-normalised rows in ``path`` (written a block at a time)."""
    rng = np.random.default_rng(seed)
    centres = None
    if clusters:
        centres = rng.standard_normal((clusters, DIM), dtype=np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.dtype(dtype), shape=(n, DIM))
    for at in range(0, n, _BLOCK):
        m = min(_BLOCK, n - at)
        block = rng.standard_normal((m, DIM), dtype=np.float32)
        if centres is not None:
            block = centres[rng.integers(0, clusters, m)] + 0.06 * block
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[at : at + m] = block.astype(dtype)
    out.flush()
    del out
    return path


def queries(count: int, *, clusters: int = 0, seed: int = 1) -> np.ndarray:
    """Unit query vectors drawn like the data (fresh draws, not copies of rows)."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((count, DIM), dtype=np.float32)
    if clusters:
        centres = np.random.default_rng(0).standard_normal((clusters, DIM), dtype=np.float32)  # seed 0: the data's
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        q = centres[rng.integers(0, clusters, count)] + 0.06 * q
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return np.ascontiguousarray(q, dtype=np.float32)
