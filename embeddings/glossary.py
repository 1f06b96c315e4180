"""English glosses of the corpus's Japanese words, so that English questions can use BM25 too.

BM25 over Japanese words cannot match an English question: its words never occur in the text.
At index time every Japanese word of the BM25 vocabulary is looked up in JMdict (and, when
JMdict has nothing, in JMnedict, the dictionary of names: ボツワナ → Botswana), and its English
glosses are written beside the BM25 files (``english.json``: word → English keys). At query
time an English question's words and phrases (``foreign capital``, ``Finland``) are mapped back
to the corpus words whose glosses they are, and those words are searched.

Only words of the corpus are ever looked up, so a translation can only name a word the
documents use; an English word that glosses many corpus words (``do``, ``make``) is dropped
rather than searched for all of them (:data:`MAX_FAN_OUT`). The dictionary comes from the
``jamdict-data`` package (JMdict/JMnedict by the Electronic Dictionary Research and Development
Group, CC BY-SA 4.0), read with :mod:`sqlite3`; without it the index is built without the file
and English questions are searched by meaning alone, as before.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from embeddings.stored import read_json
from knowledge.chars import JAPANESE

__all__ = [
    "GLOSSARY_FILE",
    "MAX_FAN_OUT",
    "Glossary",
    "build_glossary",
    "dictionary_path",
    "english_keys",
    "load_glossary",
    "save_glossary",
]

log = logging.getLogger(__name__)

GLOSSARY_FILE = "english.json"
MAX_FAN_OUT = 2  # an English word or phrase that glosses more corpus words than this is noise
MAX_PHRASE_WORDS = 4  # longer glosses are definitions, not translations

_STOP = frozenset(
    [
        "a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "by", "with", "as", "at", "from",
        "be", "is", "are", "was", "were", "been", "being", "it", "its", "that", "this", "these",
        "those", "which", "who", "whom", "whose", "what", "when", "where", "how", "why", "do", "does",
        "did", "done", "any", "etc", "one", "one's", "someone", "something", "sth", "they", "their",
        "them", "he", "she", "his", "her", "we", "our", "you", "your", "i", "me", "my", "not", "no",
        "there", "have", "has", "had", "will", "would", "can", "could", "should", "may", "might",
        "about", "into", "over", "than", "then", "so", "such", "also", "very", "just", "back", "out",
        "up", "down",
    ]
)
_WORD = re.compile(r"\b[a-z][a-z'\-]*[a-z]\b|\b[a-z]\b")  # "3rd" and "g7" are not words
_PARENTHESES = re.compile(r"\([^)]*\)")
# Written out as dictionaries gloss them (米国 "United States"); "US" would otherwise be "us".
_COUNTRIES = {"US": "United States", "USA": "United States", "UK": "United Kingdom"}
_COUNTRY_ABBREVIATIONS = re.compile(r"\b(?:U\.S\.A\.|U\.S\.|USA|US|U\.K\.|UK)(?![\w.])")
_SUFFIXES = (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("s", ""))

# JMdict first; JMnedict (names) only for words JMdict does not know. CROSS JOIN keeps SQLite
# to this order (from the words, through the indexes on text and ids); left to itself it scans
# every English gloss (1.7 s → 0.1 s for the demo corpus), and ``+g.lang`` is not an index key.
_JMDICT = """
SELECT w.word, g.text FROM words w
  CROSS JOIN {table} k ON k.text = w.word
  CROSS JOIN Sense s ON s.idseq = k.idseq
  CROSS JOIN SenseGloss g ON g.sid = s.id
 WHERE coalesce(+g.lang, '') IN ('', 'eng')
"""
_JMNEDICT = """
SELECT w.word, g.text FROM words w
  CROSS JOIN {table} k ON k.text = w.word
  CROSS JOIN NETranslation t ON t.idseq = k.idseq
  CROSS JOIN NETransGloss g ON g.tid = t.id
 WHERE w.word NOT IN (SELECT word FROM found)
