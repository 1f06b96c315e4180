from __future__ import annotations

from dataclasses import replace

import numpy as np

from bot.question_type import answer_types, identifiers, question_type, type_match
from bot.quotes import QuoteParams, is_heading, select_quotes
from bot.retrieval import Candidate
from bot.terms import TermStats, coverage
from knowledge.passage import Passage

TEXT = "会議の概要\n2006年、ITUは会議を2012年に開催することを決定した。\n会議はアラブ首長国連邦・ドバイで開催された。"


class _Index:
    def __init__(self) -> None:
        self.passages = [Passage("a.txt", 0, 0, len(TEXT), 1, 3, ("会議の概要",), TEXT)]
        bounds = [(0, 5), (6, TEXT.index("\n", 6)), (TEXT.index("\n", 6) + 1, len(TEXT))]
        self._spans = [(s, e, i) for i, (s, e) in enumerate(bounds)]
        # every sentence equally similar to the question: only the cues can decide
        self.sentence_vectors = np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (3, 1))
        self.vectors = np.array([[1.0, 0.0]], dtype=np.float32)

    def passage_sentences(self, row: int) -> list[tuple[int, int, int]]:
        return list(self._spans)


def _quote(qtype: str | None) -> str:
    index = _Index()
    cand = Candidate(0, 1.0, 0.0, 1.0, None, 2.0)
    params = QuoteParams(max_quotes=1, lexical_bonus=0.0, min_chars=0)
    qvec = np.array([1.0, 0.0], dtype=np.float32)
    quotes = select_quotes(index, [cand], qvec, set(), lambda t: [], params, qtype=qtype)
    assert len(quotes) == 1
    return TEXT[quotes[0].start : quotes[0].end]


def test_question_types():
    assert question_type("WCITはどこで開催された？") == "where"
    assert question_type("Which city hosted the 3rd IGF?") == "where"
    assert question_type("署名したのは何か国？") == "count"
    assert question_type("How many countries signed?") == "count"
    assert question_type("会期はいつ？") == "when"
    assert question_type("Who led the delegation?") == "who"
    assert question_type("日本方式の特徴は？") is None


def test_answer_types_of_sentences():
    assert "place" in answer_types("会議はアラブ首長国連邦・ドバイで開催された。")
    assert "date" in answer_types("2012年12月3日～14日")
    assert "count" in answer_types("151ヶ国及び37団体から約1,600名")
    assert "person" in answer_types("ステファン・ラング大使が出席した。")
    assert type_match("where", "総務省が決めた。") == 0.0
    assert type_match(None, "ドバイ") == 0.0


def test_where_question_quotes_the_sentence_with_a_place():
    assert "ドバイ" in _quote("where")


def test_when_question_quotes_the_sentence_with_a_date():
    assert "2006年" in _quote("when")


def test_bare_heading_is_never_quoted():
    passage = _Index().passages[0]
    assert is_heading(passage, "会議の概要")
    assert is_heading(passage, " 会議の 概要 ")
    assert not is_heading(passage, "会議はドバイで開催された。")
    for qtype in (None, "where", "when"):
        assert _quote(qtype) != "会議の概要"


def test_coverage_weights_rare_terms():
    stats = TermStats([frozenset({"会議", "itu"}), frozenset({"会議"}), frozenset({"会議", "ドバイ"})])
    assert stats.idf("ドバイ") > stats.idf("会議")
    rare = coverage({"会議", "ドバイ"}, frozenset({"ドバイ"}), stats)
    common = coverage({"会議", "ドバイ"}, frozenset({"会議"}), stats)
    assert rare > common
    assert coverage(set(), frozenset({"x"}), stats) == 0.0
    assert coverage({"a", "b"}, frozenset({"a"}), None) == 0.5


def test_a_fragment_cut_at_the_passage_end_is_never_quoted():
    """The scrap of a sentence left at a passage boundary (「今」) says nothing on its own."""
    text = "会議はアラブ首長国連邦・ドバイで開催された。\n今"
    index = _Index()
    index.passages = [Passage("a.txt", 0, 0, len(text), 1, 2, (), text)]
    index._spans = [(0, text.index("\n"), 0), (len(text) - 1, len(text), 1)]
    # the fragment is the closer match, and nothing follows it to extend it with
    index.sentence_vectors = np.array([[0.8, 0.6], [1.0, 0.0]], dtype=np.float32)
    cand = Candidate(0, 1.0, 0.0, 1.0, None, 2.0)
    qvec = np.array([1.0, 0.0], dtype=np.float32)
    params = QuoteParams(margin=1.0, min_chars=0)
    quotes = select_quotes(index, [cand], qvec, set(), lambda t: [], params)
    assert [text[q.start : q.end] for q in quotes] == ["会議はアラブ首長国連邦・ドバイで開催された。"]
    kept = select_quotes(index, [cand], qvec, set(), lambda t: [], replace(params, min_visible=0))
    assert [text[q.start : q.end] for q in kept] == [text]  # the fragment, merged with its neighbour


def test_questions_about_a_named_thing_want_a_new_identifier():
    assert question_type("パスワードのエージング情報を管理するコマンドは？") == "name"
    assert question_type("ITP のバグレポートってどの疑似パッケージに送るの？") == "name"
    assert question_type("Which package provides lsdiff?") == "name"
    assert question_type("日本方式の特徴は？") is None
    assert question_type("ファイルはいくつある？") == "count"  # a count first
    asked = identifiers("chroot 環境でビルドして FTBFS バグを避けるのに使うパッケージは？")
    assert asked == {"chroot"}
    names = "pbuilder - このパッケージには chroot 環境の作成や保守に使用されるプログラムが含まれます。"
    repeats = "この chroot 環境下でビルドすることで FTBFS バグを回避することができます。"
    assert type_match("name", names, asked) == 1.0
    assert type_match("name", repeats, asked) == 0.0  # only the question's own identifier
    assert type_match("name", repeats) == 1.0  # without the question, any identifier counts
    assert "name" in answer_types('設定は "/etc/hostname" にある')
    assert "name" not in answer_types("会議は開催された。")
