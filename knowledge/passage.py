"""Passages: the unit that is embedded, retrieved and quoted from."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ChunkSettings", "Passage"]


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut into passages, in characters of decoded text."""

    max_chars: int = 400
    overlap_chars: int = 80

    def as_dict(self) -> dict[str, int]:
        return {"max_chars": self.max_chars, "overlap_chars": self.overlap_chars}


@dataclass(frozen=True)
class Passage:
    """A span of a document.

    Invariant: ``text == document.text[start:end]`` — verbatim, never normalised.
    ``start_line``/``end_line`` are 1-based and inclusive (source lines); ``page`` and
    ``end_page`` are 1-based PDF pages or ``None``. ``section`` is the heading path the
    passage sits under, outermost first. ``places`` are the ``(offset, name)`` places of the
    document (pages, slides, cells) the passage touches, the first clipped to ``start``: the
    place of any span inside the passage follows from them (:func:`knowledge.places.locate`).
    """

    doc_path: str
    ordinal: int
    start: int
    end: int
    start_line: int
    end_line: int
    section: tuple[str, ...]
    text: str
    page: int | None = None
    end_page: int | None = None
    places: tuple[tuple[int, str], ...] = ()
