"""Kotae's knowledge stage: documents → passages with exact source spans.

Quick use::

    from knowledge import ChunkSettings, bundled_corpus_dir, chunk_document, load_documents

    for doc in load_documents(bundled_corpus_dir(), on_problem=print):
        for passage in chunk_document(doc, ChunkSettings()):
            assert passage.text == doc.text[passage.start : passage.end]
"""

from knowledge.chunking import chunk_document
from knowledge.document import Document, Heading
from knowledge.errors import DocumentError, KotaeError
from knowledge.loading import bundled_corpus_dir, load_documents
from knowledge.metadata import METADATA_FILENAME, DocMeta, load_metadata
from knowledge.passage import ChunkSettings, Passage
from knowledge.reader import read_document, text_document
from knowledge.sentences import split_sentences
from knowledge.sources import SUPPORTED_EXTENSIONS, SourceFile, discover, file_sha256

# Grouped by stage: finding and reading documents, the values, cutting, errors.
__all__ = [  # noqa: RUF022
    "SUPPORTED_EXTENSIONS",
    "SourceFile",
    "discover",
    "file_sha256",
    "METADATA_FILENAME",
    "DocMeta",
    "load_metadata",
    "read_document",
    "text_document",
    "load_documents",
    "bundled_corpus_dir",
    "Document",
    "Heading",
    "ChunkSettings",
    "Passage",
    "split_sentences",
    "chunk_document",
    "KotaeError",
    "DocumentError",
]
