"""What an answer is, independent of where it is shown (terminal, JSON, Slack).

Renderers take a :class:`Reply` and never look anything up: everything a reply shows is here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Citation", "Quote", "Reply", "RetrievedPassage"]


@dataclass(frozen=True)
class Citation:
    """A numbered source entry: where the quotes citing it are.

    Lines are 1-based, inclusive: lines of the file itself for text and Markdown, of the source
    for HTML, of the extracted text for PDF and Office files. ``section`` is the heading path
    (a Word document's headings, a slide's title, a sheet's name). ``page``–``end_page`` (PDF),
    ``slide``–``end_slide`` (PowerPoint) and ``sheet``/``cells`` (Excel, ``"B3:D4"``) are the
    place of the quoted text itself (:mod:`knowledge.places`); ``None`` for other formats.
    """

    n: int
    title: str
    source: str  # path relative to the documents directory, POSIX separators
    section: tuple[str, ...]
    start_line: int
    end_line: int
    page: int | None = None
    url: str | None = None
    end_page: int | None = None
    slide: int | None = None
    end_slide: int | None = None
    sheet: str | None = None
    cells: str | None = None


@dataclass(frozen=True)
class Quote:
    """A verbatim excerpt of a source; ``citation`` is the :attr:`Citation.n` it belongs to."""

    text: str
    citation: int


@dataclass(frozen=True)
class RetrievedPassage:
    """A ranked passage as retrieved, text verbatim."""

    source: str
    title: str
    section: tuple[str, ...]
    start_line: int
    end_line: int
    text: str
    score: float
    page: int | None = None
    end_page: int | None = None
    slide: int | None = None
    end_slide: int | None = None
    sheet: str | None = None
    cells: str | None = None


@dataclass(frozen=True)
class Reply:
    """The answer to one question.

    ``answered`` is False when the documents do not answer the question; then ``quotes`` is
    empty and ``citations`` lists the closest sources, offered as suggestions. ``lead`` is a
    short line in the question's ``language`` ("ja" or "en"). ``index_version`` names the
    index the answer came from (shown in footers).
    """

    question: str
    language: str
    answered: bool
    lead: str
    quotes: tuple[Quote, ...]
    citations: tuple[Citation, ...]
    passages: tuple[RetrievedPassage, ...]
    index_version: str = ""
