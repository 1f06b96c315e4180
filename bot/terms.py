"""Content-word sets of sentences and passages, and term weights (IDF) over an index.

Tokenising a sentence with MeCab costs about half a millisecond, so token sets are cached by
text. Document frequencies come from the index when it has them: the BM25 files written at index
time hold, for every word, the passages that contain it, so a word's IDF is one lookup and no
question ever pays a pass over the passages (minutes at a million passages). Only an index
without them (a test fake, or a custom tokenizer the BM25 files were not made with) gets a
table built from its passages on first use.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from knowledge.passage import Passage

__all__ = ["TermStats", "coverage", "term_stats", "token_set"]

Tokenize = Callable[[str], list[str]]


@lru_cache(maxsize=1)
def _cached_default() -> Callable[[str], frozenset[str]]:
    from embeddings import tokenize

    @lru_cache(maxsize=131072)
    def cached(text: str) -> frozenset[str]:
        return frozenset(tokenize(text))

    return cached


_custom_cache: dict[tuple[int, str], frozenset[str]] = {}


def token_set(text: str, tokenize: Tokenize | None = None) -> frozenset[str]:
    """The set of content-word tokens of ``text`` (cached)."""
    if tokenize is None:
        return _cached_default()(text)
    key = (id(tokenize), text)
    found = _custom_cache.get(key)
    if found is None:
        if len(_custom_cache) > 65536:
            _custom_cache.clear()
        found = frozenset(tokenize(text))
        _custom_cache[key] = found
    return found


class TermStats:
    """Inverse document frequencies of tokens over the passages of one index."""

    def __init__(self, token_sets: Iterable[frozenset[str]] = (), *, n: int | None = None,
                 document_frequency: Callable[[str], int] | None = None) -> None:
        """From the passages' token sets, or from ``n`` passages and a ``document_frequency`` lookup."""
        if document_frequency is not None:
            if n is None:
                raise ValueError("a document_frequency lookup needs the number of passages n")
            self.n = n
            self._df: Callable[[str], int] = document_frequency
        else:
            sets = list(token_sets)
            self.n = len(sets)
            counts = Counter(t for s in sets for t in s)
            self._df = lambda token: counts.get(token, 0)
        self.unseen = self._formula(0)

    def _formula(self, df: int) -> float:
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))

    def idf(self, token: str) -> float:
        return self._formula(self._df(token))

    def occurs(self, token: str) -> bool:
        """Does any passage contain ``token``?"""
        return self._df(token) > 0


_stats: weakref.WeakKeyDictionary[object, TermStats] = weakref.WeakKeyDictionary()
_stats_lock = threading.Lock()


def term_stats(index: object, passages: Sequence[Passage], tokenize: Tokenize | None = None) -> TermStats:
    """IDF for ``index``: from its own document frequencies (``index.document_frequency``, made
    at index time with the default tokenizer), else a table built on first use and kept as long
    as the index lives."""
    lookup = getattr(index, "document_frequency", None) if tokenize is None else None
    if callable(lookup):
        return TermStats(n=len(passages), document_frequency=lookup)
    with _stats_lock:
        try:
            found = _stats.get(index)
        except TypeError:  # not weak-referenceable: build every time (tests with tiny fakes)
            return TermStats(token_set(p.text, tokenize) for p in passages)
        if found is None or found.n != len(passages):
            found = TermStats(token_set(p.text, tokenize) for p in passages)
            _stats[index] = found
        return found


def coverage(query_terms: Iterable[str], text_terms: frozenset[str] | set[str], stats: TermStats | None) -> float:
    """IDF-weighted share of ``query_terms`` present in ``text_terms`` (0..1)."""
    terms = set(query_terms)
    if not terms:
        return 0.0
    weight = (lambda t: stats.idf(t)) if stats else (lambda t: 1.0)
    total = sum(weight(t) for t in terms)
    if total <= 0:
        return 0.0
    return sum(weight(t) for t in terms if t in text_terms) / total
