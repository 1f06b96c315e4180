"""Japanese-aware sentence spans.

:func:`split_sentences` returns ``(start, end)`` offsets into the text it is given; it never
copies or normalises the text, so every span is a verbatim slice.

How a range is cut:

1. **Blocks.** The range is cut into blocks of lines. A new block starts after a blank line,
   at a line that starts with a list/bullet/heading marker (``◆ ・ ● ■ ○ ※ • - * 1. (1)
   （1） ア ① 【 # |`` …), at a line indented by one or two spaces (a paragraph indent, as in
   the press releases), and after a heading line. Any other single line break is *inside* a
   sentence: slides and pamphlets wrap lines mid-sentence. A single blank line is inside a
   sentence too when the text plainly runs on across it (PDF extraction leaves one where a
   page or column breaks): the line before ends without a terminator and the next one starts
   with a hiragana continuation (``…総務省において、NICT`` / ``に新たに基金を設置し``), or a
   wrapped line of prose ending mid-word is followed by a line that goes on in kanji. See
   :func:`_runs_on`.
2. **Sentences.** Inside a block a sentence ends after ``。 ！ ？`` (always), after ``．``
   (except between digits or after a line-start number such as ``１．``), and after ``. ! ?``
   only when whitespace or the end follows (so ``3.5%``, ``D.C.にて`` and ``Yahoo!ニュース`` are
   not cut), not after an abbreviation such as ``U.S.`` or ``Dr.`` and not when a lowercase
   word follows. Closing brackets and quotes right after the terminator belong to the
   sentence (``。」``).
3. **Brackets.** A terminator between a matching pair of ``「」 『』 （） () 【】 “”`` …
   does not end the sentence, so ``「…。」と述べた。`` stays whole. A pair counts only if it
   closes within :data:`BRACKET_LIMIT` characters; an unclosed bracket protects nothing.
   After the closing bracket the sentence does end if another opening bracket, or whitespace
   and then anything but a lowercase ASCII word, follows.
4. **Hard maximum.** A sentence longer than ``max_len`` is cut into pieces of at most
   ``max_len`` characters, at the last ``、`` / comma / space / bracketed ``。`` in the second
   half of the window if there is one, else at ``max_len``. Cuts never fall before a combining
   mark, variation selector, skin-tone modifier or after a zero-width joiner, nor inside a
   ``\\r\\n`` or a flag — unless one visible character is itself longer than ``max_len``.

Spans are trimmed of whitespace (``str.isspace``), ordered, never overlap, and together
cover every non-whitespace character of the range exactly once.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator

from knowledge.chars import (
    CLOSERS,
    OPENERS,
    STRONG_TERMINATORS,
    WEAK_TERMINATORS,
    extend_over_extenders,
    safe_cut,
    script,
)
from knowledge.lines import iter_lines
from knowledge.outline import is_outline_heading

__all__ = ["BRACKET_LIMIT", "DEFAULT_MAX_LEN", "iter_sentences", "split_sentences"]

DEFAULT_MAX_LEN = 400
BRACKET_LIMIT = 200

_KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
_BULLETS = "◆◇・●○■□▪▫▶►▷▸※•‣◎★☆→⇒➢➤✓✔❖♦◉＊"
_MARKER = re.compile(
    rf"[{_BULLETS}\ue000-\uf8ff]"  # bullets, including private-use glyphs left by slide tools
    r"|[-*+–—](?:\s|$)"  # Markdown / ASCII bullets
    r"|[0-9０-９]{1,3}[.．)）](?![0-9０-９])"  # 1.  １．  3)
    rf"|[(（][0-9０-９a-zA-Z{_KANA}]{{1,2}}[)）]"  # (1) （ア） (a)
    r"|[a-zA-Z][.)]\s"  # a) b.
    r"|[\u2460-\u2473\u3251-\u325f\u32b1-\u32bf]"  # ① … ⑳ ㉑ … ㊿
    rf"|[{_KANA}][ \u3000]"  # ア 見出し
    r"|[【＜\[]"  # 【理由】 ＜前文＞ [注]
    r"|#{1,6}(?:\s|$)|>|\||```|~~~"  # Markdown headings, quotes, tables, fences
    r"|\*[0-9]|\^\{"  # footnotes *1 ^{*8}
    r"|第[0-9０-９一二三四五六七八九十百]+[編部章節款]"
)
_MD_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_INDENT_CHARS = frozenset(" \u3000\u00a0")
_NUMBERING = re.compile(r"[0-9０-９A-Za-z]{1,3}(?:[.．][0-9０-９]{1,3})*")
_ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "prof", "st", "no", "nos", "vs", "e.g", "i.e", "inc"),
        *("ltd", "co", "corp", "jr", "sr", "fig", "figs", "cf", "approx", "vol", "pp", "p"),
        *("ch", "sec", "art", "dept", "ed", "eds", "est", "al"),
    }
)
_ASCII_DIGITS = frozenset("0123456789０１２３４５６７８９")
_SOFT_BREAKS = frozenset("、，,;；:：") | STRONG_TERMINATORS | frozenset("」』）)")
_TRAILERS = STRONG_TERMINATORS | WEAK_TERMINATORS | CLOSERS | frozenset("…‥")


def split_sentences(
    text: str, start: int = 0, end: int | None = None, *, max_len: int = DEFAULT_MAX_LEN
) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` covering ``text[start:end]``; offsets are absolute."""
    return list(iter_sentences(text, start, end, max_len=max_len))


