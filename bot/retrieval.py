"""Hybrid retrieval: dense and lexical candidates, reranked with sentence-level evidence.

The index gives three signals per passage: cosine of the passage vector to the question, BM25
over Japanese morphemes, and the cosine of the passage's best sentence (sentence vectors are
computed at index time, so this costs one small matrix product per query). Lexical scores are
informative for Japanese questions that reuse the documents' words and mostly noise for English
questions over Japanese text, so their weight depends on the question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bot.query import Query
from bot.question_type import question_type, type_match
from bot.terms import TermStats, Tokenize, coverage, term_stats, token_set
from knowledge.passage import Passage

__all__ = [
    "Candidate",
    "RetrievalParams",
    "SearchableIndex",
    "SentenceCues",
    "interleave",
    "retrieve",
    "sentence_similarities",
    "sentence_text",
]


class SearchableIndex(Protocol):
    """The part of :class:`embeddings.Index` that retrieval uses."""

    @property
    def passages(self) -> Sequence[Passage]: ...

    @property
    def vectors(self) -> np.ndarray: ...

    @property
    def sentence_vectors(self) -> np.ndarray: ...

    def search_dense(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]: ...

    def search_lexical(self, query: str, k: int) -> list[tuple[int, float]]: ...

    def passage_sentences(self, row: int) -> list[tuple[int, int, int]]: ...


@dataclass(frozen=True)
class RetrievalParams:
    pool: int = 40  # candidates taken from each ranker
    rerank: int = 15  # candidates rescored with their sentences
    # BM25 over Japanese morphemes is the strongest single signal for Japanese questions. An
    # English question's own words are noise to it (only acronyms and numbers match), so it is
    # searched by the corpus words its words gloss (``Index.search_english``): a weak signal
    # that lifts the right passage into the top three, weighted low (0.05 and more reorder the
    # top and cost English hit@1; see BENCHMARKS.md).
    lexical_weight_ja: float = 0.3
    lexical_weight_en: float = 0.03
    # Sentence-level max-sim: strong for Japanese; the cross-lingual sentence similarities
    # of a small model are noisier than the passage's, so English questions lean on the passage.
    sentence_weight_ja: float = 1.0
    sentence_weight_en: float = 0.25
    sentence_type_weight: float = 0.05  # the sentence carries what the question type asks for
    sentence_term_weight: float = 0.05  # IDF-weighted share of question terms in the sentence


@dataclass(frozen=True)
class Candidate:
    row: int
    dense: float  # cosine of the passage vector
    lexical: float  # BM25 score divided by the best BM25 score of this query (0..1)
    sentence: float  # cosine of the best sentence of the passage
    best_sentence: tuple[int, int, int] | None  # (start, end, sentence row)
    score: float


def sentence_similarities(
    index: SearchableIndex, row: int, qvec: np.ndarray
) -> list[tuple[float, tuple[int, int, int]]]:
    spans = index.passage_sentences(row)
    if not spans:
        return []
    rows = np.fromiter((s[2] for s in spans), dtype=np.int64, count=len(spans))
    sims = np.asarray(index.sentence_vectors[rows], dtype=np.float32) @ qvec
    return [(float(sim), span) for sim, span in zip(sims, spans, strict=True)]


@dataclass(frozen=True)
class SentenceCues:
    """What besides the vector says a sentence answers the question."""

    qtype: str | None
    terms: frozenset[str]
    stats: TermStats | None
    tokenize: Tokenize | None
    type_weight: float
    term_weight: float

    def bonus(self, text: str) -> float:
        value = self.type_weight * type_match(self.qtype, text) if self.type_weight else 0.0
        if self.term_weight and self.terms:
            value += self.term_weight * coverage(self.terms, token_set(text, self.tokenize), self.stats)
        return value


def sentence_text(passage: Passage, span: tuple[int, int, int]) -> str:
    return passage.text[span[0] - passage.start : span[1] - passage.start]


def retrieve(
    index: SearchableIndex,
    query: Query,
    qvec: np.ndarray,
    k: int,
    params: RetrievalParams | None = None,
    terms: set[str] | frozenset[str] | None = None,
    tokenize: Tokenize | None = None,
) -> list[Candidate]:
    """The ``k`` best passages for ``query``, best first, near-duplicates removed.

    ``terms`` are the question's content words (for sentence-level term coverage); ``tokenize``
    is the tokenizer that made them (None: the index's own).
    """
    params = params or RetrievalParams()
    if not index.passages:
        return []
    ja = query.language == "ja"
    cues = SentenceCues(
        qtype=question_type(query.normalized),
        terms=frozenset(terms or ()),
        stats=term_stats(index, index.passages, tokenize) if terms and params.sentence_term_weight else None,
        tokenize=tokenize,
        type_weight=params.sentence_type_weight,
        term_weight=params.sentence_term_weight,
    )
    qvec = np.asarray(qvec, dtype=np.float32)
    dense = dict(index.search_dense(qvec, params.pool))
    lexical_raw = dict(_lexical_search(index, query, params))
    top_lex = max(lexical_raw.values(), default=0.0)
    lexical = {row: s / top_lex for row, s in lexical_raw.items()} if top_lex > 0 else {}
    lex_weight = params.lexical_weight_ja if ja else params.lexical_weight_en
    sentence_weight = params.sentence_weight_ja if ja else params.sentence_weight_en

    missing = [row for row in lexical if row not in dense]
    if missing:  # lexical-only candidates need their dense score too
        vecs = index_vectors(index, missing)
        dense.update({row: float(s) for row, s in zip(missing, vecs @ qvec, strict=True)})

    first = sorted(dense, key=lambda r: dense[r] + lex_weight * lexical.get(r, 0.0), reverse=True)
    scored: list[Candidate] = []
    for row in first[: max(params.rerank, k)]:
        passage = index.passages[row]
        sentences = [
            (sim + cues.bonus(sentence_text(passage, span)), sim, span)
            for sim, span in sentence_similarities(index, row, qvec)
        ]
        best, best_sim, best_span = max(sentences, default=(dense[row], dense[row], None), key=lambda t: t[0])
        score = dense[row] + sentence_weight * best + lex_weight * lexical.get(row, 0.0)
        scored.append(Candidate(row, dense[row], lexical.get(row, 0.0), best_sim, best_span, score))
    scored.sort(key=lambda c: c.score, reverse=True)
    return _drop_near_duplicates(index, scored, k)


def _lexical_search(index: SearchableIndex, query: Query, params: RetrievalParams) -> list[tuple[int, float]]:
    """BM25 candidates: the question's own words (Japanese), or the Japanese words its English
    words gloss (an index with a glossary; none otherwise)."""
    if query.language == "ja":
        return index.search_lexical(query.normalized, params.pool)
    english = getattr(index, "search_english", None)
    if not params.lexical_weight_en or not callable(english):
        return []
    found: list[tuple[int, float]] = english(query.normalized, params.pool)
    return found


def index_vectors(index: SearchableIndex, rows: list[int]) -> np.ndarray:
    return np.asarray(index.vectors[np.asarray(rows, dtype=np.int64)], dtype=np.float32)


def interleave(index: SearchableIndex, rankings: Sequence[Sequence[Candidate]], k: int) -> list[Candidate]:
    """The ``k`` best of several rankings taken in turns (first of each, then second of
    each, ...), near-duplicates removed: the top five of a two-part question then holds the
    best passages of each part as well as those of the whole question (``bot.parts``)."""
    depth = max((len(ranking) for ranking in rankings), default=0)
    turns = [ranking[i] for i in range(depth) for ranking in rankings if i < len(ranking)]
    return _drop_near_duplicates(index, turns, k)


def _drop_near_duplicates(index: SearchableIndex, ranked: list[Candidate], k: int) -> list[Candidate]:
    """Keep the best of passages that repeat each other (overlapping spans, identical text)."""
    kept: list[Candidate] = []
    seen_text: set[str] = set()
    for cand in ranked:
        p = index.passages[cand.row]
        key = "".join(p.text.split())
        if key in seen_text:
            continue
        if any(_overlap(p, index.passages[c.row]) > 0.5 for c in kept):
            continue
        kept.append(cand)
        seen_text.add(key)
        if len(kept) == k:
            break
    return kept


def _overlap(a: Passage, b: Passage) -> float:
    if a.doc_path != b.doc_path:
        return 0.0
    shared = min(a.end, b.end) - max(a.start, b.start)
    return max(shared, 0) / max(min(a.end - a.start, b.end - b.start), 1)
