"""Text of a PDF, page by page, with ``pypdf``.

The document text is the pages' extracted text joined by a blank line (:data:`PAGE_SEPARATOR`),
so a sentence never runs across a page break; ``page_starts`` records where each page
begins. Line numbers of a PDF are the lines of this extracted text, counted from the start of
the document (a PDF has no source lines a reader could look up).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from knowledge import limits
from knowledge.errors import EMPTY, NO_TEXT_LAYER, DocumentError

__all__ = ["PAGE_SEPARATOR", "PdfText", "extract_pdf"]

PAGE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class PdfText:
    text: str
    page_starts: tuple[int, ...]
    title: str | None


def extract_pdf(raw: bytes, path: str) -> PdfText:
    """Extract the text of every page; :class:`DocumentError` naming ``path`` on failure."""
    from pypdf import PdfReader  # imported lazily: only folders with PDFs pay for it
    from pypdf.errors import DependencyError, FileNotDecryptedError

    if not raw.lstrip()[:5] == b"%PDF-":
        raise DocumentError(
            path, "is not a PDF (it does not start with %PDF-); fix its extension or remove it"
        )
    # pypdf documents that damaged files can raise exceptions other than its own, so every
    # exception from pypdf is turned into a DocumentError for this one document.
    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError("a password is needed")
        pages = _page_texts(reader, path, len(raw))
        info = reader.metadata
        title = str(info.title).strip() if info is not None and info.title else None
    except DependencyError as exc:  # pypdf decrypts AES only with the `cryptography` package
        raise DocumentError(
            path,
            f"is an encrypted PDF that this installation cannot decrypt ({exc}); install the "
            "`cryptography` package (a dependency of Kotae) and index again",
        ) from exc
    except FileNotDecryptedError as exc:
        raise DocumentError(
            path,
            "is an encrypted PDF that cannot be opened without a password; save an "
            "unencrypted copy and index that instead",
        ) from exc
    except DocumentError:
        raise
    except Exception as exc:
        raise DocumentError(
            path,
            f"is a damaged PDF that cannot be read ({type(exc).__name__}: {exc}); "
            "re-export or repair it",
        ) from exc
    if not any(p.strip() for p in pages):
        raise DocumentError(
            path,
            f"no text layer: {len(pages)} page{'s' if len(pages) != 1 else ''} of images only (a scan?); "
            "run OCR on it (e.g. ocrmypdf) or add a text version",
            NO_TEXT_LAYER if pages else EMPTY,
        )
    starts: list[int] = []
    offset = 0
    for k, page in enumerate(pages):
        if k:
            offset += len(PAGE_SEPARATOR)
        starts.append(offset)
        offset += len(page)
    return PdfText(PAGE_SEPARATOR.join(pages), tuple(starts), title or None)


def _content(page: Any) -> bytes:
    """The decompressed content stream of ``page``, followed by the forms its resources hold."""
    contents = page.get_contents()
    parts = [contents.get_data() if contents is not None else b""]
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    if xobjects is not None:
        for ref in xobjects.get_object().values():
            form = ref.get_object()
            if form.get("/Subtype") == "/Form":
                parts.append(form.get_data())
    return b"".join(parts)


def _page_texts(reader: Any, path: str, file_bytes: int) -> list[str]:
    """Text of every page, within the limits of :mod:`knowledge.limits` (checked before a page's
    content is parsed, so an oversized page costs its decompression only)."""
    budget = max(limits.MAX_PDF_CONTENT_BYTES, limits.MAX_PDF_CONTENT_RATIO * file_bytes)
    spent = chars = 0
    texts: list[str] = []
    for number, page in enumerate(reader.pages, 1):
        content = _content(page)
        spent += len(content)
        if len(content) > limits.MAX_PDF_PAGE_CONTENT_BYTES:
            what, limit, unit = f"the content of page {number}", limits.MAX_PDF_PAGE_CONTENT_BYTES, "bytes"
        elif content.count(b"Tj") + content.count(b"TJ") > limits.MAX_PDF_PAGE_TEXT_OPERATORS:
            what, limit, unit = f"page {number}", limits.MAX_PDF_PAGE_TEXT_OPERATORS, "text operators"
        elif spent > budget:
            what, limit, unit = "the content of its pages", budget, "bytes (decompressed)"
        else:
            del content
            text = page.extract_text() or ""
            chars += len(text)
            if chars > limits.MAX_TEXT_CHARS:
                raise DocumentError(path, limits.over_limit("its text", limits.MAX_TEXT_CHARS, "characters"))
            texts.append(text)
            continue
        raise DocumentError(path, limits.over_limit(what, limit, unit))
    return texts
