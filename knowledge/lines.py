"""Lines of decoded text.

A line ends at ``\\n``, ``\\r\\n`` or a lone ``\\r`` — what editors show as line numbers.
The text itself is never changed; these helpers only compute offsets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Line", "count_breaks", "iter_lines", "line_starts"]

_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Line:
    """One line: ``text[start:end]`` is its content, ``next`` where the following line starts."""

    start: int
    end: int
    next: int


def line_starts(text: str) -> tuple[int, ...]:
    """Offset of the first character of every line (the first is always 0)."""
    return (0, *(m.end() for m in _BREAK.finditer(text)))


def count_breaks(text: str, start: int, end: int) -> int:
    """How many lines begin in ``text`` after offset ``start``, up to and including ``end``.

    The line of the character at ``end`` is the line of the character at ``start`` plus this
    number — the one line rule of :func:`line_starts`, for any slice (a ``\\r\\n`` cut in two
    by ``end`` is still one break, counted once both its characters are passed).
    """
    if end <= start:
        return 0
    return sum(1 for m in _BREAK.finditer(text, max(start - 1, 0), end + 1) if start < m.end() <= end)


def iter_lines(text: str, start: int = 0, end: int | None = None) -> Iterator[Line]:
    """Lines of ``text[start:end]``; the first and last may be partial lines."""
    stop = len(text) if end is None else end
    pos = start
    while pos < stop:
        m = _BREAK.search(text, pos, stop)
        if m is None:
            yield Line(pos, stop, stop)
            return
        yield Line(pos, m.start(), m.end())
        pos = m.end()
