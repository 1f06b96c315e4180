"""Which lexical signal a question gets: its own words (Japanese), the glossed words (English)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.query import parse_query
from bot.retrieval import RetrievalParams, retrieve
from knowledge.passage import Passage

TEXTS = ["ボツワナが日本方式を採用した。", "ブラジルが日本方式を採用した。", "今日は晴れです。"]


class _Index:
    """Three passages the question's vector cannot tell apart; lexical searches are recorded."""

    def __init__(self, english: list[tuple[int, float]] | None) -> None:
        self.passages = [Passage(f"{i}.txt", 0, 0, len(t), 1, 1, (), t) for i, t in enumerate(TEXTS)]
        self.vectors = np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (3, 1))
        self.sentence_vectors = self.vectors.copy()
        self.calls: list[tuple[str, str]] = []
        if english is not None:
            self._english = english
            self.search_english = self._search_english

    def search_dense(self, qvec, k):
        return [(i, 0.8) for i in range(len(self.passages))][:k]

    def search_lexical(self, query, k):
        self.calls.append(("japanese", query))
        return [(1, 5.0)] if "ブラジル" in query else []

    def _search_english(self, question, k):
        self.calls.append(("english", question))
        return self._english[:k]

    def passage_sentences(self, row):
        p = self.passages[row]
        return [(p.start, p.end, row)]


QVEC = np.array([1.0, 0.0], dtype=np.float32)


def _top(index, question, params=None):
    ranked = retrieve(index, parse_query(question), QVEC, 3, params or RetrievalParams(), terms=set())
    return [c.row for c in ranked]


def test_a_japanese_question_is_searched_by_its_own_words():
    index = _Index(english=[(0, 9.0)])
    assert _top(index, "ブラジルはいつ採用した？")[0] == 1
    assert [kind for kind, _ in index.calls] == ["japanese"]


def test_an_english_question_is_searched_by_the_glossed_words():
    index = _Index(english=[(1, 3.0)])  # "Brazil" glosses ブラジル, in passage 1
    assert _top(index, "When did Brazil adopt it?")[0] == 1  # equal otherwise: row 0 would lead
    assert index.calls == [("english", "When did Brazil adopt it?")]


@pytest.mark.parametrize("english", [None, [(0, 3.0)]])
def test_without_a_glossary_or_weight_english_questions_use_meaning_alone(english):
    index = _Index(english=english)
    params = RetrievalParams(lexical_weight_en=0.0) if english else RetrievalParams()
    ranked = retrieve(index, parse_query("When did Botswana adopt it?"), QVEC, 3, params, terms=set())
    assert index.calls == []
    assert all(c.lexical == 0.0 for c in ranked)
