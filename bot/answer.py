"""``answer()``: question in, :class:`Reply` out. The CLI and the Slack bot both call this."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from bot.compose import DocLabel, compose_reply, refusal
from bot.evidence import Evidence, weigh_evidence
from bot.query import parse_query
from bot.question_type import question_type
from bot.quotes import QuoteParams, select_quotes
from bot.reply import Reply
from bot.retrieval import RetrievalParams, SearchableIndex, retrieve, sentence_similarities
from bot.settings import DEFAULT_ABSTAIN_THRESHOLD

__all__ = ["Answer", "AnswerIndex", "AnswerParams", "QueryEmbedder", "answer", "answer_in_full"]


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
    retrieval: RetrievalParams = field(default_factory=RetrievalParams)
    quotes: QuoteParams = field(default_factory=QuoteParams)


@dataclass(frozen=True)
class Answer:
    reply: Reply
    evidence: Evidence | None  # None when nothing was searched (empty question, empty index)


def _default_tokenize(text: str) -> list[str]:
    from embeddings import tokenize

    return tokenize(text)


def answer_in_full(
    index: AnswerIndex,
    embedder: QueryEmbedder,
    question: str,
    params: AnswerParams | None = None,
    tokenize: Callable[[str], list[str]] = _default_tokenize,
) -> Answer:
    """Answer ``question`` and keep the evidence behind the decision (for ``kotae eval``)."""
    params = params or AnswerParams()
    query = parse_query(question[: params.max_question_chars * 4])
    if query.is_empty:
        return Answer(refusal(query.text, query.language, "empty", index.version), None)
    if not index.passages:
        return Answer(refusal(query.text, query.language, "no_documents", index.version), None)
    searched = query.normalized[: params.max_question_chars]
    qvec = np.asarray(embedder.embed_query(searched), dtype=np.float32)
    terms = set(tokenize(searched))
    custom = None if tokenize is _default_tokenize else tokenize
    ranked = retrieve(index, query, qvec, params.top_k, params.retrieval, terms=terms, tokenize=custom)
    quotes = select_quotes(index, ranked, qvec, terms, tokenize, params.quotes, qtype=question_type(searched))

    quoted_terms: set[str] = set()
    for q in quotes:
        p = index.passages[q.row]
        quoted_terms.update(tokenize(p.text[q.start - p.start : q.end - p.start]))
    best_sentence = max(
        (sim for c in ranked for sim, _ in sentence_similarities(index, c.row, qvec)), default=0.0
    )
    evidence = weigh_evidence(
        sentence=best_sentence,
        language=query.language,
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


def answer(
    index: AnswerIndex,
    embedder: QueryEmbedder,
    question: str,
    params: AnswerParams | None = None,
) -> Reply:
    return answer_in_full(index, embedder, question, params).reply
