"""What a question is before retrieval: cleaned for matching, with its language.

The question as typed is kept for display; the normalised form is used only to search.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from knowledge.chars import JAPANESE

__all__ = ["Query", "detect_language", "parse_query"]

_SLACK_TOKEN = re.compile(r"<[@#!][^>]*>")  # <@U123>, <#C123|name>, <!channel>
# Control and format characters (bidi overrides, zero-width) and lone surrogates, which a
# terminal in another encoding produces and which cannot be encoded for the model.
_CONTROL = re.compile(
    r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffd\ud800-\udfff]"
)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")

# Japanese era names → first year minus one, so that 平成25年 becomes 2013年.
_ERAS = {"明治": 1867, "大正": 1911, "昭和": 1925, "平成": 1988, "令和": 2018}
_ERA_YEAR = re.compile(r"(明治|大正|昭和|平成|令和)(元|\d{1,2})年")


@dataclass(frozen=True)
class Query:
    text: str  # as asked, trimmed
    normalized: str  # NFKC, control characters and Slack mentions removed, spaces folded
    language: str  # "ja" or "en"

    @property
    def is_empty(self) -> bool:
        return not any(ch.isalnum() for ch in self.normalized)


def detect_language(text: str) -> str:
    """'ja' when the text holds any kana or kanji, else 'en'."""
    return "ja" if JAPANESE.search(text) else "en"


def _era_to_western(match: re.Match[str]) -> str:
    era, year = match.group(1), match.group(2)
    number = 1 if year == "元" else int(year)
    return f"{_ERAS[era] + number}年 {match.group(0)}"


def parse_query(question: str) -> Query:
    text = _SURROGATE.sub("\ufffd", question).strip()  # printable and encodable everywhere
    normalized = unicodedata.normalize("NFKC", text)
    normalized = _SLACK_TOKEN.sub(" ", normalized)
    normalized = _CONTROL.sub("", normalized)
    normalized = _ERA_YEAR.sub(_era_to_western, normalized)
    normalized = _SPACES.sub(" ", normalized).strip()
    return Query(text=text, normalized=normalized, language=detect_language(normalized))
