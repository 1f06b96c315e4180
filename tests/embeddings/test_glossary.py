"""English glosses of the corpus's words: built from a JMdict-shaped database, saved beside the
BM25 files, and used to search Japanese passages with an English question."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from embeddings import open_index
from embeddings.glossary import (
    GLOSSARY_FILE,
    Glossary,
    build_glossary,
    dictionary_path,
    english_keys,
    load_glossary,
)
from embeddings.layout import LEXICAL_DIR

# A few entries in the shape of jamdict-data's database: JMdict (Kanji/Kana → Sense →
# SenseGloss) and JMnedict (NEKanji/NEKana → NETranslation → NETransGloss).
JMDICT = {
    1: (["外資"], [], ["foreign capital (e.g. in a company)", "foreign investment"]),
    2: (["採用"], ["さいよう"], ["adoption", "use", "employment"]),
    3: (["加盟"], [], ["participation", "affiliation", "joining (e.g. a league)"]),
    4: (["放送"], [], ["broadcasting", "broadcast"]),
    5: ([], ["フィンランド"], ["Finland"]),
    6: (["使用"], [], ["use"]),
    7: (["利用"], [], ["use", "utilization"]),
    8: (["登用"], [], ["appointment", "use"]),
    9: (["本部"], [], ["headquarters", "head office", "central office which directs the work of many offices"]),
}
JMNEDICT = {100: (["ボツワナ"], ["Botswana"]), 101: (["外資"], ["Gaishi (surname)"])}


def make_dictionary(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE Kanji (ID INTEGER PRIMARY KEY, idseq INTEGER, text TEXT);
        CREATE TABLE Kana (ID INTEGER PRIMARY KEY, idseq INTEGER, text TEXT, nokanji BOOLEAN);
        CREATE TABLE Sense (ID INTEGER PRIMARY KEY, idseq INTEGER);
        CREATE TABLE SenseGloss (sid INTEGER, lang TEXT, gend TEXT, text TEXT);
        CREATE TABLE NEKanji (ID INTEGER PRIMARY KEY, idseq INTEGER, text TEXT);
        CREATE TABLE NEKana (ID INTEGER PRIMARY KEY, idseq INTEGER, text TEXT);
        CREATE TABLE NETranslation (ID INTEGER PRIMARY KEY, idseq INTEGER);
        CREATE TABLE NETransGloss (tid INTEGER, lang TEXT, gend TEXT, text TEXT);
        """
    )
    for idseq, (kanji, kana, glosses) in JMDICT.items():
        con.executemany("INSERT INTO Kanji (idseq, text) VALUES (?, ?)", [(idseq, k) for k in kanji])
        con.executemany("INSERT INTO Kana (idseq, text) VALUES (?, ?)", [(idseq, k) for k in kana])
        sid = con.execute("INSERT INTO Sense (idseq) VALUES (?)", (idseq,)).lastrowid
        con.executemany("INSERT INTO SenseGloss VALUES (?, 'eng', NULL, ?)", [(sid, g) for g in glosses])
        con.execute("INSERT INTO SenseGloss VALUES (?, 'ger', NULL, 'Übernahme')", (sid,))
    for idseq, (kanji, glosses) in JMNEDICT.items():
        con.executemany("INSERT INTO NEKanji (idseq, text) VALUES (?, ?)", [(idseq, k) for k in kanji])
        tid = con.execute("INSERT INTO NETranslation (idseq) VALUES (?)", (idseq,)).lastrowid
        con.executemany("INSERT INTO NETransGloss VALUES (?, NULL, NULL, ?)", [(tid, g) for g in glosses])
    con.commit()
    con.close()
    return path


@pytest.fixture
def dictionary(tmp_path) -> Path:
    return make_dictionary(tmp_path / "jmdict.db")


def test_english_keys_are_lowercased_lemmatised_content_words():
    assert english_keys("Which city hosted the 3rd IGF?") == ["city", "host", "igf"]
    assert english_keys("Finland's broadcasting (in 2013) rules") == ["finland", "broadcast", "rul"]
    # one stem for the forms of a word, in glosses and questions alike
    assert {english_keys(w)[0] for w in ("use", "uses", "used", "using")} == {"us"}
    assert {english_keys(w)[0] for w in ("address", "addresses")} == {"address"}
    # the country, not the pronoun
    assert english_keys("the US and the U.S. and the UK") == ["unit", "stat", "unit", "stat", "unit", "kingdom"]
    assert english_keys("") == []


def test_glossary_holds_each_corpus_word_with_its_english_keys(dictionary):
    glosses = build_glossary(["外資", "採用", "ボツワナ", "フィンランド", "天気", "ISDB"], dictionary)
    assert glosses["外資"] == ["foreign capital", "foreign investment"]  # JMdict wins over the surname
    assert glosses["採用"] == ["adoption", "employment", "us"]  # English only, not the German gloss
    assert glosses["ボツワナ"] == ["botswana"]  # a name: from JMnedict
    assert glosses["フィンランド"] == ["finland"]  # found by its kana
    assert "天気" not in glosses  # not in the dictionary
    assert "ISDB" not in glosses  # not Japanese: never looked up


