"""BM25 over Japanese tokens: finds passages by their words, saves as plain files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embeddings import LexicalIndex, tokenize

PASSAGES = [
    "地上デジタルテレビ放送の日本方式（ISDB-T）は2013年にボツワナが採用した。",
    "国際電気通信連合（ITU）は電気通信に関する国連の専門機関であり、193か国が加盟している。",
    "WCIT-12はドバイで開催され、国際電気通信規則（ITR）の改正が議論された。",
    "今日は晴れで、午後から風が強くなる見込みです。",
    "ASEAN諸国へのICTプロジェクトの展開を支援している。",
]


@pytest.fixture(scope="module")
def lexical() -> LexicalIndex:
    return LexicalIndex.build([tokenize(p) for p in PASSAGES])


@pytest.mark.parametrize(
    ("question", "row"),
    [
        ("ボツワナはいつ日本方式を採用しましたか", 0),
        ("ITUの加盟国数は？", 1),
        ("ドバイで開催された会議", 2),
        ("明日の天気と風", 3),
        ("ASEANでのICT展開", 4),
        ("What is the ITU?", 1),
        ("Where was WCIT-12 held?", 2),
        ("ISDB-T adoption", 0),
    ],
)
def test_finds_the_passage_that_shares_the_words(lexical, question, row):
    hits = lexical.search(question, 3)
    assert hits and hits[0][0] == row
    assert all(score > 0 for _, score in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_unknown_words_find_nothing(lexical):
    assert lexical.search("量子コンピュータ", 5) == []
    assert lexical.search("", 5) == []
    assert lexical.search("の、は。", 5) == []


def test_scores_agree_with_textbook_bm25(lexical):
    """Lucene BM25 (k1=1.5, b=0.75) computed by hand for a one-word query."""
    docs = [tokenize(p) for p in PASSAGES]
    avg = sum(len(d) for d in docs) / len(docs)
    term = "電気"
    df = sum(term in d for d in docs)
    idf = np.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
    expected = []
    for d in docs:
        tf = d.count(term)
        expected.append(idf * tf / (tf + 1.5 * (1 - 0.75 + 0.75 * len(d) / avg)) if tf else 0.0)
    assert np.allclose(lexical.scores([term]), expected, atol=1e-5)


def test_save_and_load_round_trip_as_plain_files(lexical, tmp_path):
    target = tmp_path / "lexical"
    lexical.save(target)
    names = sorted(p.name for p in target.iterdir())
    assert all(n.endswith((".npy", ".json")) for n in names)
    for npy in target.glob("*.npy"):
        np.load(npy, allow_pickle=False)  # raises if anything was pickled
    for js in target.glob("*.json"):
        json.loads(js.read_text(encoding="utf-8"))
    loaded = LexicalIndex.load(target, len(PASSAGES))
    for q in ("ボツワナ", "ITU 加盟", "天気"):
        assert loaded.search(q, 5) == lexical.search(q, 5)


def test_saving_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    LexicalIndex.build([tokenize(p) for p in PASSAGES]).save(a)
    LexicalIndex.build([tokenize(p) for p in PASSAGES]).save(b)
    for f in a.iterdir():
        if f.name != "params.index.json":
            assert f.read_bytes() == (b / f.name).read_bytes(), f.name


def test_load_refuses_another_passage_count(lexical, tmp_path):
    lexical.save(tmp_path / "lx")
    with pytest.raises(ValueError, match="covers 5 passages"):
        LexicalIndex.load(tmp_path / "lx", 6)


def test_empty_index(tmp_path):
    empty = LexicalIndex.build([])
    assert empty.search("何か", 3) == []
    empty.save(tmp_path / "lx")
    assert LexicalIndex.load(tmp_path / "lx", 0).search("何か", 3) == []


def test_passages_without_words_are_indexable():
    lx = LexicalIndex.build([tokenize("。。。"), tokenize("ボツワナ")])
    assert [row for row, _ in lx.search("ボツワナ", 5)] == [1]


def test_loaded_index_scores_exactly_as_bm25s_does_without_importing_it(tmp_path):
    import bm25s

    target = tmp_path / "lexical"
    built = LexicalIndex.build([tokenize(p) for p in PASSAGES])
    built.save(target)
    loaded = LexicalIndex.load(target, len(PASSAGES))
    oracle = bm25s.BM25.load(str(target), mmap=True, allow_pickle=False, show_progress=False)
    for query in ("ITU 加盟国", "地上デジタル放送 日本方式 日本方式", "無関係な語"):
        tokens = tokenize(query)
        ids = [oracle.vocab_dict[t] for t in tokens if t in oracle.vocab_dict]
        expected = np.asarray(oracle.get_scores_from_ids(ids), np.float32) if ids else np.zeros(len(PASSAGES))
        np.testing.assert_array_equal(loaded.scores(tokens), expected)
        np.testing.assert_array_equal(built.scores(tokens), expected)


def test_passages_of_which_none_has_a_word_save_and_load(tmp_path):
    lx = LexicalIndex.build([tokenize("。。。"), tokenize("――")])
    assert lx.search("何か", 3) == [] and lx.document_frequency("何か") == 0
    lx.save(tmp_path / "lx")
    loaded = LexicalIndex.load(tmp_path / "lx", 2)
    assert loaded.search("何か", 3) == [] and loaded.num_docs == 2


def test_document_frequency_counts_the_passages_holding_a_word(lexical):
    assert lexical.document_frequency("ボツワナ") == 1
    assert lexical.document_frequency("国際") == 2  # 国際電気通信連合, 国際電気通信規則
    assert lexical.document_frequency("存在しない語") == 0
    for word in {w for p in PASSAGES for w in tokenize(p)}:
        assert lexical.document_frequency(word) == sum(word in tokenize(p) for p in PASSAGES), word
