"""Text of a Word ``.docx`` file with ``python-docx``: paragraphs and tables in body order,
headings from Word's styles, and the numbers Word shows in front of numbered paragraphs.

Heading level, first found wins: the paragraph's own outline level (``w:outlineLvl``), then its
style's and the styles it is based on: an outline level, or a built-in name (``Title`` is level
0, ``Heading N`` level N — Word stores these names in English whatever the interface language).

Numbering: a paragraph with a list number (``w:numPr`` on it or on its style) gets the label
Word would show — the level's ``lvlText`` with each ``%k`` replaced by the counter of level
``k`` — as part of its extracted text, so ``1.2 Scope`` is quoted and cited as a reader sees it.
Counters are kept per list definition and restart below a level that advances; formats other
than decimal are written as decimal, bullets are left out.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

from knowledge.office import OfficeText, TextBuilder

__all__ = ["extract_docx"]

_HEADING_NAME = re.compile(r"heading\s*(\d)", re.IGNORECASE)
_LEVEL_TEXT = re.compile(r"%([1-9])")


def _w(tag: str) -> str:
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + tag


def _val(element: Any, *path: str) -> str | None:
    """``w:val`` of the element reached by ``path`` under ``element``, or None."""
    for tag in path:
        if element is None:
            return None
        element = element.find(_w(tag))
    return None if element is None else element.get(_w("val"))


def _style_chain(style: Any) -> Iterator[Any]:
    seen = 0
    while style is not None and seen < 20:
        yield style
        style = style.base_style
        seen += 1


def _heading_level(paragraph: Any) -> int | None:
    own = _val(paragraph._p.pPr, "outlineLvl")
    if own is not None and own.isdigit() and int(own) < 9:
        return int(own) + 1
    for style in _style_chain(paragraph.style):
        level = _val(style.element.pPr, "outlineLvl")
        if level is not None and level.isdigit():
            return int(level) + 1 if int(level) < 9 else None
        name = style.name or ""
        if name.lower() == "title":
            return 0
        m = _HEADING_NAME.fullmatch(name.strip())
        if m:
            return int(m.group(1))
    return None


class _Numbering:
    """The labels of numbered paragraphs, counted as Word counts them."""

    def __init__(self, document: Any) -> None:
        self._levels: dict[str, dict[int, tuple[str, str, int]]] = {}  # numId -> ilvl -> (fmt, text, start)
        self._abstract_of: dict[str, str] = {}
        self._counters: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for node in root.findall(_w("abstractNum")):
            levels = {}
            for lvl in node.findall(_w("lvl")):
                start = _val(lvl, "start") or "1"
                levels[int(lvl.get(_w("ilvl")) or 0)] = (
                    _val(lvl, "numFmt") or "decimal",
                    _val(lvl, "lvlText") or "",
                    int(start) if start.isdigit() else 1,
                )
            abstract[node.get(_w("abstractNumId")) or ""] = levels
        for num in root.findall(_w("num")):
            ident, ref = num.get(_w("numId")) or "", _val(num, "abstractNumId") or ""
            self._levels[ident] = abstract.get(ref, {})
            self._abstract_of[ident] = ref

    def label(self, paragraph: Any) -> str:
        num_id, ilvl = self._num_pr(paragraph)
        if num_id is None or num_id == "0" or num_id not in self._levels:
            return ""
        levels = self._levels[num_id]
        if ilvl not in levels:
            return ""
        counters = self._counters.setdefault(self._abstract_of[num_id], [0] * 9)
        for k in range(9):
            if counters[k] == 0 and k < ilvl:
                counters[k] = levels.get(k, ("", "", 1))[2]
        counters[ilvl] = counters[ilvl] + 1 if counters[ilvl] else levels[ilvl][2]
        for k in range(ilvl + 1, 9):
            counters[k] = 0
        fmt, text, _ = levels[ilvl]
        if fmt in ("bullet", "none") or not text:
            return ""
        return _LEVEL_TEXT.sub(lambda m: str(counters[int(m.group(1)) - 1]), text)

    @staticmethod
    def _num_pr(paragraph: Any) -> tuple[str | None, int]:
        candidates = [paragraph._p.pPr, *(s.element.pPr for s in _style_chain(paragraph.style))]
        for ppr in candidates:
            num_id = _val(ppr, "numPr", "numId")
            if num_id is not None:
                ilvl = _val(ppr, "numPr", "ilvl")
                return num_id, int(ilvl) if ilvl and ilvl.isdigit() else 0
        return None, 0


def extract_docx(raw: bytes, path: str) -> OfficeText:
    """The text of a ``.docx`` file (errors are turned into DocumentErrors by the caller)."""
    from docx import Document as open_docx  # imported lazily: only folders with .docx pay for it
    from docx.table import Table

    document = open_docx(io.BytesIO(raw))
    numbering = _Numbering(document)
    out = TextBuilder()
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            _table(out, item)
            continue
        label = numbering.label(item)
        text = item.text
        if label and text.strip():
            text = f"{label} {text.strip()}"
        out.block(text, heading_level=_heading_level(item))
    return out.finish(path, "docx", document.core_properties.title)


def _table(out: TextBuilder, table: Any) -> None:
    """One block per row, each cell once (a merged cell is listed once per row)."""
    for row in table.rows:
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            out.piece(cell.text)
        out.end_block()
