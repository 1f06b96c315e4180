"""Embedding a large build in several worker processes, each with its own single-threaded model.

On a 2-core machine two single-threaded processes embed markedly more texts per second than one
process with two threads (BENCHMARKS.md, "Threads"), and give the same vectors bit for bit: the
engine computes each text on one thread either way. Workers are started with ``spawn`` (the
caller may be a threaded server) and load the model by name, so only models that
:func:`~embeddings.embedder.load_embedder` can load by name are pooled; starting them costs about
a second, so small refreshes embed in process.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np

from embeddings.batching import BATCH_SIZE
from embeddings.embedder import Embedder, load_embedder

__all__ = ["POOL_MIN_TEXTS", "EmbedPool", "embed_pool"]

#: Below this many texts a pool costs more to start than it saves.
POOL_MIN_TEXTS = 256

_worker: Embedder | None = None


def _start_worker(model: str, threads: int | None, local_files_only: bool) -> None:
    global _worker
    _worker = load_embedder(model, local_files_only=local_files_only, threads=threads)


def _embed_in_worker(texts: Sequence[str]) -> np.ndarray:
    assert _worker is not None, "the worker's model was not loaded"
    return np.asarray(_worker.embed_passages(texts), dtype=np.float32)


class EmbedPool:
    """``workers`` processes, each embedding whole batches with a model of ``threads`` threads."""

    def __init__(self, model: str, workers: int, *, threads: int | None = 1, local_files_only: bool = False) -> None:
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(model, threads, local_files_only),
        )

    def submit(self, texts: Sequence[str]) -> Future[Any]:
        return self._executor.submit(_embed_in_worker, list(texts))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def embed_pool(model: str, workers: int, *, threads: int | None = 1, local_files_only: bool = False,
               texts: int) -> Iterator[EmbedPool | None]:
    """A pool when ``workers > 1`` and ``texts`` (how many will be embedded) make it worth it,
    else None (embed in process)."""
    workers = min(workers, texts // BATCH_SIZE)  # a worker gets at least a batch
    if workers <= 1 or texts < POOL_MIN_TEXTS:
        yield None
        return
    pool = EmbedPool(model, workers, threads=threads, local_files_only=local_files_only)
    try:
        yield pool
    finally:
        pool.close()
