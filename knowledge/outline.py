"""Headings of plain text: the numbered outline of Japanese official documents.

White papers and press releases number their sections ``第8節`` › ``1`` › ``(1)`` › ``ア`` ›
``(ア)``. A line is taken as a heading only when all of these hold:

* it starts with one of the outline markers below (after leading whitespace);
* it is short (at most :data:`MAX_HEADING_CHARS` characters once stripped);
* it does not read like a sentence: no ``。`` anywhere, and it does not end with a terminator,
  a comma or a colon (``ア 地上デジタル…の普及促進`` is a heading,
  ``1 本文が続く場合、`` is not);
* a bare number or katakana marker is followed by whitespace and then text, so body lines
  such as ``アジア太平洋…`` or ``2012年…`` never qualify, and a bare number has at most two
  digits (``2014 CSTD…`` in a table is not a section number).

Unnumbered short lines (slide titles, pamphlet captions) are not headings: guessing there
produces more wrong section paths than right ones.

Levels are relative: the outermost marker kind that occurs in a document is level 1.
"""

from __future__ import annotations

import re

from knowledge.document import Heading
from knowledge.lines import iter_lines

__all__ = ["MAX_HEADING_CHARS", "first_line_title", "is_outline_heading", "outline_headings"]

MAX_HEADING_CHARS = 80

_D = "0-9０-９"
_K = "一二三四五六七八九十百〇"
_KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
_WS = "[ \t\u3000\u00a0]"

# (rank, pattern); a smaller rank is an outer level.
_KINDS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (0, re.compile(rf"第[{_D}{_K}]+[編部](?:{_WS}|$)")),
    (1, re.compile(rf"第[{_D}{_K}]+章(?:{_WS}|$)")),
    (2, re.compile(rf"第[{_D}{_K}]+節(?:{_WS}|$)")),
    (3, re.compile(rf"第[{_D}{_K}]+款(?:{_WS}|$)")),
    (4, re.compile(rf"[{_D}]{{1,2}}{_WS}+(?=[^{_D}\s])")),
    (5, re.compile(rf"[(（][{_D}]{{1,2}}[)）]{_WS}*(?=\S)")),
    (6, re.compile(rf"[{_KANA}]{_WS}+(?=\S)")),
    (7, re.compile(rf"[(（][{_KANA}][)）]{_WS}*(?=\S)")),
)

_NOT_A_HEADING_END = frozenset("。．.!?！？、，,:：;；")


def _kind(stripped: str) -> int | None:
    if not stripped or len(stripped) > MAX_HEADING_CHARS:
        return None
    if "。" in stripped or stripped[-1] in _NOT_A_HEADING_END:
        return None
    for rank, pattern in _KINDS:
        if pattern.match(stripped):
            return rank
    return None


def is_outline_heading(line: str) -> bool:
    """Does this line (without its line break) look like a numbered outline heading?"""
    return _kind(line.strip()) is not None


def outline_headings(text: str) -> tuple[Heading, ...]:
    """Outline headings of ``text``, with offsets of the stripped heading line."""
    found: list[tuple[int, int, int]] = []  # (rank, start, end)
    for line in iter_lines(text):
        content = text[line.start : line.end]
        stripped = content.strip()
        rank = _kind(stripped)
        if rank is None:
            continue
        start = line.start + (len(content) - len(content.lstrip()))
        found.append((rank, start, start + len(stripped)))
    levels = {rank: i + 1 for i, rank in enumerate(sorted({r for r, _, _ in found}))}
    return tuple(Heading(levels[r], text[s:e], s, e) for r, s, e in found)


_PAIRS = {"（": "）", "(": ")", "「": "」", "『": "』", "【": "】", "［": "］", "[": "]"}


def _balanced(s: str) -> bool:
    stack: list[str] = []
    closers = set(_PAIRS.values())
    for ch in s:
        if ch in _PAIRS:
            stack.append(_PAIRS[ch])
        elif ch in closers and (not stack or stack.pop() != ch):
            return False
    return not stack


def first_line_title(text: str, max_chars: int = 60) -> str | None:
    """The first non-blank line of a plain-text file, if it looks like a title.

    It must stand alone (followed by a blank line or the end of the file), be at most
    ``max_chars`` long, not end like a sentence, have balanced brackets (a slide title wrapped
    over lines fails this), contain a letter, and not be a breadcrumb trail (``… > …``) or a
    URL. Otherwise ``None``: the caller falls back to the file name.
    """
    lines = iter(iter_lines(text))
    for line in lines:
        stripped = text[line.start : line.end].strip()
        if not stripped:
            continue
        following = next(lines, None)
        if following is not None and text[following.start : following.end].strip():
            return None
        if len(stripped) > max_chars or stripped[-1] in _NOT_A_HEADING_END:
            return None
        if "。" in stripped or ">" in stripped or "://" in stripped or not _balanced(stripped):
            return None
        if not any(ch.isalpha() for ch in stripped):
            return None
        return stripped
    return None