def iter_sentences(
    text: str, start: int = 0, end: int | None = None, *, max_len: int = DEFAULT_MAX_LEN
) -> Iterator[tuple[int, int]]:
    """The spans of :func:`split_sentences`, one at a time: a very long range (a whole large
    document without headings) is never held as a list. The range is checked at once."""
    stop = len(text) if end is None else end
    if not 0 <= start <= stop <= len(text):
        raise ValueError(f"range {start}:{end} is outside the text (length {len(text)})")
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")
    return _spans(text, start, stop, max_len)


def _spans(text: str, start: int, stop: int, max_len: int) -> Iterator[tuple[int, int]]:
    for block_start, block_end in _blocks(text, start, stop):
        for s, e in _sentences(text, block_start, block_end):
            yield from _pieces(text, s, e, max_len)


# -- blocks -------------------------------------------------------------------------------


def _starts_block(line: str) -> bool:
    stripped = line.lstrip()
    indent = len(line) - len(stripped)
    if 1 <= indent <= 2 and all(ch in _INDENT_CHARS for ch in line[:indent]):
        return True
    return bool(_MARKER.match(stripped)) or is_outline_heading(stripped)


def _is_heading_line(line: str) -> bool:
    return is_outline_heading(line) or bool(_MD_HEADING.match(line))


_SENTENCE_OPENERS = re.compile(
    r"(?:また|さらに|なお|しかし|ただし|これ|この|その|それ|こう|そう|あわせて|あの|ここ|そこ|つまり|まず|一方)"
)
_RUN_ON_MIN_NEXT = 16  # a shorter next line is more likely a heading or a caption
_RUN_ON_MIN_WRAPPED = 28  # a prose line this long that stops mid-word was wrapped


def _runs_on(last_line: str, next_line: str) -> bool:
    """Does the sentence of ``last_line`` go on in ``next_line``, across one blank line?"""
    last = last_line.rstrip()
    if not last or _is_heading_line(last) or len(next_line) < _RUN_ON_MIN_NEXT:
        return False
    end = last[-1]
    if end in STRONG_TERMINATORS or end in WEAK_TERMINATORS or end in CLOSERS or end in "：:":
        return False
    if _starts_block(next_line) or _is_heading_line(next_line):
        return False
    first = script(next_line[0])
    if first == "hiragana":
        return not _SENTENCE_OPENERS.match(next_line)
    return (
        first == "kanji"
        and script(end) in ("hiragana", "katakana", "kanji")
        and len(last.strip()) >= _RUN_ON_MIN_WRAPPED
        and "、" in last
    )


def _blocks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    block_start: int | None = None
    block_end = start
    after_heading = False
    last_line = ""
    blank_lines = 0  # blank lines since the open block's last line
    for line in iter_lines(text, start, end):
        content = text[line.start : line.end]
        if not content or content.isspace():
            blank_lines += 1
            after_heading = False
            continue
        if block_start is not None:
            if blank_lines == 1 and _runs_on(last_line, content):
                pass  # one sentence broken by a blank line: the block goes on
            elif blank_lines or after_heading or _starts_block(content):
                yield block_start, block_end
                block_start = None
        if block_start is None:
            block_start = line.start
        block_end = line.end
        blank_lines = 0
        last_line = content
        after_heading = _is_heading_line(content)
    if block_start is not None:
        yield block_start, block_end


# -- sentences inside a block -------------------------------------------------------------


def _bracket_pairs(text: str, start: int, end: int) -> tuple[list[int], list[int]]:
    """Outermost matched bracket pairs as parallel lists of opener and closer offsets."""
    closing = frozenset(OPENERS.values())
    stack: deque[tuple[int, str]] = deque()
    pairs: list[tuple[int, int]] = []
    for k in range(start, end):
        ch = text[k]
        if ch in OPENERS:
            stack.append((k, OPENERS[ch]))
        elif ch in closing:
            while stack and stack[0][0] < k - BRACKET_LIMIT:
                stack.popleft()  # too old to protect anything
            for idx in range(len(stack) - 1, -1, -1):
                if stack[idx][1] == ch:
                    pairs.append((stack[idx][0], k))
                    while len(stack) > idx:
                        stack.pop()
                    break
    pairs.sort()
    opens: list[int] = []
    closes: list[int] = []
    for o, c in pairs:
        if closes and c <= closes[-1]:
            continue  # nested inside the previous pair
        opens.append(o)
        closes.append(c)
    return opens, closes


