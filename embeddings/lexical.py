"""BM25 over Japanese content words, built with ``bm25s`` from pre-tokenised passages.

On disk it is the files ``bm25s`` writes with ``allow_pickle=False``: three ``.npy`` arrays of
the sparse score matrix plus ``vocab.index.json`` and ``params.index.json``; it is loaded the
same way, memory-mapped, but read with plain numpy: scoring a query is a sum of a few columns
of that matrix, and importing ``bm25s`` (which imports scipy) costs ~0.4 s of every cold
start, so ``bm25s`` is only imported to build. The vocabulary is numbered in sorted order so
that the same passages always give byte-identical files. BM25 statistics are corpus-wide, so the lexical index is
rebuilt from all passages on every refresh (tokenising is fast; embedding is what is cached).

:class:`LexicalBuilder` takes the token lists one passage at a time and keeps them as int32
word numbers (a word's text once), so that the passages of a very large document do not sit in
memory as millions of small strings while the index is built.
"""

from __future__ import annotations

import json
import logging
import threading
from array import array
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.glossary import Glossary, load_glossary
from embeddings.stored import load_npy, read_json
from embeddings.tokenizer import tokenize
from embeddings.vector_store import top_k

__all__ = ["BM25_PARAMS", "LexicalBuilder", "LexicalIndex"]

BM25_PARAMS = {"k1": 1.5, "b": 0.75, "method": "lucene"}
PARAMS_LIMIT = 1 << 16  # params.index.json holds five numbers
_FILES = (
    "data.csc.index.npy",
    "indices.csc.index.npy",
    "indptr.csc.index.npy",
    "vocab.index.json",
    "params.index.json",
)


