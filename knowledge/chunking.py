"""Cutting a document into passages.

A document's body is first cut into sections at its headings; passages never cross a
heading. A section's heading line is the first sentence of its first passage; a heading with
no content before the next heading (``第8節 …`` directly followed by ``1 …``) is left out of
the passages — it still appears in the ``section`` path of the passages below it.

Inside a section, sentences (:func:`knowledge.sentences.split_sentences`, with
``max_len = max_chars`` so no sentence is too long) are packed greedily: a passage takes
sentences while ``end - start`` stays within ``max_chars``. The next passage starts with the
trailing whole sentences of the previous one that fit in ``overlap_chars`` (possibly none),
and always takes at least one new sentence. Greedy packing means a short tail never fits into
the passage before it, so no separate merging step exists.

:func:`iter_passages` yields the same passages one at a time, reading sentences as it packs
them: what it holds at once is one passage's sentences, whatever the size of the document.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from knowledge.document import Document, Heading
from knowledge.errors import ConfigError
from knowledge.passage import ChunkSettings, Passage
from knowledge.places import passage_places
from knowledge.sentences import iter_sentences

__all__ = ["chunk_document", "iter_passages"]


def _check(settings: ChunkSettings) -> None:
    if settings.max_chars < 1:
        raise ConfigError(
            f"ChunkSettings.max_chars must be at least 1, got {settings.max_chars}; "
            "raise the chunk_chars setting (KOTAE_CHUNK_CHARS)"
        )
    if not 0 <= settings.overlap_chars < settings.max_chars:
        raise ConfigError(
            f"ChunkSettings.overlap_chars must be between 0 and max_chars - 1 "
            f"({settings.max_chars - 1}), got {settings.overlap_chars}; "
            "fix the chunk_overlap setting (KOTAE_CHUNK_OVERLAP)"
        )


def _line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Start of the line holding ``start`` and start of the line after the one holding ``end``."""
    first = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    nl = text.find("\n", end)
    cr = text.find("\r", end)
    ends = [p for p in (nl, cr) if p >= 0]
    if not ends:
        return first, len(text)
    p = min(ends)
    return first, p + (2 if text.startswith("\r\n", p) else 1)


def _sections(
    text: str, headings: list[Heading], lo: int, hi: int
) -> Iterator[tuple[Heading | None, int, int]]:
    """``(heading, content_start, content_end)`` for the part before the first heading and
    for each heading inside ``[lo, hi)``."""
    inside = [h for h in headings if lo <= h.start and h.end <= hi]
    current: Heading | None = None
    content_start = lo
    for h in inside:
        line_start, line_next = _line_bounds(text, h.start, h.end)
        yield current, content_start, max(content_start, min(line_start, hi))
        current, content_start = h, min(max(line_next, h.end), hi)
    yield current, content_start, hi


def _pack(units: Iterable[tuple[int, int]], max_chars: int, overlap: int) -> Iterator[tuple[int, int]]:
    """Greedy packing of sentence spans into passage spans ``(start, end)``.

    ``window`` holds the sentences from the first one of the current passage on (never more
    than one passage's worth plus the next sentence); the rest are read only when needed.
    """
    source = iter(units)
    window: list[tuple[int, int]] = []

    def have(count: int) -> bool:
        """Are there at least ``count`` sentences from the window's start on?"""
        while len(window) < count:
            unit = next(source, None)
            if unit is None:
                return False
            window.append(unit)
        return True

    if not have(1):
        return
    while True:
        j = 0
        while have(j + 2) and window[j + 1][1] - window[0][0] <= max_chars:
            j += 1
        yield window[0][0], window[j][1]
        if not have(j + 2):
            return
        k = j + 1
        while k - 1 > 0 and window[j][1] - window[k - 1][0] <= overlap:
            k -= 1
        while window[j + 1][1] - window[k][0] > max_chars:
            k += 1  # the overlap must leave room for the next new sentence
        del window[:k]


def _passage(doc: Document, ordinal: int, start: int, end: int) -> Passage:
    return Passage(
        doc_path=doc.path,
        ordinal=ordinal,
        start=start,
        end=end,
        start_line=doc.line_at(start),
        end_line=doc.line_at(end - 1),
        section=doc.section_at(start),
        text=doc.text[start:end],
        page=doc.page_at(start),
        end_page=doc.page_at(end - 1),
        places=passage_places(doc.places, doc.place_names, start, end),
    )


def chunk_document(doc: Document, settings: ChunkSettings | None = None) -> list[Passage]:
    """Passages of ``doc`` in document order; each ``text == doc.text[start:end]``."""
    return list(iter_passages(doc, settings))


def iter_passages(doc: Document, settings: ChunkSettings | None = None) -> Iterator[Passage]:
    """The passages of :func:`chunk_document`, made one at a time. Settings are checked at once."""
    settings = settings or ChunkSettings()
    _check(settings)
    return _passages(doc, settings)


def _passages(doc: Document, settings: ChunkSettings) -> Iterator[Passage]:
    max_chars = settings.max_chars
    text = doc.text
    headings = sorted(doc.headings, key=lambda h: h.start)
    ordinal = 0
    for lo, hi in doc.body or ((0, len(text)),):
        for heading, start, end in _sections(text, headings, lo, hi):
            units: Iterator[tuple[int, int]] = iter_sentences(text, start, end, max_len=max_chars)
            first = next(units, None)
            if first is None:
                continue
            units = itertools.chain((first,), units)
            if heading is not None:
                units = itertools.chain(iter_sentences(text, heading.start, heading.end, max_len=max_chars), units)
            for p_start, p_end in _pack(units, max_chars, settings.overlap_chars):
                yield _passage(doc, ordinal, p_start, p_end)
                ordinal += 1
