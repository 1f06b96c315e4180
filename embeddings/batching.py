"""Embedding many texts: in batches, with a progress bar, checking what the model returns.

:func:`embed_into` reads the texts of each batch on demand and hands its vectors on, so that a
refresh holds neither every text nor every vector (they live in scratch files on disk).
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from embeddings.embedder import Embedder
from knowledge.errors import EmbedderError

if TYPE_CHECKING:
    from embeddings.pool import EmbedPool

__all__ = ["BATCH_SIZE", "Progress", "embed_in_batches", "embed_into"]

BATCH_SIZE = 32  # measured: bench batch (BENCHMARKS.md); 16 → 32 gave +46% texts/s on 2 cores


class Progress:
    """A tqdm bar on stderr over every text a refresh embeds (or nothing when disabled); also
    used for the other long steps of a large refresh (``desc``, ``unit``)."""

    def __init__(self, total: int, *, enabled: bool, desc: str = "Embedding", unit: str = "text") -> None:
        self._bar = None
        if enabled and total > 0:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=True)

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

    def store(rows: np.ndarray, vectors: np.ndarray) -> None:
        out[rows] = vectors

    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    embed_into(embedder, lengths, lambda rows: [texts[i] for i in rows], store, progress, batch_size=batch_size)
    return out


def embed_into(
    embedder: Embedder,
    lengths: np.ndarray,
    fetch: Callable[[list[int]], list[str]],
    store: Callable[[np.ndarray, np.ndarray], None],
    progress: Progress,
    *,
    batch_size: int = BATCH_SIZE,
    pool: EmbedPool | None = None,
) -> None:
    """Embed texts ``0 .. len(lengths) - 1`` without holding them all: ``fetch(rows)`` gives the
    texts of one batch, ``store(rows, vectors)`` takes its unit-length vectors.

    ``lengths[i]`` is the length of text ``i`` in characters: batches are made shortest first
    (ties in text order), as :func:`embed_in_batches` makes them. With a ``pool`` (worker
    processes running the same model as ``embedder``), batches are embedded there, a few in
    flight per worker, and stored as they come back.
    """
    order = np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable")
    batches = (order[start : start + batch_size] for start in range(0, len(order), batch_size))
    if pool is None:
        for rows in batches:
            _store_checked(embedder, rows, embedder.embed_passages(fetch(rows.tolist())), store, progress)
        return
    in_flight: deque[tuple[np.ndarray, Any]] = deque()
    for rows in batches:
        in_flight.append((rows, pool.submit(fetch(rows.tolist()))))
        if len(in_flight) >= 2 * pool.workers:
            done_rows, future = in_flight.popleft()
            _store_checked(embedder, done_rows, future.result(), store, progress)
    while in_flight:
        done_rows, future = in_flight.popleft()
        _store_checked(embedder, done_rows, future.result(), store, progress)


def _store_checked(
    embedder: Embedder,
    rows: np.ndarray,
    out: Any,
    store: Callable[[np.ndarray, np.ndarray], None],
    progress: Progress,
) -> None:
    vectors = np.asarray(out, dtype=np.float32)
    if vectors.shape != (len(rows), embedder.dim) or not np.isfinite(vectors).all():
        raise EmbedderError(
            f"The model {embedder.id} returned unusable vectors (shape {vectors.shape}, "
            f"expected {(len(rows), embedder.dim)}). Check KOTAE_MODEL, then run "
            "`kotae index --full`."
        )
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    store(rows, vectors / np.where(norms > 0, norms, 1.0))
    progress.advance(len(rows))
