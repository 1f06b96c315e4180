"""Per-document limits: how much work one file may cause, whatever it holds.

A small file can ask for unbounded work: a PDF whose pages share one stream that inflates to
70 MiB, a text-show operator 60 MB long, a heading of 300,000 characters copied into every
passage, a metadata file linked to ``/dev/zero``. Each limit below stops one such case; a
document over a limit is skipped and reported with the limit it hit (:func:`over_limit`),
the other documents are indexed as usual. The defaults are far above real manuals (the largest
HTML page of debian-reference-ja is ~500 KB; a 1,000-page PDF holds ~3 million characters).

Code reads these names at call time (``limits.MAX_TEXT_CHARS``), so tests can lower them.
"""

from __future__ import annotations

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_HEADING_CHARS",
    "MAX_HTML_DEPTH",
    "MAX_METADATA_BYTES",
    "MAX_PDF_CONTENT_BYTES",
    "MAX_PDF_CONTENT_RATIO",
    "MAX_PDF_PAGE_CONTENT_BYTES",
    "MAX_PDF_PAGE_TEXT_OPERATORS",
    "MAX_TEXT_CHARS",
    "MAX_YAML_DEPTH",
    "capped",
    "over_limit",
]

#: Bytes of one document file. Larger files are skipped before they are read.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024

#: Characters of text extracted from one document (decoded text, visible HTML text, PDF text).
MAX_TEXT_CHARS = 64_000_000

#: Decompressed content-stream bytes (with the forms it draws) of one PDF page. Parsing them is
#: what takes time (pypdf needs ~5 s per MiB of shown text), not inflating them.
MAX_PDF_PAGE_CONTENT_BYTES = 4 * 1024 * 1024
#: Text-showing operators (``Tj``/``TJ``) on one PDF page: pypdf's time grows with their square
#: (40,000 took 42 s); a dense real page has a few thousand.
MAX_PDF_PAGE_TEXT_OPERATORS = 20_000
#: Decompressed content of all pages of one PDF together: at most this many bytes or
#: :data:`MAX_PDF_CONTENT_RATIO` times the file's size, whichever is larger (real content
#: compresses 3–10 times; a 75 KB file whose 20 pages share one 70 MiB stream is 19,000 times).
MAX_PDF_CONTENT_BYTES = 16 * 1024 * 1024
MAX_PDF_CONTENT_RATIO = 16

#: Elements open at once in an HTML page. Real pages nest a few dozen levels, but BeautifulSoup
#: nests unclosed `<p>` tags, so an old page of 2,000 unclosed paragraphs is 2,000 deep (0.3 s).
MAX_HTML_DEPTH = 3_000

#: Characters of a heading or a title used in a passage's section path, a sentence's context and
#: the text that is embedded; longer ones are cut and end with "…". The document text (what is
#: quoted) is never cut.
MAX_HEADING_CHARS = 200

#: Bytes of ``kotae-metadata.yaml``.
MAX_METADATA_BYTES = 4 * 1024 * 1024

#: Collections nested in a YAML document (the metadata file, Markdown front matter).
MAX_YAML_DEPTH = 64


def capped(title: str, limit: int | None = None) -> str:
    """``title`` cut to ``limit`` characters (default :data:`MAX_HEADING_CHARS`), ending "…"."""
    limit = MAX_HEADING_CHARS if limit is None else limit
    if len(title) <= limit:
        return title
    return title[: max(limit - 1, 0)].rstrip() + "…"


def over_limit(what: str, limit: int, unit: str) -> str:
    """The reason a document over a limit is skipped, naming the limit."""
    return f"{what} exceeds the limit of {limit:,} {unit} for one document; split it into smaller files"
