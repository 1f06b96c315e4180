"""Text of a PDF, page by page, with ``pypdf``.

The document text is the pages' extracted text joined by a blank line (:data:`PAGE_SEPARATOR`),
so a sentence never runs across a page break; ``page_starts`` records where each page
begins. Line numbers of a PDF are the lines of this extracted text, counted from the start of
the document (a PDF has no source lines a reader could look up).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

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
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        title = str(info.title).strip() if info is not None and info.title else None
    except (FileNotDecryptedError, DependencyError) as exc:
        raise DocumentError(
            path,
            "is an encrypted PDF that cannot be opened without a password; save an "
            "unencrypted copy and index that instead",
        ) from exc
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
