"""Reading a whole documents folder, and where the bundled demo corpus lives."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from knowledge.document import Document
from knowledge.errors import DocumentError
from knowledge.metadata import METADATA_FILENAME, DocMeta, load_metadata
from knowledge.reader import read_document
from knowledge.sources import ProblemHandler, discover

__all__ = ["bundled_corpus_dir", "load_documents"]

_log = logging.getLogger(__name__)


def bundled_corpus_dir() -> Path:
    """The demo knowledge base shipped inside the ``knowledge`` package."""
    return Path(__file__).resolve().parent / "corpus"


def _log_problem(problem: DocumentError) -> None:
    _log.warning("skipped %s", problem)


def load_documents(
    docs_dir: Path, on_problem: ProblemHandler | None = None
) -> Iterator[Document]:
    """Read every document under ``docs_dir`` in path order.

    A malformed metadata file, an entry of it that names no document, and every document that
    cannot be read are passed to ``on_problem`` (by default logged as warnings) and skipped;
    reading goes on with the rest.
    """
    report = on_problem or _log_problem
    try:
        metadata = load_metadata(docs_dir)
    except DocumentError as problem:
        report(problem)
        metadata = {}
    sources = discover(docs_dir, report)
    known = {s.rel for s in sources}
    for rel in sorted(set(metadata) - known):
        report(
            DocumentError(
                METADATA_FILENAME,
                f"has an entry for {rel!r} but no such document was found; "
                "fix the path or remove the entry",
            )
        )
    for source in sources:
        meta: DocMeta | None = metadata.get(source.rel)
        try:
            yield read_document(source, meta)
        except DocumentError as problem:
            report(problem)
