"""BM25 over Japanese content words, built with ``bm25s`` from pre-tokenised passages.

On disk it is the files ``bm25s`` writes with ``allow_pickle=False``: three ``.npy`` arrays of
the sparse score matrix plus ``vocab.index.json`` and ``params.index.json``; it is loaded the
same way, memory-mapped. The vocabulary is numbered in sorted order so that the same passages
always give byte-identical files. BM25 statistics are corpus-wide, so the lexical index is
rebuilt from all passages on every refresh (tokenising is fast; embedding is what is cached).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.tokenizer import tokenize
from embeddings.vector_store import top_k

__all__ = ["BM25_PARAMS", "LexicalIndex"]

BM25_PARAMS = {"k1": 1.5, "b": 0.75, "method": "lucene"}
_FILES = (
    "data.csc.index.npy",
    "indices.csc.index.npy",
    "indptr.csc.index.npy",
    "vocab.index.json",
    "params.index.json",
)


class LexicalIndex:
    """Row-numbered BM25: row ``i`` is the ``i``-th passage of the index."""

    def __init__(self, bm25: Any, num_docs: int) -> None:
        self._bm25 = bm25  # None when there are no passages
        self.num_docs = num_docs

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]]) -> LexicalIndex:
        """Index one token list per passage (from :func:`~embeddings.tokenizer.tokenize`)."""
        if not token_lists:
            return cls(None, 0)
        import bm25s

        vocab = {tok: i for i, tok in enumerate(sorted({t for ts in token_lists for t in ts}))}
        ids = [[vocab[t] for t in ts] for ts in token_lists]
        bm25 = bm25s.BM25(**BM25_PARAMS)
        bm25.index((ids, vocab), show_progress=False)
        return cls(bm25, len(token_lists))

    def save(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(directory), show_progress=False, allow_pickle=False)

    @staticmethod
    def missing_files(directory: Path, num_docs: int) -> list[str]:
        if not directory.is_dir():
            return [directory.name + "/"]
        if num_docs == 0:
            return []
        return [name for name in _FILES if not (directory / name).is_file()]

    @classmethod
    def load(cls, directory: Path, num_docs: int) -> LexicalIndex:
        """Open files written by :meth:`save`; ``ValueError``/``OSError`` when they are damaged."""
        missing = cls.missing_files(directory, num_docs)
        if missing:
            raise FileNotFoundError(f"missing {', '.join(missing)}")
        if num_docs == 0:
            return cls(None, 0)
        import bm25s

        bm25 = bm25s.BM25.load(str(directory), mmap=True, allow_pickle=False, show_progress=False)
        found = bm25.scores.get("num_docs")
        if found != num_docs:
            raise ValueError(f"the BM25 index covers {found} passages, not {num_docs}")
        indptr = bm25.scores["indptr"]
        if len(indptr) < 1 or int(indptr[-1]) != len(bm25.scores["data"]):
            raise ValueError("the BM25 score matrix is inconsistent")
        return cls(bm25, num_docs)

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every passage for the query ``tokens`` (zeros when none is known)."""
        if self._bm25 is None:
            return np.zeros(self.num_docs, dtype=np.float32)
        vocab = self._bm25.vocab_dict
        limit = len(self._bm25.scores["indptr"]) - 1
        ids = [vocab[t] for t in tokens if t in vocab and vocab[t] < limit]
        if not ids:
            return np.zeros(self.num_docs, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)

    def search(self, query_text: str, k: int) -> list[tuple[int, float]]:
        """Top ``k`` ``(row, score)`` for a question; only passages sharing a word with it."""
        return self.search_tokens(tokenize(query_text), k)

    def search_tokens(self, tokens: Sequence[str], k: int) -> list[tuple[int, float]]:
        return [(row, s) for row, s in top_k(self.scores(tokens), k) if s > 0]
