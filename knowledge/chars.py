"""Character classes shared by the sentence splitter, the heading detectors and whatever needs
to tell Japanese text from other text (query language, glossary words)."""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "CLOSERS",
    "JAPANESE",
    "OPENERS",
    "STRONG_TERMINATORS",
    "WEAK_TERMINATORS",
    "extend_over_extenders",
    "is_extender",
    "is_regional_indicator",
    "safe_cut",
    "script",
]

# Always end a sentence (unless inside brackets).
STRONG_TERMINATORS = frozenset("。｡！？‼⁇⁈⁉")
# End a sentence only in the right context (see ``sentences``).
WEAK_TERMINATORS = frozenset(".!?．")

# Opening bracket -> its closing bracket. ASCII quotes are left out: they are symmetric and
# apostrophes would unbalance them.
OPENERS: dict[str, str] = {
    "「": "」",
    "『": "』",
    "（": "）",
    "(": ")",
    "［": "］",
    "[": "]",
    "【": "】",
    "〔": "〕",
    "〈": "〉",
    "《": "》",
    "｛": "｝",
    "{": "}",
    "“": "”",
    "〘": "〙",
    "〚": "〛",
}

# Characters that stay with a terminator they follow: ``。」`` and ``.)"`` end together.
CLOSERS = frozenset("」』）)］]】〕〉》｝}”’\"'〙〛")

# Any kana (full- or half-width) or kanji: text with one of these is Japanese.
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")

_ZWJ = "\u200d"


def script(ch: str) -> str:
    """'hiragana', 'katakana', 'kanji' or 'other' (full-width kana and CJK ideographs only)."""
    if "\u3041" <= ch <= "\u309f":
        return "hiragana"
    if "\u30a0" <= ch <= "\u30ff":
        return "katakana"
    if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
        return "kanji"
    return "other"


def is_regional_indicator(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def is_extender(ch: str) -> bool:
    """True for characters that attach to the character before them.

    Combining marks, variation selectors, the zero-width joiner, emoji skin-tone modifiers
    and tag characters: a cut just before one of these would split what a reader sees as one
    character.
    """
    if ch == _ZWJ:
        return True
    if "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef":
        return True
    if "\U0001f3fb" <= ch <= "\U0001f3ff" or "\U000e0020" <= ch <= "\U000e007f":
        return True
    return unicodedata.category(ch) in ("Mn", "Mc", "Me")


def _bad_cut(text: str, pos: int) -> bool:
    """Would cutting ``text`` between ``pos - 1`` and ``pos`` split a visible character?"""
    if pos <= 0 or pos >= len(text):
        return False
    before, after = text[pos - 1], text[pos]
    if is_extender(after) or before == _ZWJ:
        return True
    if before == "\r" and after == "\n":
        return True
    if is_regional_indicator(before) and is_regional_indicator(after):
        # Flags are pairs of regional indicators: do not cut inside a pair.
        run = 0
        i = pos - 1
        while i >= 0 and is_regional_indicator(text[i]):
            run += 1
            i -= 1
        return run % 2 == 1
    return False


def safe_cut(text: str, lo: int, pos: int) -> int:
    """Move a cut position ``pos`` back (not below ``lo + 1``) until it splits no cluster.

    If no safe position exists in ``(lo, pos]`` (a pathological run of combining marks),
    ``pos`` is returned unchanged: a hard length limit wins over keeping garbage together.
    """
    p = pos
    while p > lo + 1 and _bad_cut(text, p):
        p -= 1
    return pos if _bad_cut(text, p) else p


def extend_over_extenders(text: str, pos: int, limit: int) -> int:
    """Move an end position forward past characters that attach to the one before."""
    while pos < limit and _bad_cut(text, pos):
        pos += 1
    return pos