class LexicalIndex:
    """Row-numbered BM25: row ``i`` is the ``i``-th passage of the index.

    Held as the CSC score matrix ``bm25s`` computes (column ``t`` holds token ``t``'s BM25
    contribution to each passage containing it) and the token → column vocabulary.
    """

    def __init__(
        self,
        bm25: Any,
        num_docs: int,
        *,
        arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        vocab: Mapping[str, int] | None = None,
    ) -> None:
        self._bm25 = bm25  # the bm25s object when built here (for saving); None when loaded or empty
        self.num_docs = num_docs
        if arrays is None and bm25 is not None:
            arrays = (bm25.scores["data"], bm25.scores["indices"], bm25.scores["indptr"])
            vocab = bm25.vocab_dict
        self._arrays = arrays
        self._vocab: Mapping[str, int] = vocab or {}
        self._directory: Path | None = None  # where it was loaded from (its glossary is there)
        self._glossary: Glossary | None = None
        self._glossary_loaded = False
        self._glossary_lock = threading.Lock()

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]]) -> LexicalIndex:
        """Index one token list per passage (from :func:`~embeddings.tokenizer.tokenize`)."""
        builder = LexicalBuilder()
        for tokens in token_lists:
            builder.add(tokens)
        return builder.build()

    def save(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(directory), show_progress=False, allow_pickle=False)
        elif self.num_docs and self._arrays is not None and not self._vocab:
            self._save_wordless(directory)

    def _save_wordless(self, directory: Path) -> None:
        """Passages without a single word (only punctuation, say): the same files, all empty,
        which bm25s itself cannot build."""
        for name, array_ in zip(_FILES[:3], self._arrays or (), strict=True):
            with (directory / name).open("wb") as f:
                np.save(f, array_, allow_pickle=False)
        (directory / _FILES[3]).write_text("{}", encoding="utf-8")
        params = {**BM25_PARAMS, "num_docs": self.num_docs}
        (directory / _FILES[4]).write_text(json.dumps(params, indent=4), encoding="utf-8")

    def words(self) -> Iterator[str]:
        """The vocabulary: every word some passage contains."""
        return iter(self._vocab)

    def english_words(self, question: str) -> list[str]:
        """The corpus words the English words of ``question`` gloss (empty without a glossary)."""
        glossary = self.glossary
        return glossary.translate(question) if glossary is not None else []

    @property
    def glossary(self) -> Glossary | None:
        """The English glosses saved beside the BM25 files, read on first use: 1.3 s and
        ~9 MB for a vocabulary of 195,000 words, which a Japanese-only bot never pays."""
        with self._glossary_lock:
            if not self._glossary_loaded and self._directory is not None:
                self._glossary = load_glossary(self._directory)
            self._glossary_loaded = True
            return self._glossary

    def document_frequency(self, token: str) -> int:
        """How many passages contain ``token`` (0 when none does): its column's length."""
        col = self._vocab.get(token)
        if col is None or self._arrays is None:
            return 0
        indptr = self._arrays[2]
        if not 0 <= col < len(indptr) - 1:
            return 0
        return int(indptr[col + 1]) - int(indptr[col])

    @staticmethod
    def missing_files(directory: Path, num_docs: int) -> list[str]:
        if not directory.is_dir():
            return [directory.name + "/"]
        if num_docs == 0:
            return []
        return [name for name in _FILES if not (directory / name).is_file()]

    @classmethod
    def load(cls, directory: Path, num_docs: int) -> LexicalIndex:
        """Open files written by :meth:`save` (memory-mapped); ``ValueError``/``OSError`` when damaged."""
        missing = cls.missing_files(directory, num_docs)
        if missing:
            raise FileNotFoundError(f"missing {', '.join(missing)}")
        if num_docs == 0:
            return cls(None, 0)
        data, indices, indptr = (load_npy(directory / name) for name in _FILES[:3])
        params = read_json(directory / _FILES[4], limit=PARAMS_LIMIT)
        vocab = read_json(directory / _FILES[3])
        if not isinstance(params, dict) or not isinstance(vocab, dict):
            raise ValueError("the BM25 parameter or vocabulary file does not hold an object")
        found = params.get("num_docs")
        if found != num_docs:
            raise ValueError(f"the BM25 index covers {found} passages, not {num_docs}")
        if data.ndim != 1 or indices.shape != data.shape or indptr.ndim != 1:
            raise ValueError("the BM25 score matrix has the wrong shape")
        if len(indptr) < 1 or int(indptr[-1]) != len(data) or int(indptr[0]) != 0:
            raise ValueError("the BM25 score matrix is inconsistent")
        if len(indices) and int(indices.max()) >= num_docs:
            raise ValueError("the BM25 score matrix names passages beyond the index")
        loaded = cls(None, num_docs, arrays=(data, indices, indptr), vocab=vocab)
        loaded._directory = directory
        return loaded

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every passage for the query ``tokens`` (zeros when none is known)."""
        out = np.zeros(self.num_docs, dtype=np.float32)
        if self._arrays is None:
            return out
        data, indices, indptr = self._arrays
        limit = len(indptr) - 1
        for t in tokens:  # repeats count again, as in bm25s
            col = self._vocab.get(t)
            if col is None or not 0 <= col < limit:
                continue
            start, end = int(indptr[col]), int(indptr[col + 1])
            out[indices[start:end]] += data[start:end]  # a passage appears once per column
        return out

    def search(self, query_text: str, k: int) -> list[tuple[int, float]]:
        """Top ``k`` ``(row, score)`` for a question; only passages sharing a word with it."""
        return self.search_tokens(tokenize(query_text), k)

    def search_tokens(self, tokens: Sequence[str], k: int) -> list[tuple[int, float]]:
        return [(row, s) for row, s in top_k(self.scores(tokens), k) if s > 0]


class LexicalBuilder:
    """Collects one token list per passage, compactly, then builds the :class:`LexicalIndex`.

    A token becomes a provisional number when first seen; the lists are kept as one int32 array
    with the end of each list. :meth:`build` renumbers the vocabulary in sorted order (as the
    saved files require) and hands bm25s the lists one at a time, as Python lists made on demand.
    """

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._flat = array("i")  # every passage's token numbers, one after the other
        self._ends = array("q")  # where each passage's numbers end in _flat

    def __len__(self) -> int:
        return len(self._ends)

    def add(self, tokens: Sequence[str]) -> None:
        numbers = self._numbers
        for token in tokens:
            number = numbers.get(token)
            if number is None:
                number = numbers[token] = len(numbers)
            self._flat.append(number)
        self._ends.append(len(self._flat))

    def build(self) -> LexicalIndex:
        if not self._ends:
            return LexicalIndex(None, 0)
        if not self._numbers:  # passages, but not one word among them
            empty = (np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64))
            return LexicalIndex(None, len(self._ends), arrays=empty, vocab={})
        import bm25s

        # bm25s sets its own logger to DEBUG on import; Kotae's log level decides instead.
        logging.getLogger("bm25s").setLevel(logging.NOTSET)
        words = sorted(self._numbers)
        vocab = {token: i for i, token in enumerate(words)}
        renumber = np.empty(len(words), dtype=np.int32)
        for token, provisional in self._numbers.items():
            renumber[provisional] = vocab[token]
        flat = renumber[np.frombuffer(self._flat, dtype=np.int32)] if self._flat else np.zeros(0, np.int32)
        ends = np.frombuffer(self._ends, dtype=np.int64)
        bm25 = bm25s.BM25(**BM25_PARAMS)
        bm25.index(_Corpus(_TokenLists(flat, ends), vocab), show_progress=False)
        return LexicalIndex(bm25, len(ends))


class _TokenLists(Sequence[list[int]]):
    """Each passage's token numbers as a fresh list, made when bm25s reads it."""

    def __init__(self, flat: np.ndarray, ends: np.ndarray) -> None:
        self._flat = flat
        self._ends = ends

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: int) -> list[int]:  # type: ignore[override]
        i = range(len(self._ends))[i]  # negative rows count from the end; IndexError past it
        start = int(self._ends[i - 1]) if i > 0 else 0
        return self._flat[start : int(self._ends[i])].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        start = 0
        for end in self._ends.tolist():
            yield self._flat[start:end].tolist()
            start = end


class _Corpus:
    """What ``bm25s.BM25.index`` takes as an already numbered corpus: ``ids`` and ``vocab``."""

    def __init__(self, ids: _TokenLists, vocab: dict[str, int]) -> None:
        self.ids = ids
        self.vocab = vocab
