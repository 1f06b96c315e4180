"""Text of Office files — Word ``.docx``, PowerPoint ``.pptx``, Excel ``.xlsx`` — with the places a
reader can go to.

The extracted text is a series of blocks separated by a blank line (as for HTML), so a
sentence never runs from one paragraph, slide or table row into the next:

* ``.docx`` (:mod:`knowledge.docxtext`): one block per paragraph, in body order; a table gives
  one block per row, cells separated by a tab. Headings come from Word's styles.
* ``.pptx``: per slide, its title (a heading; an untitled slide is headed by its first line)
  then one block per paragraph of its other shapes, in the deck's order; tables row by row.
  Every slide is a place named by its number. Speaker notes are left out.
* ``.xlsx``: per sheet, its name (a heading), then one block per row that holds a value, the
  cells' values (as Excel last computed them) separated by a tab. Every cell is a place
  ``"Sheet!B4"``.

:class:`OfficeText` is what every extractor returns; the reader turns it into a Document.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from knowledge.document import Heading
from knowledge.errors import EMPTY, DocumentError
from knowledge.places import cell_name

__all__ = ["OFFICE_KINDS", "OfficeText", "TextBuilder", "damaged", "extract_office"]

OFFICE_KINDS = {".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx"}
BLOCK_SEPARATOR = "\n\n"
_NAMES = {"docx": "a Word (.docx)", "pptx": "a PowerPoint (.pptx)", "xlsx": "an Excel (.xlsx)"}


@dataclass(frozen=True)
class OfficeText:
    text: str
    headings: tuple[Heading, ...]
    places: tuple[int, ...]
    place_names: tuple[str, ...]
    title: str | None


class TextBuilder:
    """Blocks of text joined by a blank line, with the headings and places found on the way."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._open = False  # a block has been started and not ended
        self.headings: list[Heading] = []
        self.places: list[int] = []
        self.place_names: list[str] = []

    def _start_block(self) -> None:
        if not self._open:
            if self._size:
                self._add(BLOCK_SEPARATOR)
            self._open = True

    def _add(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)

    def place(self, name: str) -> None:
        """A place begins at the next text added."""
        if self.places and self.places[-1] == self._size:
            self.place_names[-1] = name  # the previous place holds no text: replaced
        else:
            self.places.append(self._size)
            self.place_names.append(name)

    def piece(self, text: str, separator: str = "\t", place: str | None = None) -> bool:
        """Add ``text`` to the current block (``separator`` before it unless it opens the block)."""
        text = text.strip()
        if not text:
            return False
        if self._open:
            self._add(separator)
        else:
            self._start_block()
        if place is not None:
            self.place(place)
        self._add(text)
        return True

    def mark(self) -> int:
        """Where the text stands now (for :meth:`head_first_line`)."""
        return self._size

    def head_first_line(self, mark: int, level: int) -> None:
        """Make the first line of the text added since ``mark`` a heading of ``level``."""
        text = "".join(self._parts)
        self._parts = [text]
        start = mark + len(text[mark:]) - len(text[mark:].lstrip())
        stop = text.find("\n", start)
        stop = len(text) if stop < 0 else stop
        if stop > start:
            self.headings.append(Heading(level, text[start:stop], start, stop))

    def end_block(self) -> None:
        self._open = False

    def block(self, text: str, heading_level: int | None = None, place: str | None = None) -> bool:
        """Add ``text`` as a block of its own (a heading of ``heading_level`` when given)."""
        self.end_block()
        start = self._size + (len(BLOCK_SEPARATOR) if self._size else 0)
        added = self.piece(text, place=place)
        if added and heading_level is not None:
            title = text.strip()
            self.headings.append(Heading(heading_level, title, start, start + len(title)))
        self.end_block()
        return added

    def finish(self, path: str, kind: str, title: str | None) -> OfficeText:
        text = "".join(self._parts)
        if not text.strip():
            reason = f"holds no text ({_NAMES[kind]} file with no words); add text or remove it"
            raise DocumentError(path, reason, EMPTY)
        return OfficeText(text, tuple(self.headings), tuple(self.places), tuple(self.place_names), title or None)


def damaged(path: str, kind: str, exc: BaseException) -> DocumentError:
    return DocumentError(
        path,
        f"cannot be read as {_NAMES[kind]} file ({type(exc).__name__}: {exc}); if it is "
        "password-protected save an unprotected copy, else open and re-save it",
    )


def extract_office(raw: bytes, path: str, kind: str) -> OfficeText:
    """The text of an Office file of ``kind`` (``"docx"``, ``"pptx"``, ``"xlsx"``)."""
    if not raw.startswith(b"PK"):
        raise DocumentError(
            path,
            f"is not {_NAMES[kind]} file (it is not a zip package: an old binary Office file, a "
            f"password-protected one, or another format); save it again as {_NAMES[kind]} file",
        )
    # The libraries raise many kinds of exceptions on damaged packages (zip, XML, missing parts):
    # every one is turned into a DocumentError for this document alone.
    try:
        if kind == "docx":
            from knowledge.docxtext import extract_docx

            return extract_docx(raw, path)
        if kind == "pptx":
            return _pptx(raw, path)
        return _xlsx(raw, path)
    except DocumentError:
        raise
    except Exception as exc:
        raise damaged(path, kind, exc) from exc


def _shape_blocks(out: TextBuilder, shape: Any, skip: Any = None) -> None:
    """The text of a shape (groups and tables included), one block per paragraph or table row."""
    if shape is skip:
        return
    from pptx.shapes.group import GroupShape

    if isinstance(shape, GroupShape):
        for inner in shape.shapes:
            _shape_blocks(out, inner)
        return
    if getattr(shape, "has_table", False):
        for row in shape.table.rows:
            for cell in row.cells:
                out.piece(_slide_text(cell.text))
            out.end_block()
        return
    if getattr(shape, "has_text_frame", False):
        for paragraph in shape.text_frame.paragraphs:
            out.block(_slide_text(paragraph.text))


def _slide_text(text: str) -> str:
    return text.replace("\v", "\n")  # python-pptx shows a line break inside a paragraph as \v


def _pptx(raw: bytes, path: str) -> OfficeText:
    from pptx import Presentation  # imported lazily: only folders with slides pay for it

    deck = Presentation(io.BytesIO(raw))
    out = TextBuilder()
    for number, slide in enumerate(deck.slides, start=1):
        out.end_block()
        out.place(str(number))
        title_shape = slide.shapes.title
        title = _slide_text(title_shape.text_frame.text) if title_shape is not None else ""
        if not out.block(title, heading_level=1):
            title_shape = None
        mark = out.mark()
        for shape in slide.shapes:
            _shape_blocks(out, shape, skip=title_shape)
        if title_shape is None:
            out.head_first_line(mark, level=1)  # an untitled slide never sits under the one before
    return out.finish(path, "pptx", deck.core_properties.title)


def _xlsx(raw: bytes, path: str) -> OfficeText:
    from openpyxl import load_workbook  # imported lazily: only folders with workbooks pay for it

    book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    try:
        out = TextBuilder()
        for sheet in book.worksheets:
            out.block(sheet.title, heading_level=1, place=f"{sheet.title}!")
            for row in sheet.iter_rows():
                for cell in row:
                    value = getattr(cell, "value", None)
                    if value is None or getattr(cell, "row", None) is None:
                        continue
                    out.piece(_cell_text(value), place=cell_name(sheet.title, cell.row, cell.column))
                out.end_block()
        title = book.properties.title if book.properties is not None else None
    finally:
        book.close()
    return out.finish(path, "xlsx", title)


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
