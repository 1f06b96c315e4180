"""IDF for sentence and quote scoring: from the index's own document frequencies when it has
them (no pass over the passages at question time), else from a table built once."""

from __future__ import annotations

import pytest

from bot.terms import TermStats, coverage, term_stats
from knowledge.passage import Passage

SETS = [frozenset({"会議", "itu"}), frozenset({"会議"}), frozenset({"会議", "ドバイ"}), frozenset({"ドバイ"})]


def test_a_document_frequency_lookup_gives_the_same_idf_as_a_table():
    counts = {"会議": 3, "itu": 1, "ドバイ": 2}
    table = TermStats(SETS)
    lookup = TermStats(n=4, document_frequency=lambda t: counts.get(t, 0))
    for token in ("会議", "itu", "ドバイ", "未知語"):
        assert lookup.idf(token) == pytest.approx(table.idf(token))
    assert table.idf("itu") > table.idf("ドバイ") > table.idf("会議")
    assert table.idf("未知語") == table.unseen > table.idf("itu")


def test_a_lookup_without_the_passage_count_is_refused():
    with pytest.raises(ValueError, match="number of passages"):
        TermStats(document_frequency=lambda t: 0)


class _Passages(list):
    def __iter__(self):
        raise AssertionError("IDF must not need a pass over the passages")


class _IndexWithFrequencies:
    def __init__(self, counts, n):
        self.counts, self.calls = counts, []
        self.passages = _Passages([None] * n)

    def document_frequency(self, token: str) -> int:
        self.calls.append(token)
        return self.counts.get(token, 0)


def test_term_stats_uses_the_index_frequencies_without_reading_passages():
    index = _IndexWithFrequencies({"会議": 3, "itu": 1}, n=4)
    stats = term_stats(index, index.passages)
    assert stats.n == 4
    assert coverage({"itu", "会議"}, frozenset({"itu"}), stats) > 0.5  # the rare word weighs more
    assert set(index.calls) == {"itu", "会議"}


def test_a_custom_tokenizer_gets_a_table_of_its_own_tokens():
    index = _IndexWithFrequencies({}, n=0)  # its frequencies are for the default tokenizer
    passages = [Passage(doc_path="a.txt", ordinal=i, start=0, end=len(t), start_line=1, end_line=1,
                        section=(), text=t) for i, t in enumerate(("a b", "a c", "a"))]
    stats = term_stats(index, passages, tokenize=str.split)
    assert index.calls == []
    assert stats.n == 3 and stats.idf("b") > stats.idf("a")
