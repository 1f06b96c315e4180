"""Reading one document file into a :class:`Document`.

Title, first found wins:

1. the metadata file (``kotae-metadata.yaml``);
2. Markdown: front matter ``title:``, then the first ``#`` heading;
3. HTML: ``<title>``, then the first ``<h1>``;
4. PDF: the document information title;
5. plain text: the first non-blank line, when it stands alone and looks like a title
   (see :func:`knowledge.outline.first_line_title`);
6. the file name without its extension.

Headings: Markdown ATX headings; HTML ``h1``–``h6``; for plain text and PDF, the numbered
outline of Japanese official documents (:mod:`knowledge.outline`); Word styles for ``.docx``,
slide titles for ``.pptx``, sheet names for ``.xlsx`` (:mod:`knowledge.office`). Office titles
come from the file's document properties.

``encoding`` is the Python codec name used to decode a text file; for a PDF it is ``"pdf"``.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from knowledge import limits
from knowledge.confined import read_inside
from knowledge.decoding import decode_text
from knowledge.document import Document
from knowledge.errors import EMPTY, UNSUPPORTED, DocumentError
from knowledge.htmltext import declared_charset, extract_html
from knowledge.lines import line_starts
from knowledge.markdown import first_h1, front_matter, markdown_headings
from knowledge.metadata import DocMeta
from knowledge.office import OFFICE_KINDS, extract_office
from knowledge.outline import first_line_title, outline_headings
from knowledge.pdftext import extract_pdf
from knowledge.sources import SourceFile, os_error_reason, unsupported_reason

__all__ = ["KIND_BY_EXTENSION", "read_document", "text_document"]

KIND_BY_EXTENSION = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    **OFFICE_KINDS,
}


def _first(*candidates: str | None) -> str | None:
    for c in candidates:
        if c and c.strip():
            return limits.capped(c.strip())
    return None


def _meta_dict(attribution: str | None) -> dict[str, str]:
    return {"attribution": attribution} if attribution else {}


def read_document(source: SourceFile, meta: DocMeta | None = None) -> Document:
    """Read, decode and analyse ``source``; :class:`DocumentError` if it cannot be used."""
    rel = source.rel
    kind = KIND_BY_EXTENSION.get(PurePosixPath(rel).suffix.lower())
    if kind is None:
        raise DocumentError(rel, unsupported_reason(rel), UNSUPPORTED)
    try:
        raw = read_inside(source.path, source.root, limit=limits.MAX_DOCUMENT_BYTES)
    except OSError as exc:
        raise DocumentError(rel, os_error_reason(exc)) from exc
    meta = meta or DocMeta()
    sha256 = hashlib.sha256(raw).hexdigest()
    stem = PurePosixPath(rel).stem

    if kind == "pdf":
        pdf = extract_pdf(raw, rel)
        del raw  # the bytes of a large file are not kept while the text is analysed
        return Document(
            title=_first(meta.title, pdf.title, stem) or rel,
            text=pdf.text,
            encoding="pdf",
            headings=outline_headings(pdf.text),
            line_starts=line_starts(pdf.text),
            page_starts=pdf.page_starts,
            places=pdf.page_starts,
            place_names=tuple(str(n) for n in range(1, len(pdf.page_starts) + 1)),
            body=((0, len(pdf.text)),),
            url=meta.url,
            date=meta.date,
            meta=_meta_dict(meta.attribution),
            path=rel,
            sha256=sha256,
            kind=kind,
        )

    if kind in OFFICE_KINDS.values():
        office = extract_office(raw, rel, kind)
        del raw
        return Document(
            title=_first(meta.title, office.title, stem) or rel,
            text=office.text,
            encoding=kind,
            headings=office.headings,
            line_starts=line_starts(office.text),
            places=office.places,
            place_names=office.place_names,
            body=((0, len(office.text)),),
            url=meta.url,
            date=meta.date,
            meta=_meta_dict(meta.attribution),
            path=rel,
            sha256=sha256,
            kind=kind,
        )

    if kind == "html":
        decoded = decode_text(raw, rel, declared=declared_charset(raw))
        del raw
        page = extract_html(decoded.text, path=rel)
        if not page.text.strip():
            raise DocumentError(rel, "has no visible text; check that it is the right page", EMPTY)
        return Document(
            title=_first(meta.title, page.title, stem) or rel,
            text=page.text,
            encoding=decoded.encoding,
            headings=page.headings,
            line_starts=page.line_starts,
            line_numbers=page.line_numbers,
            body=((0, len(page.text)),),
            url=meta.url,
            date=meta.date,
            meta=_meta_dict(meta.attribution),
            path=rel,
            sha256=sha256,
            kind=kind,
        )

    decoded = decode_text(raw, rel)
    del raw
    text = decoded.text
    if kind == "markdown":
        fm = front_matter(text)
        if not text[fm.end :].strip():
            raise DocumentError(rel, "has front matter but no content; add text or remove it", EMPTY)
        headings = markdown_headings(text, fm.end)
        return Document(
            title=_first(meta.title, fm.meta.title, first_h1(headings, text), stem) or rel,
            text=text,
            encoding=decoded.encoding,
            headings=headings,
            line_starts=line_starts(text),
            body=((fm.end, len(text)),),
            url=meta.url or fm.meta.url,
            date=meta.date or fm.meta.date,
            meta=_meta_dict(meta.attribution or fm.meta.attribution),
            path=rel,
            sha256=sha256,
            kind=kind,
        )

    return _plain(text, rel, meta, encoding=decoded.encoding, sha256=sha256)


def _plain(text: str, rel: str, meta: DocMeta, *, encoding: str, sha256: str) -> Document:
    return Document(
        path=rel,
        title=_first(meta.title, first_line_title(text), PurePosixPath(rel).stem) or rel,
        text=text,
        sha256=sha256,
        encoding=encoding,
        kind="text",
        headings=outline_headings(text),
        line_starts=line_starts(text),
        body=((0, len(text)),),
        url=meta.url,
        date=meta.date,
        meta=_meta_dict(meta.attribution),
    )


def text_document(text: str, path: str = "text.txt", meta: DocMeta | None = None) -> Document:
    """A plain-text :class:`Document` made from a string, as if read from a UTF-8 ``.txt``.

    For tests and callers that hold text rather than files; headings, lines and title are
    found exactly as :func:`read_document` finds them.
    """
    sha256 = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return _plain(text, path, meta or DocMeta(), encoding="utf-8", sha256=sha256)