def test_long_definitions_are_not_keys(dictionary):
    keys = build_glossary(["本部"], dictionary)["本部"]
    assert keys == ["head offic", "headquarter"]  # the 11-word definition is left out


def test_no_dictionary_gives_an_empty_glossary_and_says_so(monkeypatch, caplog):
    monkeypatch.setattr("embeddings.glossary.dictionary_path", lambda: None)
    with caplog.at_level(logging.WARNING):
        assert build_glossary(["外資"]) == {}
    assert "pip install jamdict-data" in caplog.text


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 100])
def test_an_unreadable_dictionary_gives_an_empty_glossary_and_says_so(tmp_path, content, caplog):
    broken = tmp_path / "jamdict.db"
    broken.write_bytes(content)
    with caplog.at_level(logging.WARNING):
        assert build_glossary(["外資"], broken) == {}
    assert "reinstall jamdict-data" in caplog.text


def test_translate_prefers_phrases_and_skips_words_that_gloss_too_much(dictionary):
    words = ["外資", "採用", "使用", "利用", "登用", "放送", "ボツワナ", "加盟"]
    glossary = Glossary(build_glossary(words, dictionary))
    assert glossary.translate("Which limits on foreign capital does Japan want lifted?") == ["外資"]
    assert glossary.translate("When did Botswana adopt the broadcasting standard?") == ["ボツワナ", "放送"]
    # "use" glosses four corpus words: searching all of them would be noise
    assert glossary.translate("What do they use?") == []
    assert glossary.translate("What do they use?", max_fan_out=4) == ["使用", "利用", "採用", "登用"]
    assert glossary.translate("") == []


def test_glossary_round_trips_and_a_damaged_file_is_ignored(tmp_path, dictionary, caplog):
    from embeddings.glossary import save_glossary

    save_glossary(tmp_path, build_glossary(["外資", "ボツワナ"], dictionary))
    loaded = load_glossary(tmp_path)
    assert loaded is not None and loaded.translate("foreign capital in Botswana") == ["外資", "ボツワナ"]

    (tmp_path / GLOSSARY_FILE).write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert load_glossary(tmp_path) is None
    assert "by meaning only" in caplog.text
    (tmp_path / GLOSSARY_FILE).unlink()
    assert load_glossary(tmp_path) is None


def test_the_installed_dictionary_knows_the_demo_corpus_words():
    """jamdict-data is a dependency: the real JMdict database is there and gives real glosses."""
    path = dictionary_path()
    assert path is not None and path.is_file()
    glosses = build_glossary(["外資", "ボツワナ", "フィンランド", "署名", "放送"])
    for word, english in [("外資", "foreign capital"), ("ボツワナ", "Botswana"), ("フィンランド", "Finland"),
                          ("署名", "signature"), ("放送", "broadcasting")]:
        assert " ".join(english_keys(english)) in glosses[word]


def test_an_index_carries_its_glossary_and_searches_japanese_passages_in_english(built, index_dir):
    glossary_file = index_dir / "current" / LEXICAL_DIR / GLOSSARY_FILE
    saved = json.loads(glossary_file.read_text(encoding="utf-8"))["glosses"]
    assert "botswana" in saved["ボツワナ"]  # a word of isdb.txt, glossed at index time
    index = open_index(index_dir)
    assert index.english_words("Is Botswana mentioned?") == ["ボツワナ"]
    [(row, score)] = index.search_english("Is Botswana mentioned?", 3)
    assert "ボツワナ" in index.passages[row].text and score > 0
    assert index.search_lexical("Is Botswana mentioned?", 3) == []  # its own words match nothing
    assert index.search_english("Where are the headquarters?", 3)[0][0] in {
        r for r, p in enumerate(index.passages) if p.doc_path == "itu.txt"
    }


def test_an_index_without_a_glossary_still_answers(built, index_dir):
    (index_dir / "current" / LEXICAL_DIR / GLOSSARY_FILE).unlink()
    index = open_index(index_dir)
    assert index.english_words("Botswana") == []
    assert index.search_english("Botswana", 3) == []
    assert index.search_lexical("ボツワナ", 3)  # the BM25 files themselves are untouched


def test_the_glossary_is_read_on_the_first_english_question_only(built, index_dir, monkeypatch):
    import embeddings.lexical

    real, calls = embeddings.lexical.load_glossary, []
    monkeypatch.setattr(embeddings.lexical, "load_glossary", lambda d: calls.append(d) or real(d))
    index = open_index(index_dir)
    assert index.search_lexical("ボツワナ", 3)  # Japanese questions never read it
    assert calls == []
    assert index.english_words("Botswana") == index.english_words("Botswana") == ["ボツワナ"]
    assert len(calls) == 1
