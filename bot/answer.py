"""``answer()``: question in, :class:`Reply` out. The CLI and the Slack bot both call this."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from bot.compose import DocLabel, compose_reply, refusal
from bot.evidence import ENGLISH_OFFSET, ENGLISH_OFFSET_GLOSSED, Evidence, weigh_evidence
from bot.parts import question_parts
from bot.query import Query, parse_query
from bot.question_type import question_type
from bot.quotes import QuoteParams, QuoteSpan, select_quotes
from bot.reply import Reply
from bot.retrieval import Candidate, RetrievalParams, SearchableIndex, interleave, retrieve, sentence_similarities
from bot.settings import DEFAULT_ABSTAIN_THRESHOLD
from bot.terms import term_stats

__all__ = [
    "Answer",
    "AnswerIndex",
    "AnswerParams",
    "QueryEmbedder",
    "answer",
    "answer_in_full",
    "glossed_words",
    "question_vector",
]


class QueryEmbedder(Protocol):
    def embed_query(self, text: str) -> np.ndarray: ...


class AnswerIndex(SearchableIndex, Protocol):
    @property
    def version(self) -> str: ...

    @property
    def documents(self) -> Mapping[str, DocLabel]: ...


@dataclass(frozen=True)
class AnswerParams:
    top_k: int = 5
    abstain_threshold: float = DEFAULT_ABSTAIN_THRESHOLD
    max_question_chars: int = 1000  # longer questions are searched by their beginning
    # An English question's vector is mixed with the vector of the Japanese words its words
    # gloss (weight 0.1–0.25 gave the same dev-set figures; 0.5 and more lose English hit@1).
    glossed_weight: float = 0.2
    # Each part of a two-part question (``bot.parts``) is searched by its own vector mixed with
    # the whole question's at this weight, so that 「そこで支持されたビジョンって何？」 keeps
    # its subject (0.5–1.0 gave the same dev-set figures; 0 and 0.3 miss one more question).
    part_context_weight: float = 0.7
    # A thread follow-up (「それはいつ？」 after 「WCIT-12とは？」) is searched by its own vector
    # mixed with its thread's earlier questions' at this weight, and by their words as well.
    thread_context_weight: float = 0.7
    retrieval: RetrievalParams = field(default_factory=RetrievalParams)
    quotes: QuoteParams = field(default_factory=QuoteParams)


@dataclass(frozen=True)
class Answer:
    reply: Reply
    evidence: Evidence | None  # None when nothing was searched (empty question, empty index)


def _default_tokenize(text: str) -> list[str]:
    from embeddings import tokenize

    return tokenize(text)


def glossed_words(index: AnswerIndex, searched: str, language: str) -> list[str]:
    """The corpus words an English question's words gloss (``Index.english_words``), each once;
    none for a Japanese question or an index without a glossary."""
    lookup = getattr(index, "english_words", None)
    if language != "en" or not callable(lookup):
        return []
    return list(dict.fromkeys(lookup(searched)))


def question_vector(
    embedder: QueryEmbedder, searched: str, glossed: Sequence[str], glossed_weight: float
) -> tuple[np.ndarray, bool]:
    """The question's vector, and whether it was mixed with the glossed words.

    An English question over Japanese text is also embedded as the Japanese words its English
    words gloss (:func:`glossed_words`: 「フィンランド 政策 対話」), and the two vectors are
    mixed: same-language similarity is what the small model does best, and the English vector
    keeps what the glosses miss. On the development set: quotes of English answers carry the
    answer 16/24 → 20/27, English hit@3 0.93 → 1.00, answerable questions wrongly refused 5 → 4
    of 105 (with :data:`~bot.evidence.ENGLISH_OFFSET_GLOSSED`), for one more embedding (~20 ms)
    per English question."""
    qvec = np.asarray(embedder.embed_query(searched), dtype=np.float32)
    if not glossed or not glossed_weight:
        return qvec, False
    mixed = _blend(qvec, np.asarray(embedder.embed_query(" ".join(glossed)), dtype=np.float32), glossed_weight)
    return (mixed, True) if mixed is not None else (qvec, False)


def _blend(vector: np.ndarray, other: np.ndarray, weight: float) -> np.ndarray | None:
    """``vector + weight × other`` at unit length; None when that is the zero vector."""
    mixed = vector + weight * other
    norm = float(np.linalg.norm(mixed))
    return mixed / norm if norm > 0 else None


def answer_in_full(
    index: AnswerIndex,
    embedder: QueryEmbedder,
    question: str,
    params: AnswerParams | None = None,
    tokenize: Callable[[str], list[str]] = _default_tokenize,
    context: Sequence[str] = (),
) -> Answer:
    """Answer ``question`` and keep the evidence behind the decision (for ``kotae eval``).

    ``context``: the questions asked before it in the same conversation (a Slack thread); a
    follow-up that leaves its subject out (「それはいつ？」) is searched together with them.
    """
    params = params or AnswerParams()
    query = parse_query(question[: params.max_question_chars * 4])
    if query.is_empty:
        return Answer(refusal(query.text, query.language, "empty", index.version), None)
    if not index.passages:
        return Answer(refusal(query.text, query.language, "no_documents", index.version), None)
    query = Query(query.text, query.normalized[: params.max_question_chars], query.language)
    searched = query.normalized
    custom = None if tokenize is _default_tokenize else tokenize
    earlier = _context_search(index, embedder, context, query, params, tokenize, custom)
    whole = _search(index, embedder, query, params, tokenize, custom, earlier=earlier)
    qvec, terms = whole.vector, whole.terms
    # A follow-up's passages come from the thread's subject; within them, its quotes answer what
    # it asks itself (「いつ？」 picks the dates, not the sentence most about WCIT-12).
    pick, pick_terms = (whole.own, whole.own_terms) if earlier is not None else (qvec, terms)
    stats = term_stats(index, index.passages, custom)
    known = sum(stats.occurs(word) for word in terms | set(whole.glossed))
    parts = [
        _search(index, embedder, Query(part, part, query.language), params, tokenize, custom, context=qvec)
        for part in question_parts(searched, query.language)
    ]
    ranked = interleave(index, [whole.ranking, *(p.ranking for p in parts)], params.top_k) if parts else whole.ranking
    quotes = select_quotes(index, ranked, pick, pick_terms, tokenize, params.quotes, question_type(searched), searched)
    if parts:
        quotes = _with_parts(index, ranked, quotes, parts, tokenize, params.quotes)

    quoted_terms: set[str] = set()
    for q in quotes:
        p = index.passages[q.row]
        quoted_terms.update(tokenize(p.text[q.start - p.start : q.end - p.start]))
    best_sentence = max((sim for c in ranked for sim, _ in sentence_similarities(index, c.row, pick)), default=0.0)
    evidence = weigh_evidence(
        sentence=best_sentence,
        language=query.language,
        english_offset=ENGLISH_OFFSET_GLOSSED if whole.mixed else ENGLISH_OFFSET,
        known_words=known,
        dense=ranked[0].dense if ranked else 0.0,
        question_terms=terms,
        quoted_terms=quoted_terms,
        question=searched,
        retrieved_texts=[index.passages[c.row].text for c in ranked],
    )
    reply = compose_reply(
        question=query.text,
        language=query.language,
        passages=index.passages,
        docs=index.documents,
        ranked=ranked,
        quotes=quotes,
        answered=evidence.answers(params.abstain_threshold),
        index_version=index.version,
    )
    return Answer(reply, evidence)


@dataclass(frozen=True)
class _Searched:
    query: Query
    vector: np.ndarray
    mixed: bool  # the vector was mixed with the glossed words
    glossed: list[str]
    terms: set[str]
    ranking: list[Candidate]
    own: np.ndarray  # a follow-up's vector before its thread's earlier questions were mixed in
    own_terms: set[str]


def _search(
    index: AnswerIndex,
    embedder: QueryEmbedder,
    query: Query,
    params: AnswerParams,
    tokenize: Callable[[str], list[str]],
    custom: Callable[[str], list[str]] | None,
    context: np.ndarray | None = None,
    earlier: _Searched | None = None,
) -> _Searched:
    """Embed and search one question; a part of a two-part question has its vector mixed with
    the whole question's (``context``); a thread follow-up is mixed with its thread's earlier
    questions (``earlier``: their vector, and their words for the lexical search)."""
    text = query.normalized
    glossed = glossed_words(index, text, query.language)
    vector, mixed = question_vector(embedder, text, glossed, params.glossed_weight)
    if context is not None:
        blended = _blend(vector, context, params.part_context_weight)
        vector = blended if blended is not None else vector
    terms = set(tokenize(text))
    own, own_terms = vector, set(terms)
    searched = query
    if earlier is not None:
        blended = _blend(vector, earlier.vector, params.thread_context_weight)
        vector = blended if blended is not None else vector
        terms |= earlier.terms
        joined = f"{earlier.query.normalized} {text}"
        searched = Query(query.text, joined, query.language)
    ranking = retrieve(index, searched, vector, params.top_k, params.retrieval, terms=terms, tokenize=custom)
    return _Searched(query, vector, mixed, glossed, terms, ranking, own, own_terms)


def _context_search(
    index: AnswerIndex,
    embedder: QueryEmbedder,
    context: Sequence[str],
    query: Query,
    params: AnswerParams,
    tokenize: Callable[[str], list[str]],
    custom: Callable[[str], list[str]] | None,
) -> _Searched | None:
    """The earlier questions of a thread as one query (vector and words, nothing retrieved);
    None when there are none."""
    joined = " ".join(" ".join(c.split()) for c in context if c and c.strip())
    if not joined:
        return None
    earlier = parse_query(joined[: params.max_question_chars])
    text = earlier.normalized[: params.max_question_chars]
    glossed = glossed_words(index, text, earlier.language)
    vector, mixed = question_vector(embedder, text, glossed, params.glossed_weight)
    terms = set(tokenize(text))
    return _Searched(Query(earlier.text, text, earlier.language), vector, mixed, glossed, terms, [], vector, terms)


def _with_parts(
    index: AnswerIndex,
    ranked: list[Candidate],
    quotes: list[QuoteSpan],
    parts: list[_Searched],
    tokenize: Callable[[str], list[str]],
    params: QuoteParams,
) -> list[QuoteSpan]:
    """A two-part question's quotes: the whole question's best sentence, then each part's best,
    then the whole question's runners-up; no two overlapping, at most ``params.max_quotes``."""
    bests = []
    for part in parts:
        qtype = question_type(part.query.normalized)
        question = part.query.normalized
        bests += select_quotes(index, ranked, part.vector, part.terms, tokenize, params, qtype, question)[:1]
    kept: list[QuoteSpan] = []
    for q in [*quotes[:1], *bests, *quotes[1:]]:
        if len(kept) < params.max_quotes and not any(k.overlaps(q.row, q.start, q.end) for k in kept):
            kept.append(q)
    return kept


def answer(
    index: AnswerIndex,
    embedder: QueryEmbedder,
    question: str,
    params: AnswerParams | None = None,
    context: Sequence[str] = (),
) -> Reply:
    return answer_in_full(index, embedder, question, params, context=context).reply
