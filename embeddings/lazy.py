"""One embedding model shared by several indexes, loaded the first time it embeds something.

Several knowledge bases in one bot each have their own index and :class:`~bot.service.
AnswerService`, but one model in memory (the bundled one takes ~170 MB). Its ``id`` is known
without loading, so a refresh that finds nothing changed never loads it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from embeddings.embedder import Embedder

__all__ = ["LazyEmbedder"]


class LazyEmbedder:
    """An :class:`Embedder` that calls ``load()`` once, on first use, from any thread."""

    def __init__(self, id: str, load: Callable[[], Embedder]) -> None:
        self.id = id
        self._load = load
        self._model: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def model(self) -> Embedder:
        model = self._model
        if model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
                model = self._model
        return model

    @property
    def dim(self) -> int:
        return self.model().dim

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.model().embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.model().embed_query(text)