"""


def _lemma(word: str) -> str:
    """A crude stem, the same for a gloss and a question: what matters is that ``use``,
    ``uses``, ``used`` and ``using`` all become ``us``, not that the stem is a word."""
    word = word.removesuffix("'s")
    if not word.endswith("ss"):
        for suffix, replacement in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 2:
                word = word[: -len(suffix)] + replacement
                break
    return word[:-1] if word.endswith("e") and len(word) >= 3 else word


def english_keys(text: str) -> list[str]:
    """The content words of English ``text``, lower-cased and crudely lemmatised, in order
    (``"Which city hosted..."`` → ``["city", "host", ...]``); parenthesised asides dropped."""
    text = _COUNTRY_ABBREVIATIONS.sub(lambda m: _COUNTRIES[m.group().replace(".", "")], text)
    words = _WORD.findall(_PARENTHESES.sub(" ", text.lower()))
    return [_lemma(w) for w in words if w not in _STOP]


def dictionary_path() -> Path | None:
    """The JMdict database of the installed ``jamdict-data`` package, or None without it."""
    spec = importlib.util.find_spec("jamdict_data")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "jamdict.db"
        if path.is_file():
            return path
    return None


def build_glossary(words: Iterable[str], dictionary: Path | None = None) -> dict[str, list[str]]:
    """English keys (one per gloss, words joined by spaces) of each Japanese word in ``words``.

    Words without a gloss are left out. ``dictionary`` defaults to :func:`dictionary_path`; with
    no dictionary, or one that cannot be read, the result is empty and a warning says so: the
    index is still built, and English questions are searched by meaning only.
    """
    path = dictionary or dictionary_path()
    japanese = sorted({w for w in words if JAPANESE.search(w)})
    if not japanese:
        return {}
    if path is None:
        log.warning("No English glosses: the jamdict-data package is not installed (pip install "
                    "jamdict-data), so English questions are searched by meaning only.")
        return {}
    try:
        return _look_up(path, japanese)
    except sqlite3.Error as exc:
        log.warning("No English glosses: the dictionary %s cannot be read (%s); reinstall jamdict-data. "
                    "English questions are searched by meaning only.", path, exc)
        return {}


def _look_up(path: Path, japanese: list[str]) -> dict[str, list[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        con.execute("CREATE TEMP TABLE words (word TEXT PRIMARY KEY)")
        con.executemany("INSERT INTO words VALUES (?)", ((w,) for w in japanese))
        for table in ("Kanji", "Kana"):
            for word, gloss in con.execute(_JMDICT.format(table=table)):
                _add(found, word, gloss)
        con.execute("CREATE TEMP TABLE found (word TEXT PRIMARY KEY)")
        con.executemany("INSERT INTO found VALUES (?)", ((w,) for w in found))
        for table in ("NEKanji", "NEKana"):
            for word, gloss in con.execute(_JMNEDICT.format(table=table)):
                _add(found, word, gloss)
    finally:
        con.close()
    return {word: sorted(keys) for word, keys in sorted(found.items())}


def _add(found: dict[str, set[str]], word: str, gloss: str) -> None:
    keys = english_keys(gloss)
    if 1 <= len(keys) <= MAX_PHRASE_WORDS:
        found[word].add(" ".join(keys))


class Glossary:
    """English words and phrases → the corpus words they gloss."""

    def __init__(self, glosses: Mapping[str, Iterable[str]]) -> None:
        self._phrases: dict[str, set[str]] = defaultdict(set)
        for word, keys in glosses.items():
            for key in keys:
                self._phrases[key].add(word)
        self._longest = max((key.count(" ") + 1 for key in self._phrases), default=0)

    def __len__(self) -> int:
        return len(self._phrases)

    def translate(self, question: str, max_fan_out: int = MAX_FAN_OUT) -> list[str]:
        """Corpus words for the English words of ``question``, longest phrase first.

        A phrase that glosses a corpus word (``foreign capital`` → 外資) takes its words; a
        single word is used alone otherwise; a word or phrase that glosses more than
        ``max_fan_out`` corpus words is skipped.
        """
        keys = english_keys(question)
        out: list[str] = []
        i = 0
        while i < len(keys):
            for n in range(min(self._longest, len(keys) - i), 0, -1):
                words = self._phrases.get(" ".join(keys[i : i + n]))
                if words and (n == 1 or len(words) <= max_fan_out):
                    if len(words) <= max_fan_out:
                        out.extend(sorted(words))
                    i += n
                    break
            else:
                i += 1
        return out


def save_glossary(directory: Path, glosses: Mapping[str, list[str]]) -> None:
    """Write ``glosses`` (from :func:`build_glossary`) as ``english.json`` in ``directory``."""
    payload = {"source": "JMdict/JMnedict (EDRDG, CC BY-SA 4.0)", "glosses": glosses}
    (directory / GLOSSARY_FILE).write_text(json.dumps(payload, ensure_ascii=False, sort_keys=True), encoding="utf-8")


def load_glossary(directory: Path) -> Glossary | None:
    """The glossary saved in ``directory``, or None when there is none (an index built without
    the dictionary) or it cannot be read (logged: English questions then use meaning alone)."""
    path = directory / GLOSSARY_FILE
    if not path.exists():
        return None
    try:
        payload = read_json(path)
        glosses = payload["glosses"]
        if not isinstance(glosses, dict):
            raise TypeError("'glosses' is not an object")
        return Glossary({str(w): [str(k) for k in keys] for w, keys in glosses.items()})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning(
            "Ignoring %s (%s); English questions are searched by meaning only until "
            "`kotae index --full` rebuilds it.",
            path,
            exc,
        )
        return None
