"""Two-part questions, split so that each part gets its own search.

"Where was the 2010 Plenipotentiary held, and what are the dates of the 2014 one?" needs two
passages, and a single question vector lands between them: the passage for one part ranks
first, the other's falls to sixth. Searching each part as well, and taking the top five in
turns from the whole question's ranking and each part's, puts both in the top five.

Two shapes are recognised, both cheap to see and rare in one-part questions:

- two clauses that each ask something: 「どこでやって、何を支持した？」, 「いつ作られて、いつ
  発効したの？」, "…held, and what are the dates…", 「…提言した？あと…何を選挙する？」;
- a pair of numbered things of the same shape joined by と / and: 「第4回と第6回の…」,
  「2014年の日米対話と2024年の日米対話、…」, "the 2014 and the 2024 … meetings". Each part is the
  question with one of the pair.
"""

from __future__ import annotations

import re

__all__ = ["question_parts"]

_ASKS_JA = re.compile(r"どこ|どの|どんな|どう|何|なに|なん|いつ|誰|だれ|いくら|いくつ|どれ")
_WH_EN = r"(?:who|whom|whose|what|which|where|when|why|how)\b"
_ASKS_EN = re.compile(r"\b" + _WH_EN, re.IGNORECASE)
# Where a Japanese question may turn to a second question: after 、 or a mid-sentence ？.
_CLAUSE_END_JA = re.compile(r"[、？?]")
# An English second question starts after a comma (", and what…") or a question mark.
_CLAUSE_START_EN = re.compile(
    r",\s*(?:and\s+)?(?=" + _WH_EN + r")|\?\s+(?=\S)", re.IGNORECASE
)
_NUMBERED_JA = re.compile(r"第?\d+")
_PAIR_EN = re.compile(
    r"\b(?P<a>\d+(?:st|nd|rd|th)?)\s+and\s+(?:the\s+)?(?P<b>\d+(?:st|nd|rd|th)?)\b", re.IGNORECASE
)
_MIN_PART = 4  # characters a clause needs, besides punctuation, to be searched on its own
_MAX_PAIR_ITEM = 14  # characters from a number to the と that ends its item (「2014年の日米対話」)
_TRIM = " 、,?？"


def question_parts(question: str, language: str) -> list[str]:
    """The parts of a two-part question (normalised text in, see :func:`bot.query.parse_query`),
    or ``[]`` for a question that asks one thing."""
    return _clauses(question, language) or _pair(question, language)


def _asks(text: str) -> bool:
    return bool(_ASKS_JA.search(text) or _ASKS_EN.search(text))


def _clauses(question: str, language: str) -> list[str]:
    if language == "ja":
        cuts = [(m.end(), m.end()) for m in _CLAUSE_END_JA.finditer(question) if m.end() < len(question) - 1]
    else:
        cuts = [(m.start(), m.end()) for m in _CLAUSE_START_EN.finditer(question)]
    for left_end, right_start in cuts:
        left, right = question[:left_end].strip(_TRIM), question[right_start:].strip(" 、,")
        if len(left) >= _MIN_PART and len(right.strip(_TRIM)) >= _MIN_PART and _asks(left) and _asks(right):
            return [left, right]
    return []


def _pair(question: str, language: str) -> list[str]:
    if language != "ja":
        m = _PAIR_EN.search(question)
        if not m:
            return []
        return [question.replace(m.group(0), m.group(key), 1) for key in ("a", "b")]
    for number in _NUMBERED_JA.finditer(question):
        to = question.find("と", number.end())
        if to < 0 or to - number.start() > _MAX_PAIR_ITEM or "、" in question[number.start() : to]:
            continue
        first = question[number.start() : to]
        # The second item has the first's shape with other digits: 第4回 → 第\d+回.
        shape = re.compile(r"\d+".join(re.escape(piece) for piece in re.split(r"\d+", first)))
        second = shape.match(question, to + 1)
        if second and second.group(0) != first:
            both = question[number.start() : second.end()]
            return [question.replace(both, first, 1), question.replace(both, second.group(0), 1)]
    return []
