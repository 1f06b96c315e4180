"""Cheap question-type → answer-type cues.

"Where" questions are answered by sentences naming a place, "when" questions by dates, "how
many" questions by counted numbers and "who" questions by people or officials. The question
type is read from interrogatives (どこ, いつ, 何か国, 誰, where, when, how many, who); the
answer types a sentence can carry are read from patterns (dates, numbers with counters) and
from the Japanese dictionary's proper-noun tags (地名 place, 人名 person). Questions about a thing
a manual names (どのコマンド, 設定ファイルは？, which package) are answered by sentences holding an
identifier (dpkg-buildpackage, /etc/hostname, $DEBEMAIL, fakeroot). Both are
deliberately coarse: they only break ties between sentences that are otherwise similar.
"""

from __future__ import annotations

import contextlib
import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

__all__ = ["ANSWER_TYPES", "answer_types", "identifiers", "question_type", "type_match"]

ANSWER_TYPES = ("place", "date", "count", "person", "name")

# Things a manual names with an identifier: a command, a package, a file, a key, a setting.
_NAMED = "コマンド|パッケージ|ファイル|ツール|プログラム|キー|オプション|変数|フィールド|ターゲット|ディレクトリ"
_NAMED_EN = "command|package|file|tool|program|key|option|variable|field|target|module|directory|engine|utility"

_QUESTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("count", re.compile(
        r"何(?:か国|カ国|ヶ国|ケ国|箇国|人|名|回|件|個|社|団体|つ|年間|日間|倍|%|パーセント)|いくつ|いくら|"
        r"\bhow (?:many|much|big|large|often)\b|\bnumber of\b", re.IGNORECASE)),
    ("when", re.compile(
        r"いつ|何年|何月|何日|日程|日付|会期|期間|\bwhen\b|\bwhat (?:year|month|date|day)s?\b|"
        r"\bwhich (?:year|month|date|day)s?\b|\bdates?\b", re.IGNORECASE)),
    ("where", re.compile(
        r"どこ|どの(?:都市|国|街|町|場所)|開催地|場所|\bwhere\b|\bwhich (?:city|country|place|town)\b",
        re.IGNORECASE)),
    ("who", re.compile(r"誰|だれ|何者|どなた|\bwho(?:m)?\b|\bwhich person\b", re.IGNORECASE)),
    ("name", re.compile(
        rf"(?:どの|何という|なんという|何て|なんて)[^\s、。？?]{{0,4}}?(?:{_NAMED})|"
        rf"(?:{_NAMED})(?:って|は)(?:何|なに|どれ|[？?])|\b(?:which|what) (?:{_NAMED_EN})s?\b", re.IGNORECASE)),
)

_DATE = re.compile(
    r"\d{4}\s*年|(?:明治|大正|昭和|平成|令和)\s*(?:元|\d{1,2})\s*年|\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}\s*月|"
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december)\b",
    re.IGNORECASE,
)
_COUNT = re.compile(
    r"\d[\d,.]*\s*(?:か国|カ国|ヶ国|ケ国|箇国|人|名|回|件|個|社|団体|億|万|千|円|ドル|%|％|つ|倍|年間|日間|か所|ヶ所|地域)|"
    r"[一二三四五六七八九十百千]+(?:か国|カ国|ヶ国|人|名|回|件|つ|社)|\b\d[\d,]*\b"
)
# An identifier as manuals write them: dpkg-buildpackage, /etc/hostname, $DEBEMAIL, libpam-cracklib,
# Build-Depends, or one lowercase ASCII word inside Japanese text (fakeroot, lintian).
_IDENTIFIER = re.compile(
    r"[A-Za-z][A-Za-z0-9]*(?:[-_.+/:][A-Za-z0-9]+)+|/[A-Za-z0-9_.-]+/\S+|\$[A-Za-z_]+|\b[a-z][a-z0-9]{2,}\b"
)
_PERSON_TITLE = re.compile(r"(?:大臣|長官|局長|次官|調整官|審議官|大使|代表|議長|事務局長|委員長|社長|氏)")

_lock = threading.Lock()
_tagger: Any = None


def question_type(question: str) -> str | None:
    """'where', 'when', 'count', 'who', 'name' or None (the first matching cue wins)."""
    text = unicodedata.normalize("NFKC", question)
    for name, pattern in _QUESTION_PATTERNS:
        if pattern.search(text):
            return name
    return None


def _proper_nouns(text: str) -> set[str]:
    global _tagger
    with _lock:
        if _tagger is None:
            import fugashi

            _tagger = fugashi.Tagger()
        tags: set[str] = set()
        for word in _tagger(text):
            feature = word.feature
            if feature.pos2 == "固有名詞" and feature.pos3 == "地名":
                tags.add("place")
            elif feature.pos2 == "固有名詞" and feature.pos3 == "人名":
                tags.add("person")
        return tags


@lru_cache(maxsize=65536)
def answer_types(sentence: str) -> frozenset[str]:
    """The answer types ``sentence`` can carry (a subset of :data:`ANSWER_TYPES`)."""
    text = unicodedata.normalize("NFKC", sentence)
    found: set[str] = set()
    if _DATE.search(text):
        found.add("date")
    if _COUNT.search(text):
        found.add("count")
    with contextlib.suppress(Exception):  # no tokenizer: patterns only
        found |= _proper_nouns(text)
    if _PERSON_TITLE.search(text):
        found.add("person")
    if _IDENTIFIER.search(text):
        found.add("name")
    return frozenset(found)


_WANTS = {"where": "place", "when": "date", "count": "count", "who": "person", "name": "name"}


@lru_cache(maxsize=65536)
def identifiers(text: str) -> frozenset[str]:
    """The identifiers in ``text`` (lowercased): dpkg-buildpackage, /etc/hostname, fakeroot…"""
    return frozenset(m.lower() for m in _IDENTIFIER.findall(unicodedata.normalize("NFKC", text)))


def type_match(qtype: str | None, sentence: str, asked: frozenset[str] = frozenset()) -> float:
    """1.0 when ``sentence`` carries the answer type ``qtype`` asks for, else 0.0. A name must be
    new: an identifier other than those the question itself uses (``asked``, from
    :func:`identifiers`), so 「FTBFS を避けるのに使うパッケージは？」 prefers the sentence naming
    pbuilder over the one that only repeats chroot."""
    if qtype is None:
        return 0.0
    if qtype == "name" and asked:
        return 1.0 if identifiers(sentence) - asked else 0.0
    return 1.0 if _WANTS[qtype] in answer_types(sentence) else 0.0
