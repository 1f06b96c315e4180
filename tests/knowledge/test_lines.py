"""The one line rule: ``count_breaks`` agrees with ``line_starts`` on every slice."""

from __future__ import annotations

import bisect
import random

from knowledge.lines import count_breaks, line_starts


def _line(starts: tuple[int, ...], offset: int) -> int:
    return bisect.bisect_right(starts, offset)


def test_count_breaks_agrees_with_line_starts_on_every_slice():
    rng = random.Random(17)
    for _ in range(100):
        text = "".join(rng.choice("ab\r\n") for _ in range(rng.randint(0, 30)))
        starts = line_starts(text)
        for start in range(len(text) + 1):
            for end in range(start, len(text) + 1):
                assert count_breaks(text, start, end) == _line(starts, end) - _line(starts, start), (text, start, end)


def test_lone_cr_and_crlf_each_end_one_line():
    text = "一\r二\r\n三\n四"
    assert [count_breaks(text, 0, text.index(c)) for c in "一二三四"] == [0, 1, 2, 3]
