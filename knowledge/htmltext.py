"""Visible text of an HTML page, with the source line of every extracted line.

The page is parsed with BeautifulSoup's built-in ``html.parser``. Dropped: ``head`` (with
``title``), ``script``, ``style``, ``template``, ``noscript``, comments, and ruby readings
(``rt``/``rp``: ``<ruby>漢字<rt>かんじ</rt></ruby>`` gives ``漢字``, so quotes match the base text). Runs of HTML
whitespace (space, tab, line breaks, form feed) collapse to one space, as a browser shows
them; no-break and ideographic spaces are kept. Block elements (``p``, ``div``, ``li``,
``h1``…, ``tr`` …) are separated by a blank line, ``<br>`` gives a line break, table cells
a space, and ``<pre>`` keeps its text as written.

Source lines: ``html.parser`` records the line of every start tag. The line of a piece of
text is the line of the last start tag before it plus the line breaks in the text and
comments seen since. This is exact except after a start tag whose attributes span several
lines (the text is then placed on the tag's first line).

``line_starts``/``line_numbers`` are a map from extracted-text offsets to source lines: one
entry at the start of every extracted line, plus one wherever the source line changes inside
an extracted line (a paragraph written over several source lines is one extracted line). So
``Document.line_at`` is exact to the word; entries are not all at ``\n`` boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge import limits
from knowledge.document import Heading
from knowledge.errors import DocumentError

if TYPE_CHECKING:
    from bs4.element import Tag

__all__ = ["HtmlText", "declared_charset", "extract_html"]

_DROP = frozenset({"head", "title", "script", "style", "template", "noscript", "rt", "rp"})
_BLOCK = frozenset(
    {
        *("address", "article", "aside", "blockquote", "body", "caption", "center", "dd"),
        *("details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure"),
        *("footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr"),
        *("html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section"),
        *("summary", "table", "tbody", "tfoot", "thead", "tr", "ul"),
    }
)
_CELLS = frozenset({"td", "th"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_HTML_SPACE = re.compile(r"([ \t\n\r\f]+)")
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)


@dataclass(frozen=True)
class HtmlText:
    text: str
    line_starts: tuple[int, ...]
    line_numbers: tuple[int, ...]
    headings: tuple[Heading, ...]
    title: str | None  # <title>, else the first <h1>


def declared_charset(raw: bytes) -> str | None:
    """The charset a page declares in a ``<meta>`` tag near its top, if any."""
    m = _META_CHARSET.search(raw[:4096])
    return m.group(1).decode("ascii") if m else None


class _Out:
    """The extracted text being built, with lazily emitted separators."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.line_starts: list[int] = []
        self.line_numbers: list[int] = []
        self.pending = 0  # line breaks owed before the next content
        self.space = False  # a space owed before the next content
        self.open_headings: list[list[int]] = []  # [level, start or -1]

    def _append(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def emit(self, s: str, line: int) -> None:
        """Add content ``s`` (no line breaks) that starts on source ``line``."""
        if self.length == 0:
            self.line_starts.append(0)
            self.line_numbers.append(line)
        elif self.pending:
            for _ in range(self.pending):
                self._append("\n")
                self.line_starts.append(self.length)
                self.line_numbers.append(line)
        elif self.space:
            self._append(" ")
        self.pending = 0
        self.space = False
        for record in self.open_headings:
            if record[1] < 0:
                record[1] = self.length
        if line != self.line_numbers[-1] and self.line_starts[-1] != self.length:
            # the source moved to another line inside one extracted line: map from here on
            self.line_starts.append(self.length)
            self.line_numbers.append(line)
        self._append(s)

    def block(self) -> None:
        if self.length:
            self.pending = max(self.pending, 2)

    def line_break(self) -> None:
        if self.length:
            self.pending = min(self.pending + 1, 2) if self.pending < 2 else self.pending

    def soft_space(self) -> None:
        if self.length:
            self.space = True


def _collapsed(out: _Out, s: str, line: int) -> None:
    for token in _HTML_SPACE.split(s):
        if not token:
            continue
        if token[0] in " \t\n\r\f":
            out.soft_space()
            line += token.count("\n")
        else:
            out.emit(token, line)


def _preformatted(out: _Out, s: str, line: int) -> None:
    for k, piece in enumerate(s.split("\n")):
        if k:
            if out.length:
                out.pending += 1
            line += 1
        if piece:
            out.emit(piece, line)


def _newlines_in(tag: Tag) -> int:
    from bs4.element import NavigableString

    return sum(str(d).count("\n") for d in tag.descendants if isinstance(d, NavigableString))


_VOID = frozenset(
    {
        *("area", "base", "basefont", "bgsound", "br", "col", "command", "embed", "frame"),
        *("hr", "image", "img", "input", "isindex", "keygen", "link", "menuitem", "meta"),
        *("nextid", "param", "source", "spacer", "track", "wbr"),
    }
)


def nesting_depth(source: str, stop_above: int) -> int:
    """How deep elements nest in ``source``, as BeautifulSoup's ``html.parser`` nests them (an
    end tag closes the innermost open element of its name and those inside it; void elements
    never open). Counting stops once the depth passes ``stop_above``. Linear in the page."""
    from html.parser import HTMLParser

    class Counter(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=False)
            self.stack: list[str] = []
            self.open: dict[str, int] = {}
            self.deepest = 0

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag in _VOID:
                return
            self.stack.append(tag)
            self.open[tag] = self.open.get(tag, 0) + 1
            self.deepest = max(self.deepest, len(self.stack))

        def handle_endtag(self, tag: str) -> None:
            if not self.open.get(tag):
                return
            while self.stack:
                name = self.stack.pop()
                self.open[name] -= 1
                if name == tag:
                    return

    counter = Counter()
    step = 65536
    for at in range(0, len(source), step):
        counter.feed(source[at : at + step])
        if counter.deepest > stop_above:
            break
    else:
        counter.close()
    return counter.deepest


def extract_html(source: str, path: str = "") -> HtmlText:
    """Extract the visible text of ``source`` (a decoded HTML page, the file ``path``).

    :class:`DocumentError` if elements nest deeper than :data:`knowledge.limits.MAX_HTML_DEPTH`:
    BeautifulSoup's time grows faster than the square of the depth (100,000 nested ``<div>``
    took half an hour), real pages nest a few dozen levels.
    """
    # imported here: BeautifulSoup is slow to import and only HTML folders need it
    from bs4 import BeautifulSoup
    from bs4.element import NavigableString, PreformattedString, Tag

    def is_pre(node: object) -> bool:
        return isinstance(node, Tag) and node.name.lower() == "pre"

    if nesting_depth(source, limits.MAX_HTML_DEPTH) > limits.MAX_HTML_DEPTH:
        raise DocumentError(
            path, limits.over_limit("the nesting of its elements", limits.MAX_HTML_DEPTH, "levels")
        )
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    soup = BeautifulSoup(source, "html.parser")
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if isinstance(title_tag, Tag) else ""

    out = _Out()
    found: list[tuple[int, int, int]] = []  # (h-level, start, end)
    line = 1
    pre_depth = 0
    stack: list[tuple[object, bool]] = [(child, False) for child in reversed(soup.contents)]
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, Tag):
            name = node.name.lower()
            if leaving:
                if name in _HEADINGS:
                    level, start = out.open_headings.pop()
                    if start >= 0:
                        found.append((level, start, out.length))
                if name == "pre":
                    pre_depth -= 1
                if name in _BLOCK:
                    out.block()
                elif name in _CELLS:
                    out.soft_space()
                continue
            if node.sourceline is not None:
                line = node.sourceline
            if name in _DROP:
                line += _newlines_in(node)
                continue
            if name == "br":
                out.line_break()
            elif name in _BLOCK:
                out.block()
            elif name in _CELLS:
                out.soft_space()
            if name in _HEADINGS:
                out.open_headings.append([_HEADINGS[name], -1])
            if name == "pre":
                pre_depth += 1
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
        elif isinstance(node, NavigableString):
            s = str(node)
            if isinstance(node, PreformattedString):  # comments, doctype, CDATA
                pass
            elif pre_depth:
                if node.previous_element is not None and is_pre(node.previous_element):
                    # like browsers, ignore one line break right after <pre>
                    line += s.startswith("\n")
                    s = s.removeprefix("\n")
                _preformatted(out, s, line)
            else:
                _collapsed(out, s, line)
            line += s.count("\n")

    text = "".join(out.parts)
    trimmed: list[tuple[int, int, int]] = []
    for n, lo, hi in found:
        while lo < hi and text[lo].isspace():
            lo += 1
        while hi > lo and text[hi - 1].isspace():
            hi -= 1
        if lo < hi:
            trimmed.append((n, lo, hi))
    levels = {n: i + 1 for i, n in enumerate(sorted({n for n, _, _ in trimmed}))}
    headings = tuple(Heading(levels[n], text[s:e], s, e) for n, s, e in trimmed)
    if not title:
        title = next((text[s:e] for n, s, e in trimmed if n == 1), "")
    return HtmlText(
        text=text,
        line_starts=tuple(out.line_starts),
        line_numbers=tuple(out.line_numbers),
        headings=headings,
        title=" ".join(title.split()) or None,
    )
