"""Rendering a :class:`Reply` for a terminal, and as the documented ``--json`` object."""

from __future__ import annotations

import unicodedata
from typing import Any

from bot.reply import Citation, Reply, RetrievedPassage
from knowledge.terminal import printable

__all__ = ["describe_citation", "describe_place", "render_text", "reply_to_json"]

_SOURCES = {"ja": "出典", "en": "Sources"}
_CLOSEST = {"ja": "近い箇所", "en": "Closest passages"}


_PLACES = {
    "en": {"page": "p. {a}", "pages": "pp. {a}–{b}", "slide": "slide {a}", "slides": "slides {a}–{b}",
           "sheet": "sheet {sheet}", "cells": "sheet {sheet}, {cells}"},
    "ja": {"page": "{a}ページ", "pages": "{a}–{b}ページ", "slide": "スライド{a}", "slides": "スライド{a}–{b}",
           "sheet": "シート「{sheet}」", "cells": "シート「{sheet}」{cells}"},
}


def describe_place(c: Citation, language: str) -> str | None:
    """The page, slide or cells of a citation (``"pp. 3–4"``, ``"スライド5"``), or None."""
    words = _PLACES["en" if language == "en" else "ja"]
    for first, last, one, many in ((c.page, c.end_page, "page", "pages"), (c.slide, c.end_slide, "slide", "slides")):
        if first is not None:
            return words[many if last not in (None, first) else one].format(a=first, b=last)
    if c.sheet is not None:
        return words["cells" if c.cells else "sheet"].format(sheet=c.sheet, cells=c.cells)
    return None


def describe_citation(c: Citation, language: str) -> str:
    """``title › section — file:a-b (p. n)`` (or the slide, or the sheet and cells)."""
    where = f"{c.source}:{c.start_line}" + (f"-{c.end_line}" if c.end_line != c.start_line else "")
    place = describe_place(c, language)
    if place is not None:
        where += f" ({place})" if language == "en" else f"（{place}）"
    head = " › ".join((c.title, *c.section[-2:])) if c.section else c.title
    line = f"{head} — {where}"
    if c.url:
        line += f" <{c.url}>"
    return line


def _cells(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def wrap_cells(text: str, width: int) -> list[str]:
    """Wrap by terminal cells: Japanese wraps between any two characters, English at spaces."""
    lines: list[str] = []
    line, used, last_space = "", 0, -1
    for ch in text:
        line += ch
        used += _cells(ch)
        if ch == " ":
            last_space = len(line)
        if used > width:
            cut = last_space if last_space > len(line) // 2 else len(line) - 1
            lines.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
            used, last_space = sum(_cells(c) for c in line), -1
    if line.strip():
        lines.append(line.rstrip())
    return lines


def render_text(reply: Reply, width: int = 88) -> str:
    """Readable terminal text. Quotes are shown with whitespace folded; the JSON keeps them verbatim.

    Every line passes through :func:`~knowledge.terminal.printable`: an escape sequence or a
    newline in a document, title or file name is shown, not obeyed."""
    lines = [reply.lead, ""]
    for q in reply.quotes:
        body = wrap_cells(" ".join(printable(q.text).split()), width - 6) or [""]
        lines.append(f"  [{q.citation}] " + body[0])
        lines.extend("      " + more for more in body[1:])
        lines.append("")
    if reply.citations:
        lines.append((_SOURCES if reply.answered else _CLOSEST)[reply.language] + ":")
        lines.extend(f"  [{c.n}] {describe_citation(c, reply.language)}" for c in reply.citations)
    return "\n".join(printable(line) for line in lines).rstrip() + "\n"


def _place_json(c: Citation | RetrievedPassage) -> dict[str, Any]:
    return {
        "page": c.page,
        "end_page": c.end_page,
        "slide": c.slide,
        "end_slide": c.end_slide,
        "sheet": c.sheet,
        "cells": c.cells,
    }


def _citation_json(c: Citation) -> dict[str, Any]:
    return {
        "n": c.n,
        "title": c.title,
        "source": c.source,
        "section": " › ".join(c.section),
        "start_line": c.start_line,
        "end_line": c.end_line,
        **_place_json(c),
        "url": c.url,
    }


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """The ``kotae ask --json`` object (documented in the README)."""
    return {
        "question": reply.question,
        "language": reply.language,
        "answered": reply.answered,
        "lead": reply.lead,
        "quotes": [{"text": q.text, "citation": q.citation} for q in reply.quotes],
        "citations": [_citation_json(c) for c in reply.citations],
        "passages": [
            {
                "source": p.source,
                "title": p.title,
                "section": " › ".join(p.section),
                "start_line": p.start_line,
                "end_line": p.end_line,
                **_place_json(p),
                "text": p.text,
                "score": p.score,
            }
            for p in reply.passages
        ],
        "index_version": reply.index_version,
    }
