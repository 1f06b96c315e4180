"""Embedding many texts: in batches, with a progress bar, checking what the model returns."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

from embeddings.embedder import Embedder
from knowledge.errors import EmbedderError

__all__ = ["BATCH_SIZE", "Progress", "embed_in_batches"]

BATCH_SIZE = 32  # measured: bench batch (BENCHMARKS.md); 16 → 32 gave +46% texts/s on 2 cores


class Progress:
    """A tqdm bar on stderr over every text a refresh embeds (or nothing when disabled)."""

    def __init__(self, total: int, *, enabled: bool, desc: str = "Embedding") -> None:
        self._bar = None
        if enabled and total > 0:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="text", file=sys.stderr, leave=True)

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def embed_in_batches(
    embedder: Embedder,
    texts: Sequence[str],
    progress: Progress,
    *,
    batch_size: int = BATCH_SIZE,
) -> np.ndarray:
    """``len(texts) × dim`` float32 in the order of ``texts``, rows finite and unit length.

    Texts are batched shortest first: a batch costs about as much as its longest text times its
    size, so passages and their short sentences are kept apart.
    """
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(texts), batch_size):
        rows = order[start : start + batch_size]
        batch = [texts[i] for i in rows]
        vectors = np.asarray(embedder.embed_passages(batch), dtype=np.float32)
        if vectors.shape != (len(batch), embedder.dim) or not np.isfinite(vectors).all():
            raise EmbedderError(
                f"The model {embedder.id} returned unusable vectors (shape {vectors.shape}, "
                f"expected {(len(batch), embedder.dim)}). Check KOTAE_MODEL, then run "
                "`kotae index --full`."
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        out[rows] = vectors / np.where(norms > 0, norms, 1.0)
        progress.advance(len(batch))
    return out
