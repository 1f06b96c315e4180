"""Deterministic fakes of Kotae's embedding interfaces, for anyone's unit tests.

:class:`FakeEmbedder` maps a text to hashed counts of its characters and character pairs (after
NFKC and lowercasing), L2-normalised: texts sharing many characters are close, so rankings are
exact, stable and explainable, and nothing is downloaded. :class:`FakeEmbedderFactory` is what
``refresh_index(..., embedder_factory=...)`` takes; it counts loads and embedded texts.
"""

from __future__ import annotations

import itertools
import threading
import unicodedata
import zlib
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["FakeEmbedder", "FakeEmbedderFactory", "fake_vector"]

FAKE_ID = "fake:v1"
FAKE_DIM = 256


def fake_vector(text: str, dim: int = FAKE_DIM) -> np.ndarray:
    """Unit vector of hashed character unigrams and bigrams of ``text`` (zeros for no characters)."""
    norm = unicodedata.normalize("NFKC", text).lower()
    v = np.zeros(dim, dtype=np.float32)
    chars = [c for c in norm if not c.isspace()]
    for gram in chars + [a + b for a, b in itertools.pairwise(chars)]:
        v[zlib.crc32(gram.encode("utf-8")) % dim] += 1.0
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


class FakeEmbedder:
    """An :class:`embeddings.Embedder` computed from characters; ``id`` defaults to ``fake:v1``.

    ``before_batch(n_batches_done)`` runs before each ``embed_passages`` call: tests use it to
    raise mid-refresh or to block one.
    """

    def __init__(
        self,
        id: str = FAKE_ID,
        dim: int = FAKE_DIM,
        before_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.id = id
        self.dim = dim
        self.before_batch = before_batch
        self.batches = 0
        self.texts: list[str] = []
        self.queries: list[str] = []
        self._lock = threading.Lock()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self.before_batch is not None:
            self.before_batch(self.batches)
        with self._lock:
            self.batches += 1
            self.texts.extend(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([fake_vector(t, self.dim) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            self.queries.append(text)
        return fake_vector(text, self.dim)


class FakeEmbedderFactory:
    """Makes :class:`FakeEmbedder` s. A model name starting with ``fake:`` is the id, any
    other name gives ``fake:v1``; ``embedder_id`` tells the id without making anything."""

    def __init__(
        self, dim: int = FAKE_DIM, before_batch: Callable[[int], None] | None = None, threads: int | None = None
    ) -> None:
        self.dim = dim
        self.before_batch = before_batch
        self.threads = threads  # as the real factory takes it; vectors do not depend on it
        self.made: list[FakeEmbedder] = []

    def embedder_id(self, model: str) -> str:
        return model if model.startswith("fake:") else FAKE_ID

    def __call__(self, model: str) -> FakeEmbedder:
        embedder = FakeEmbedder(self.embedder_id(model), self.dim, self.before_batch)
        self.made.append(embedder)
        return embedder

    @property
    def loads(self) -> int:
        return len(self.made)

    @property
    def texts(self) -> list[str]:
        """Every text embedded as a passage or sentence by every embedder made so far."""
        return [t for e in self.made for t in e.texts]
