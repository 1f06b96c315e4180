"""Markdown: YAML front matter and ATX headings, found in the raw text.

Front matter is a block at the very top between a ``---`` line and a ``---`` (or ``...``)
line that parses as a YAML mapping; anything else is ordinary content. Headings are ATX
headings (``#`` … ``######``), not those inside fenced code blocks (```` ``` ```` or ``~~~``);
setext underlined headings are not recognised. A heading's title is its text without the
``#`` marks and without an optional closing ``#`` sequence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from knowledge.document import Heading
from knowledge.lines import iter_lines
from knowledge.metadata import DocMeta
from knowledge.yamltext import YamlProblem, load_yaml

__all__ = ["FrontMatter", "first_h1", "front_matter", "markdown_headings"]

_OPEN = re.compile(r"---[ \t]*")
_CLOSE = re.compile(r"(?:---|\.\.\.)[ \t]*")
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+|$)")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class FrontMatter:
    """Front matter found at the top of a Markdown text (``end == 0`` when there is none)."""

    end: int = 0  # offset just after the closing line and its line break
    meta: DocMeta = field(default_factory=DocMeta)
    extra: dict[str, str] = field(default_factory=dict)


def _text(value: object) -> str | None:
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text.strip() or None


def front_matter(text: str) -> FrontMatter:
    """Parse the front matter block at the top of ``text``, if there is one."""
    lines = iter_lines(text)
    first = next(lines, None)
    if first is None or first.start != 0 or not _OPEN.fullmatch(text[first.start : first.end]):
        return FrontMatter()
    for line in lines:
        if _CLOSE.fullmatch(text[line.start : line.end]):
            block = text[first.next : line.start]
            try:
                data = load_yaml(block)
            except (yaml.YAMLError, YamlProblem):
                return FrontMatter()
            if not isinstance(data, dict):
                return FrontMatter()
            strings = {str(k): t for k, v in data.items() if (t := _text(v)) is not None}
            meta = DocMeta(
                title=strings.get("title"),
                url=strings.get("url"),
                date=strings.get("date"),
                attribution=strings.get("attribution"),
            )
            return FrontMatter(line.next, meta, strings)
    return FrontMatter()


def markdown_headings(text: str, start: int = 0) -> tuple[Heading, ...]:
    """ATX headings of ``text[start:]`` with relative levels (outermost used level is 1)."""
    found: list[tuple[int, int, int]] = []  # (hashes, start, end)
    fence: str | None = None
    for line in iter_lines(text, start):
        content = text[line.start : line.end]
        m = _FENCE.match(content)
        if m:
            marker = m.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
            continue
        if fence is not None:
            continue
        m = _ATX.match(content)
        if not m:
            continue
        body = content[m.end() :]
        closing = _CLOSING_HASHES.search(body)
        if closing:
            body = body[: closing.start()]
        title = body.strip()
        if not title:
            continue
        title_start = line.start + m.end() + (len(body) - len(body.lstrip()))
        found.append((len(m.group(1)), title_start, title_start + len(title)))
    levels = {n: i + 1 for i, n in enumerate(sorted({n for n, _, _ in found}))}
    return tuple(Heading(levels[n], text[s:e], s, e) for n, s, e in found)


def first_h1(headings: tuple[Heading, ...], text: str) -> str | None:
    """Title of the first ``#`` heading (exactly one ``#``), if any."""
    for h in headings:
        line_start = max(text.rfind("\n", 0, h.start), text.rfind("\r", 0, h.start)) + 1
        marks = text[line_start : h.start].strip()
        if marks == "#":
            return h.title
    return None
