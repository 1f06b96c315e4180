"""A document as Kotae sees it: decoded text plus the structure found in it."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from knowledge import limits
from knowledge.lines import count_breaks

__all__ = ["Document", "Heading"]


@dataclass(frozen=True)
class Heading:
    """A heading found in a document.

    ``level`` is 1 for the outermost heading kind seen in that document (``#``, ``<h1>``,
    ``第8節``), growing inwards. ``start``/``end`` are character offsets of the heading's own
    text inside :attr:`Document.text` (so ``doc.text[start:end] == title`` when the heading
    text is verbatim; ``title`` is always the verbatim slice for text formats).
    """

    level: int
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """A decoded document.

    ``text`` is what passages are cut from and what quotes are taken from. For plain text and
    Markdown it is exactly the decoded file; for HTML and PDF it is the extracted text.
    ``line_starts`` maps character offsets to 1-based *source* line numbers (for text and
    Markdown, the lines of ``text`` itself). ``page_starts`` holds the offset where each PDF
    page begins (empty for other formats). ``body`` lists the ``(start, end)`` ranges of
    ``text`` that hold content to index (front matter and the like are left out).

    ``places``/``place_names`` name the parts of a paginated or gridded document a reader can
    go to: each place runs from its offset to the next one. What a name means depends on
    ``kind`` (:mod:`knowledge.places`): a page number (``"pdf"``), a slide number
    (``"pptx"``), ``"Sheet!B4"`` for a spreadsheet cell (``"xlsx"``). Empty for other kinds.
    """

    path: str  # POSIX path relative to the documents directory; what citations show
    title: str
    text: str
    sha256: str  # of the raw file bytes
    encoding: str
    kind: str  # "text", "markdown", "html", "pdf", "docx", "pptx", "xlsx"
    headings: tuple[Heading, ...] = ()
    line_starts: tuple[int, ...] = ()  # offsets where a source line begins or changes
    line_numbers: tuple[int, ...] = ()  # source line number of each entry of line_starts
    page_starts: tuple[int, ...] = ()
    body: tuple[tuple[int, int], ...] = ()
    places: tuple[int, ...] = ()  # offsets where each place (PDF page, slide, cell) begins
    place_names: tuple[str, ...] = ()  # the name of each place (see knowledge.places)
    url: str | None = None
    date: str | None = None
    meta: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def line_at(self, offset: int) -> int:
        """1-based source line number of the character at ``offset``."""
        if not self.line_starts:
            return count_breaks(self.text, 0, offset) + 1
        i = bisect.bisect_right(self.line_starts, offset) - 1
        i = max(i, 0)
        return self.line_numbers[i] if self.line_numbers else i + 1

    def page_at(self, offset: int) -> int | None:
        """1-based page of the character at ``offset``, or ``None`` when not paginated."""
        if not self.page_starts:
            return None
        return max(bisect.bisect_right(self.page_starts, offset), 1)

    def section_at(self, offset: int) -> tuple[str, ...]:
        """Titles of the headings enclosing ``offset``, outermost first.

        Each is cut to :data:`knowledge.limits.MAX_HEADING_CHARS` (a 300,000-character heading
        would otherwise be copied into every passage and every text that is embedded)."""
        path: list[tuple[int, str]] = []
        for h in self.headings:
            if h.start > offset:
                break
            while path and path[-1][0] >= h.level:
                path.pop()
            path.append((h.level, h.title))
        return tuple(limits.capped(title) for _, title in path)
