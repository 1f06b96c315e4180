"""Words for lexical matching: Japanese morphemes (MeCab via fugashi + UniDic lite) and ASCII terms.

Matching only: tokens are NFKC-normalised and lowercased, so ``ＩＴＵ``, ``ITU`` and ``itu``
meet; quotes are always taken from the original text, never from tokens.

What is kept: content words — nouns, verbs, adjectives, adjectival nouns, adverbs and suffixes —
with verbs and adjectives in their dictionary form (行っ → 行う). Particles, auxiliaries,
prefixes, pronouns, conjunctions, punctuation and whitespace are dropped, and so are a few light
words written in kana (する, いる, ある, なる, ない, and the verbs inside について/において/
によって): they occur everywhere and only add noise to BM25. Every token carrying an ASCII letter or digit is kept
(ISDB, ITU, 2013), minus a short list of English function words so that English questions match
Japanese documents on their acronyms and numbers. Hyphenated or dotted ASCII terms are also kept
whole (``isdb-t`` besides ``isdb`` and ``t``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any

from knowledge.errors import EmbedderError

__all__ = ["TOKENIZER_VERSION", "tokenize"]

# Recorded in the manifest: changing what tokenize() returns must change this string, so that
# the next refresh rebuilds the lexical index.
TOKENIZER_VERSION = "fugashi-unidic-lite/content-words/v2"

_KEEP_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞", "副詞", "接尾辞"})
_BASE_FORM_POS = frozenset({"動詞", "形容詞"})
_LIGHT = frozenset({"する", "いる", "ある", "なる", "おる", "できる", "ない", "つく", "おく", "よる"})
# English function words. Left out on purpose: "it" (IT), "us" (US), "who" (WHO), "un" (UN).
_EN_STOP_WORDS = """a an the is are was were be been being am of to in on for and or but nor what which whom
    whose when where why how does do did done that this these those its with by as at from s
    about there here has have had can could would should will shall may might must not no than
    then so if into any all i we you they he she our your their me my his her them do tell
    please"""
_EN_STOP = frozenset(_EN_STOP_WORDS.split())
_ASCII_COMPOUND = re.compile(r"[a-z0-9]+(?:[-._/][a-z0-9]+)+")
_HAS_ASCII_ALNUM = re.compile(r"[a-z0-9]")

_lock = threading.Lock()
_tagger: Any = None


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _morphemes(text: str) -> list[tuple[str, str, str | None]]:
    """(surface, part of speech, orthBase) for each morpheme; one tagger per process, used under a lock."""
    global _tagger
    with _lock:
        if _tagger is None:
            try:
                import fugashi

                _tagger = fugashi.Tagger()
            except Exception as exc:  # ImportError, or RuntimeError when no dictionary is found
                raise EmbedderError(
                    f"The Japanese tokenizer could not be started ({exc}). "
                    "Run `pip install fugashi unidic-lite` and try again."
                ) from exc
        return [(w.surface, w.feature.pos1, w.feature.orthBase) for w in _tagger(text)]


def tokenize(text: str) -> list[str]:
    """Content-word tokens of ``text`` for BM25, in order, repeats kept."""
    norm = unicodedata.normalize("NFKC", text)
    tokens: list[str] = []
    for surface, pos1, base in _morphemes(norm):
        form = _normalise(base if base and pos1 in _BASE_FORM_POS else surface).strip()
        if not form or not any(ch.isalnum() for ch in form):
            continue
        if _HAS_ASCII_ALNUM.search(form):
            if form not in _EN_STOP:
                tokens.append(form)
            continue
        if pos1 not in _KEEP_POS or (pos1 in _BASE_FORM_POS and form in _LIGHT):
            continue
        tokens.append(form)
    tokens.extend(_ASCII_COMPOUND.findall(norm.lower()))
    return tokens
