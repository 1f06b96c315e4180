"""Two-part questions are split into parts that are searched on their own, and the top five
takes passages from each part's ranking in turn."""

from __future__ import annotations

import numpy as np
import pytest

from bot.answer import AnswerParams, answer_in_full
from bot.parts import question_parts
from bot.query import parse_query
from bot.retrieval import Candidate, interleave
from knowledge.passage import Passage


def _parts(question: str) -> list[str]:
    query = parse_query(question)
    return question_parts(query.normalized, query.language)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "ITRっていつ作られて、いつ発効したの？",
            ["ITRっていつ作られて", "いつ発効したの?"],
        ),
        (
            "全権委員会議で何を提言した？あとその会議では何を選挙する？",
            ["全権委員会議で何を提言した", "あとその会議では何を選挙する?"],
        ),
        (
            "第4回と第6回の日米対話、開催地はそれぞれどこ？",
            ["第4回の日米対話、開催地はそれぞれどこ?", "第6回の日米対話、開催地はそれぞれどこ?"],
        ),
        (
            "2014年の日米対話と2024年の日米対話、局長は誰？",
            ["2014年の日米対話、局長は誰?", "2024年の日米対話、局長は誰?"],
        ),
        (
            "ICANN会合、2012年6月と2013年7月の開催都市は？",
            ["ICANN会合、2012年6月の開催都市は?", "ICANN会合、2013年7月の開催都市は?"],
        ),
        (
            "Where was the 2010 Plenipotentiary held, and what are the dates of the 2014 one?",
            ["Where was the 2010 Plenipotentiary held", "what are the dates of the 2014 one?"],
        ),
        (
            "Where were the 2014 and the 2024 dialogues held?",
            ["Where were the 2014 dialogues held?", "Where were the 2024 dialogues held?"],
        ),
        (
            "Who attended the 6th and 7th meetings?",
            ["Who attended the 6th meetings?", "Who attended the 7th meetings?"],
        ),
    ],
)
def test_two_part_questions_are_split(question, expected):
    assert _parts(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "地デジの日本方式、最初に採用した国ってどこ？",  # the clause before 、 asks nothing
        "WCIT-12で日本は署名した？",
        "What did Japan and Indonesia agree on when the minister visited in April 2013?",  # no comma
        "Besides four per region, which two countries sit on the group?",  # first clause asks nothing
        "How many countries and organisations took part?",
        "2014年と同じ形式で開かれた？",  # と not followed by a second numbered item
        "第3回で一致した分野って何？",
        "いつ、どこで？",  # clauses too short to search alone
    ],
)
def test_one_part_questions_are_left_whole(question):
    assert _parts(question) == []


def _passage(i: int, doc: str = "a.txt", start: int | None = None) -> Passage:
    start = i * 100 if start is None else start
    text = f"passage {i} " * 5
    return Passage(doc, i, start, start + len(text), i + 1, i + 1, (), text)


class _Index:
    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages


def _cands(*rows: int) -> list[Candidate]:
    return [Candidate(r, 0.5, 0.0, 0.5, None, 1.0 - r / 100) for r in rows]


def test_interleave_takes_each_ranking_in_turn_without_repeats():
    index = _Index([_passage(i) for i in range(8)])
    merged = interleave(index, [_cands(0, 1, 2, 3), _cands(4, 0, 5), _cands(6, 7)], 5)
    assert [c.row for c in merged] == [0, 4, 6, 1, 7]


def test_interleave_drops_passages_that_overlap_one_already_taken():
    overlapping = _passage(9, start=10)  # same document, mostly inside passage 0
    index = _Index([_passage(i) for i in range(9)] + [overlapping])
    merged = interleave(index, [_cands(0, 1), _cands(9, 2)], 5)
    assert [c.row for c in merged] == [0, 1, 2]


class _Doc:
    title = "ITR"
    url = None
    kind = "text"


class _TwoTopicIndex:
    """Two answers, each alone in one direction, and three passages near the middle, where the
    vector of a question asking both lands."""

    version = "t"
    texts = (
        "ITRは1988年に採択された。",
        "ITRは1990年に発効した。",
        "ITRの改正が議論された。",
        "ITRの見直しを求める声があった。",
        "ITRは国際的な規則である。",
    )

    def __init__(self) -> None:
        self.documents = {"itr.txt": _Doc()}
        self.passages = []
        start = 0
        for i, text in enumerate(self.texts):
            self.passages.append(Passage("itr.txt", i, start, start + len(text), i + 1, i + 1, (), text))
            start += len(text) + 1
        middle = [[0.6, 0.6, 0.53], [0.55, 0.55, 0.63], [0.5, 0.5, 0.7]]
        vectors = np.array([[1, 0, 0], [0, 1, 0], *middle], dtype=np.float32)
        self.vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        self.sentence_vectors = self.vectors

    def search_dense(self, qvec, k):
        sims = self.vectors @ qvec
        return [(int(i), float(sims[i])) for i in np.argsort(-sims)[:k]]

    def search_lexical(self, query, k):
        return []

    def passage_sentences(self, row):
        p = self.passages[row]
        return [(p.start, p.end, row)]


class _DirectionEmbedder:
    """作られ → x, 発効 → y, both → the middle."""

    def embed_query(self, text: str) -> np.ndarray:
        made, effect = "作られ" in text, "発効" in text
        vec = np.array([0.6, 0.6, 0.53]) if made and effect else np.array([float(made), float(effect), 0.0])
        return (vec / np.linalg.norm(vec)).astype(np.float32)


def _no_words(text: str) -> list[str]:
    return []


@pytest.mark.parametrize(
    ("question", "split"), [("ITRっていつ作られて、いつ発効したの？", True), ("ITRの作られと発効", False)]
)
def test_each_part_of_a_two_part_question_reaches_the_top_five_and_is_quoted(question, split):
    index = _TwoTopicIndex()
    params = AnswerParams(top_k=3, abstain_threshold=0.0)
    reply = answer_in_full(index, _DirectionEmbedder(), question, params, _no_words).reply
    shown = [p.text for p in reply.passages]
    quoted = " ".join(q.text for q in reply.quotes)
    assert shown[0] == "ITRの改正が議論された。"  # the whole question's first place stays first
    answers = {"ITRは1988年に採択された。", "ITRは1990年に発効した。"}
    if split:
        assert answers <= set(shown)
        assert "1988年" in quoted and "1990年" in quoted
    else:  # the same words asked as one thing: the middle passages fill the top three
        assert not answers & set(shown)
