"""Places a reader can go to: the page of a PDF, the slide of a deck, the cells of a sheet.

A :class:`~knowledge.document.Document` names its places (``places``/``place_names``); a
:class:`~knowledge.passage.Passage` keeps the ones it touches as ``(offset, name)`` pairs, the
first clipped to the passage's start, so that the place of any quote inside a passage is known
from the passage alone (:func:`locate`). What a name means depends on the document's kind:

========  ===========  ===========================================================
kind      place        name
========  ===========  ===========================================================
``pdf``   page         the 1-based page number, ``"3"``
``pptx``  slide        the 1-based slide number, ``"3"``
``xlsx``  cell         ``"Sheet!B4"``; the sheet's own heading line is ``"Sheet!"``
========  ===========  ===========================================================

A place runs from its offset to the next place's offset (so the separator after a page belongs
to that page).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Location", "cell_name", "column_letters", "locate", "passage_places"]

Places = tuple[tuple[int, str], ...]

_CELL = re.compile(r"([A-Z]+)([0-9]+)")


@dataclass(frozen=True)
class Location:
    """Where a span is, in the terms of its format; every field ``None`` when not paginated."""

    page: int | None = None  # PDF: first and last page of the span
    end_page: int | None = None
    slide: int | None = None  # presentation: first and last slide
    end_slide: int | None = None
    sheet: str | None = None  # spreadsheet: the sheet, and the range of cells ("B3:D4")
    cells: str | None = None


def column_letters(column: int) -> str:
    """``1 → "A"``, ``27 → "AA"``."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - ord("A") + 1
    return n


def cell_name(sheet: str, row: int, column: int) -> str:
    """The place name of a cell: ``"Sheet!B4"`` (1-based row and column)."""
    return f"{sheet}!{column_letters(column)}{row}"


def passage_places(offsets: Sequence[int], names: Sequence[str], start: int, end: int) -> Places:
    """The places of a document that ``[start, end)`` touches, the first clipped to ``start``."""
    if not offsets:
        return ()
    i = bisect.bisect_right(offsets, start) - 1
    out = [(start, names[i])] if i >= 0 else []
    j = i + 1
    while j < len(offsets) and offsets[j] < end:
        out.append((offsets[j], names[j]))
        j += 1
    return tuple(out)


def _touched(places: Places, start: int, end: int) -> list[str]:
    names = []
    for k, (offset, name) in enumerate(places):
        stop = places[k + 1][0] if k + 1 < len(places) else None
        if offset < max(end, start + 1) and (stop is None or stop > start):
            names.append(name)
    return names


def locate(kind: str, places: Places, start: int, end: int) -> Location:
    """The :class:`Location` of ``[start, end)`` inside a passage whose places are ``places``."""
    names = _touched(places, start, end)
    if not names:
        return Location()
    if kind in ("pdf", "pptx"):
        first, last = int(names[0]), int(names[-1])
        return Location(page=first, end_page=last) if kind == "pdf" else Location(slide=first, end_slide=last)
    if kind != "xlsx":
        return Location()
    sheet = names[0].rpartition("!")[0]
    cells = [m for name in names if (m := _CELL.fullmatch(name.rpartition("!")[2]))]
    if not cells:
        return Location(sheet=sheet)
    rows = [int(m.group(2)) for m in cells]
    cols = [_column_number(m.group(1)) for m in cells]
    top_left = f"{column_letters(min(cols))}{min(rows)}"
    bottom_right = f"{column_letters(max(cols))}{max(rows)}"
    return Location(sheet=sheet, cells=top_left if top_left == bottom_right else f"{top_left}:{bottom_right}")