def _inside(opens: list[int], closes: list[int], pos: int) -> bool:
    """Is ``pos`` after an opener and not past its closer (``o < pos <= c``)?"""
    i = bisect_right(opens, pos - 1) - 1
    return i >= 0 and pos <= closes[i]


_LOOK_BACK = 16  # characters examined before a terminator; keeps long lines linear


def _is_numbering(text: str, lo: int, i: int) -> bool:
    """Is the terminator at ``i`` part of a line-start number such as ``1.`` or ``2.1.``?"""
    window = max(lo, i - _LOOK_BACK)
    line_start = max(text.rfind("\n", window, i), text.rfind("\r", window, i)) + 1
    if line_start == 0 and window > lo:
        return False  # the line started further back: too long to be a number
    prefix = text[max(line_start, window) : i].strip()
    return bool(_NUMBERING.fullmatch(prefix))


def _is_abbreviation(text: str, lo: int, i: int) -> bool:
    k = i
    floor = max(lo, i - _LOOK_BACK)
    while k > floor and text[k - 1].isascii() and (text[k - 1].isalpha() or text[k - 1] == "."):
        k -= 1
    token = text[k:i]
    if not token:
        return False
    if re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", token):
        return True  # U.S.  e.g.  J.
    return token.lower() in _ABBREVIATIONS


def _ends_sentence(
    text: str, i: int, j: int, lo: int, hi: int, opens: list[int], closes: list[int]
) -> bool:
    """Does the terminator at ``i`` (with trailers up to ``j``) end a sentence?"""
    after = text[j] if j < hi else ""
    if _inside(opens, closes, i):
        if _inside(opens, closes, j):
            return False
        if after in OPENERS:
            return True
        return not after or (after.isspace() and not _lowercase_follows(text, j, hi))
    ch = text[i]
    if ch in STRONG_TERMINATORS:
        return True
    if ch == "．":
        nxt = text[i + 1] if i + 1 < hi else ""
        if i > lo and text[i - 1] in _ASCII_DIGITS and nxt in _ASCII_DIGITS:
            return False
        return not _is_numbering(text, lo, i)
    if after and not after.isspace():
        return False
    if ch == ".":
        if _is_numbering(text, lo, i) or _is_abbreviation(text, lo, i):
            return False
        if _lowercase_follows(text, j, hi):
            return False
    return True


def _lowercase_follows(text: str, j: int, hi: int) -> bool:
    """Is the next non-space character a lowercase ASCII letter (``approx. five``)?"""
    while j < hi and text[j].isspace():
        j += 1
    return j < hi and "a" <= text[j] <= "z"


def _trim(text: str, s: int, e: int) -> tuple[int, int] | None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return (s, e) if s < e else None


def _sentences(text: str, lo: int, hi: int) -> Iterator[tuple[int, int]]:
    opens, closes = _bracket_pairs(text, lo, hi)
    sentence_start = lo
    i = lo
    while i < hi:
        ch = text[i]
        if ch not in STRONG_TERMINATORS and ch not in WEAK_TERMINATORS:
            i += 1
            continue
        j = i + 1
        while j < hi and text[j] in _TRAILERS:
            j += 1
        if _ends_sentence(text, i, j, lo, hi, opens, closes):
            j = extend_over_extenders(text, j, hi)
            span = _trim(text, sentence_start, j)
            if span:
                yield span
            sentence_start = j
        i = j
    span = _trim(text, sentence_start, hi)
    if span:
        yield span


# -- the hard maximum ---------------------------------------------------------------------


def _break_point(text: str, s: int, limit: int, max_len: int) -> int:
    """Where to cut a too-long span starting at ``s``: a position in ``(s, limit]``."""
    floor = max(s + 1, s + max_len // 2)
    for p in range(limit, floor - 1, -1):
        if text[p - 1] in _SOFT_BREAKS or text[p].isspace() or text[p - 1].isspace():
            q = safe_cut(text, s, p)
            if q == p:
                return p
    return safe_cut(text, s, limit)


def _pieces(text: str, s: int, e: int, max_len: int) -> Iterator[tuple[int, int]]:
    while e - s > max_len:
        cut = _break_point(text, s, s + max_len, max_len)
        piece = _trim(text, s, cut)
        if piece:
            yield piece
        s = cut
        while s < e and text[s].isspace():
            s += 1
    if s < e:
        yield s, e
