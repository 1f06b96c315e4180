"""Japanese content words and ASCII terms for BM25."""

from __future__ import annotations

import threading

import pytest

import embeddings.tokenizer as tokenizer_module
from embeddings import tokenize


def test_keeps_content_words_and_drops_particles_and_punctuation():
    tokens = tokenize("日本方式の普及に取り組んでいる。")
    assert tokens[:3] == ["日本", "方式", "普及"]
    assert "取り組む" in tokens  # verbs in dictionary form
    for dropped in ("の", "に", "て", "いる", "居る", "。"):
        assert dropped not in tokens


def test_ascii_terms_and_numbers_survive_lowercased():
    tokens = tokenize("地上デジタル放送（ISDB-T）は2013年にボツワナが採用。193ヶ国がITUに加盟。")
    for kept in ("isdb", "t", "isdb-t", "2013", "193", "itu", "ボツワナ", "採用", "加盟"):
        assert kept in tokens, kept


def test_full_width_and_half_width_forms_meet():
    assert tokenize("ＷＣＩＴ－１２") == tokenize("WCIT-12")
    assert "wcit-12" in tokenize("ＷＣＩＴ－１２")
    assert tokenize("ｲﾝﾀｰﾈｯﾄ") == tokenize("インターネット")


def test_english_question_keeps_its_terms_not_its_function_words():
    tokens = tokenize("What is the role of the ITU in WCIT-12?")
    assert tokens == ["role", "itu", "wcit", "12", "wcit-12"]


def test_acronyms_that_look_like_stop_words_are_kept():
    assert tokenize("IT and US and WHO") == ["it", "us", "who"]


def test_only_punctuation_and_whitespace_give_nothing():
    assert tokenize("。、「」・ \n\t！？") == []
    assert tokenize("") == []


def test_one_tagger_per_process_shared_safely_by_threads(monkeypatch):
    created = []
    import fugashi

    real = fugashi.Tagger

    def counting_tagger(*args, **kwargs):
        created.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(tokenizer_module, "_tagger", None)
    monkeypatch.setattr(fugashi, "Tagger", counting_tagger)
    texts = [f"第{i}回の日米対話でデジタル経済について議論した。" for i in range(40)]
    expected = {t: None for t in texts}
    results: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def work(chunk: list[str]) -> None:
        try:
            for t in chunk:
                results[t] = tokenize(t)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(texts[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(created) == 1
    assert results.keys() == expected.keys()
    for i, t in enumerate(texts):
        assert results[t] == [str(i), "回", "日米", "対話", "デジタル", "経済", "議論"]


@pytest.mark.parametrize(
    ("text", "base"), [("取り組んでいる", "取り組む"), ("美しかった", "美しい"), ("東京に行った", "行く")]
)
def test_inflected_forms_use_the_dictionary_form(text, base):
    assert tokenize(text)[-1] == base


def test_light_words_in_kana_are_dropped_but_content_verbs_are_not():
    assert tokenize("議論について検討している") == ["議論", "検討"]
    assert tokenize("切手を付く") == ["切手", "付く"]
