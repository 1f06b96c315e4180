"""Choosing what to quote: the sentences of the best passages that carry the answer.

A quote is always a slice of a passage's verbatim text, so it occurs in the cited source at the
cited place by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.context_lines import is_context
from bot.question_type import identifiers, type_match
from bot.retrieval import Candidate, SearchableIndex, sentence_text
from bot.terms import coverage, term_stats, token_set
from knowledge.passage import Passage

__all__ = ["QuoteParams", "QuoteSpan", "select_quotes"]


@dataclass(frozen=True)
class QuoteParams:
    max_quotes: int = 3
    from_passages: int = 3  # how many of the top passages may give a quote
    margin: float = 0.05  # a further quote must score within this of the best one
    lexical_bonus: float = 0.3  # weight of the IDF-weighted share of question terms in a sentence
    type_bonus: float = 0.2  # the sentence carries the answer type the question asks for
    rank_penalty: float = 0.02  # per rank of the passage the sentence comes from
    min_chars: int = 40  # a shorter sentence is extended with the one after it
    min_visible: int = 10  # a quote with fewer non-space characters (a fragment: 「今」) is dropped
    skip_context: bool = True  # breadcrumbs, URL lines, captions, column names are never quoted (bot.context_lines)


@dataclass(frozen=True)
class QuoteSpan:
    row: int  # passage row in the index
    start: int  # absolute character offsets in the document
    end: int
    score: float

    def overlaps(self, row: int, start: int, end: int) -> bool:
        """Does this quote share characters with ``[start, end)`` of passage ``row``?"""
        return self.row == row and self.start < end and start < self.end


def select_quotes(
    index: SearchableIndex,
    candidates: Sequence[Candidate],
    qvec: np.ndarray,
    query_terms: set[str],
    tokenize: Callable[[str], list[str]],
    params: QuoteParams | None = None,
    qtype: str | None = None,
    question: str = "",
) -> list[QuoteSpan]:
    """Quotes in rank order: the best sentence of the top passage, plus close runners-up.

    A sentence scores its cosine to the question, plus the IDF-weighted share of the question's
    terms it contains, plus a bonus when it carries the answer type ``qtype`` asks for (a place
    for "where", a date for "when"...). Bare headings and context lines (breadcrumbs, URL lines,
    captions, column names: :mod:`bot.context_lines`) are never quoted; a short sentence is
    extended with the one after it, and a fragment that stays under ``min_visible`` characters
    (a scrap of a sentence cut at a passage boundary: 「今」, 「融）」) is not quoted at all.
    """
    params = params or QuoteParams()
    custom = None if getattr(tokenize, "__name__", "") == "_default_tokenize" else tokenize
    stats = term_stats(index, index.passages, custom) if query_terms else None
    asked = identifiers(question) if qtype == "name" else frozenset()
    scored: list[tuple[float, int, tuple[int, int, int]]] = []  # (score, rank, span)
    for rank, cand in enumerate(candidates[: params.from_passages]):
        passage = index.passages[cand.row]
        spans = index.passage_sentences(cand.row)
        if not spans:
            continue
        rows = np.asarray([s[2] for s in spans], dtype=np.int64)
        sims = np.asarray(index.sentence_vectors[rows], dtype=np.float32) @ qvec
        before: str | None = None
        for sim, span in zip(sims, spans, strict=True):
            text = sentence_text(passage, span)
            context = is_heading(passage, text) or (params.skip_context and is_context(text, before))
            before = text
            if context:
                continue
            bonus = params.type_bonus * type_match(qtype, text, asked) - params.rank_penalty * rank
            if query_terms:
                bonus += params.lexical_bonus * coverage(query_terms, token_set(text, custom), stats)
            scored.append((float(sim) + bonus, rank, span))
    if not scored:
        return []
    best = max(s[0] for s in scored)
    picked: list[QuoteSpan] = []
    for score, rank, span in sorted(scored, key=lambda t: t[0], reverse=True):
        if len(picked) == params.max_quotes or score < best - params.margin:
            break
        cand = candidates[rank]
        start, end = span[0], span[1]
        if end - start < params.min_chars:
            end = _extend(index, cand.row, span)
        if _visible(index.passages[cand.row], start, end) < params.min_visible:
            continue
        if any(q.overlaps(cand.row, start, end) for q in picked):
            continue
        picked.append(QuoteSpan(cand.row, start, end, score))
    return _merge_adjacent(index, picked)


def _visible(passage: Passage, start: int, end: int) -> int:
    return sum(not ch.isspace() for ch in passage.text[start - passage.start : end - passage.start])


def is_heading(passage: Passage, text: str) -> bool:
    """A bare heading: the text of one of the passage's section titles (or of its document title)."""
    bare = "".join(text.split())
    if not bare:
        return True
    return any(bare == "".join(s.split()) for s in passage.section)


def _extend(index: SearchableIndex, row: int, span: tuple[int, int, int]) -> int:
    """End of the sentence after ``span`` in the same passage, or ``span``'s own end."""
    following = [s for s in index.passage_sentences(row) if s[0] >= span[1]]
    return following[0][1] if following else span[1]


def _merge_adjacent(index: SearchableIndex, quotes: list[QuoteSpan]) -> list[QuoteSpan]:
    """Sentences of one passage with only whitespace between them become one quote."""
    merged: list[QuoteSpan] = []
    for q in quotes:
        passage = index.passages[q.row]
        for i, m in enumerate(merged):
            if m.row != q.row:
                continue
            lo, hi = (m, q) if m.start <= q.start else (q, m)
            gap = passage.text[lo.end - passage.start : hi.start - passage.start]
            if lo.end <= hi.start and not gap.strip():
                merged[i] = QuoteSpan(q.row, lo.start, max(lo.end, hi.end), max(m.score, q.score))
                break
        else:
            merged.append(q)
    return merged
