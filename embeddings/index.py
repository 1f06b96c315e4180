"""A loaded, validated index version: passages, their vectors, sentence vectors and BM25.

:func:`open_index` never returns an index that does not fit its manifest or the caller's model;
it raises :class:`IndexMissingError`, :class:`IndexMismatchError` or :class:`IndexCorruptError`
with the command that fixes the problem. An :class:`Index` is read-only and safe to share between
threads; a server notices a refresh by polling :func:`~embeddings.layout.current_version` and
opens the new version beside the old one.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.layout import (
    ANN_GRAPH,
    CURRENT,
    LEXICAL_DIR,
    PASSAGE_OFFSETS,
    PASSAGES,
    SENTENCE_VECTORS,
    VECTORS,
    VERSIONS,
)
from embeddings.layout import current_version as _current_version
from embeddings.lexical import LexicalIndex
from embeddings.manifest import DocInfo, Manifest, corrupt, incompatibility, read_manifest
from embeddings.passage_table import PassageTable, SentenceSpan
from embeddings.texts import EMBEDDING_TEXT_VERSION
from embeddings.tokenizer import TOKENIZER_VERSION
from embeddings.vector_store import NumpyVectorStore
from knowledge.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from knowledge.passage import ChunkSettings, Passage

__all__ = ["Index", "SentenceSpan", "open_index"]



class Index:
    """One index version. Rows of :attr:`vectors` are :attr:`passages` in order."""

    def __init__(
        self,
        *,
        path: Path,
        version: str,
        manifest: Manifest,
        passages: Sequence[Passage],
        sentences: Sequence[tuple[SentenceSpan, ...]] | None = None,
        vector_store: NumpyVectorStore,
        sentence_store: NumpyVectorStore,
        lexical: LexicalIndex | None = None,
        ann_store: Any | None = None,
    ) -> None:
        self.path = path
        self.version = version
        self.manifest = manifest
        # A PassageTable (as loaded from disk) parses passages on first use; plain sequences
        # (built in memory) come with their sentence spans.
        self.passages: Sequence[Passage]
        self._sentences_of: Callable[[int], tuple[SentenceSpan, ...]]
        if isinstance(passages, PassageTable):
            self.passages = passages
            self._sentences_of = passages.sentences
        else:
            if sentences is None:
                raise ValueError("sentences are required with passages given as a plain sequence")
            self.passages = tuple(passages)
            spans = tuple(sentences)
            self._sentences_of = lambda i: spans[i]
        self.vector_store = vector_store
        self.sentence_store = sentence_store
        self.ann_store = ann_store  # an UsearchVectorStore when the index was built with --ann
        self._lexical = lexical
        self._lexical_lock = threading.Lock()

    # -- what it is ------------------------------------------------------------------------
    @property
    def version_dir(self) -> Path:
        return self.path / VERSIONS / self.version

    @property
    def embedder_id(self) -> str:
        return self.manifest.embedder_id

    @property
    def dim(self) -> int:
        return self.manifest.dim

    @property
    def documents(self) -> Mapping[str, DocInfo]:
        return self.manifest.documents

    @property
    def vectors(self) -> np.ndarray:
        """``len(passages) × dim``, L2-normalised (memory-mapped, read-only)."""
        return self.vector_store.matrix

    @property
    def sentence_vectors(self) -> np.ndarray:
        """``sentences × dim``, L2-normalised; rows named by :meth:`passage_sentences`."""
        return self.sentence_store.matrix

    def passage_sentences(self, i: int) -> list[SentenceSpan]:
        """Sentences inside passage ``i``: ``(start, end, sentence_row)``, in text order."""
        return list(self._sentences_of(i))

    def score_sentences(self, i: int, query: np.ndarray) -> list[tuple[int, int, float]]:
        """``(start, end, cosine)`` of each sentence of passage ``i`` against a query vector."""
        spans = self._sentences_of(i)
        if not spans:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(self.dim)
        rows = np.fromiter((row for _, _, row in spans), dtype=np.int64, count=len(spans))
        scores = self.sentence_vectors[rows].astype(np.float32) @ q
        return [(s, e, float(x)) for (s, e, _), x in zip(spans, scores, strict=True)]

    # -- search ----------------------------------------------------------------------------
    def search_dense(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top-``k`` passages by cosine similarity to ``qvec``: ``(row, score)``.

        Exact over the vector matrix, or approximate through the HNSW graph when the index has one.
        """
        if self.ann_store is not None:
            return self.ann_store.search(qvec, k)
        return self.vector_store.search(qvec, k)

    def passage_records(self, first: int, count: int) -> Iterator[dict[str, Any]]:
        """Rows ``first ..`` as stored in ``passages.jsonl`` (an index read from disk only)."""
        if not isinstance(self.passages, PassageTable):
            raise TypeError("stored passage records exist only for an index read from disk")
        return self.passages.records(first, count)

    def document_frequency(self, token: str) -> int:
        """How many passages contain ``token`` (a word of :func:`~embeddings.tokenizer.tokenize`),
        from the BM25 files written at index time."""
        return self.lexical.document_frequency(token)

    def search_lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        """Top-``k`` passages by BM25 over :func:`~embeddings.tokenizer.tokenize` words."""
        return self.lexical.search(query, k)

    def search_english(self, question: str, k: int) -> list[tuple[int, float]]:
        """Top-``k`` passages by BM25 over the Japanese words that the English words of
        ``question`` gloss (:mod:`embeddings.glossary`); empty when the index has no glossary."""
        words = self.english_words(question)
        return self.lexical.search_tokens(words, k) if words else []

    def english_words(self, question: str) -> list[str]:
        """The corpus words the English words of ``question`` gloss (empty without a glossary)."""
        return self.lexical.english_words(question)

    @property
    def lexical(self) -> LexicalIndex:
        with self._lexical_lock:
            if self._lexical is None:
                self._lexical = _load_lexical(self.version_dir, len(self.passages))
            return self._lexical


def open_index(
    index_dir: str | os.PathLike[str],
    expect_embedder_id: str | None = None,
    *,
    expect_chunking: ChunkSettings | None = None,
) -> Index:
    """Load the current version of the index at ``index_dir`` and check it thoroughly."""
    return _open(Path(index_dir), expect_embedder_id, expect_chunking, for_refresh=False)


def _open(
    index_dir: Path,
    expect_embedder_id: str | None,
    expect_chunking: ChunkSettings | None,
    *,
    for_refresh: bool,
) -> Index:
    """Open for serving, or (``for_refresh``) as the base of a refresh: then the BM25 files are
    not loaded (they are rebuilt anyway) and the recipes are left for the refresh to judge."""
    for _attempt in range(3):
        version = _current_version(index_dir)
        if version is None:
            link = index_dir / CURRENT
            if link.exists() and not link.is_symlink():
                raise corrupt(index_dir, f"{CURRENT} is not a link to a version")
            raise IndexMissingError(f"No index at {index_dir} yet. Run `kotae index` to build it.")
        try:
            return _load(index_dir, version, expect_embedder_id, expect_chunking, for_refresh)
        except IndexCorruptError:
            # A refresh may have replaced and pruned this version while we read it: try again.
            if _current_version(index_dir) == version:
                raise
    raise corrupt(index_dir, "it kept changing while being read")


def _load(
    index_dir: Path,
    version: str,
    expect_embedder_id: str | None,
    expect_chunking: ChunkSettings | None,
    for_refresh: bool,
) -> Index:
    vdir = index_dir / VERSIONS / version
    if not vdir.is_dir():
        raise corrupt(index_dir, f"{CURRENT} points to {VERSIONS}/{version}, which is missing")
    manifest = read_manifest(vdir)
    reason = incompatibility(
        manifest,
        embedder_id=expect_embedder_id,
        chunking=expect_chunking,
        embedding_text=None if for_refresh else EMBEDDING_TEXT_VERSION,
        tokenizer=None if for_refresh else TOKENIZER_VERSION,
    )
    if reason:
        raise IndexMismatchError(f"The index at {index_dir} was {reason}. Run `kotae index --full` to rebuild it.")
    passages = PassageTable(vdir, PASSAGES, PASSAGE_OFFSETS, manifest)
    n_passages = manifest.counts["passages"]
    n_sentences = manifest.counts["sentences"]
    vectors = _load_store(vdir, VECTORS, manifest, n_passages, "passages")
    sentence_vectors = _load_store(vdir, SENTENCE_VECTORS, manifest, n_sentences, "sentences")
    ann_store = _load_ann(vdir, vectors.matrix) if manifest.ann and not for_refresh else None
    missing = LexicalIndex.missing_files(vdir / LEXICAL_DIR, n_passages)
    if missing:
        raise corrupt(vdir, f"lexical index files are missing ({', '.join(missing)})")
    return Index(
        path=index_dir,
        version=version,
        manifest=manifest,
        passages=passages,
        vector_store=vectors,
        sentence_store=sentence_vectors,
        lexical=None if for_refresh else _load_lexical(vdir, n_passages),
        ann_store=ann_store,
    )


def _load_ann(vdir: Path, matrix: np.ndarray) -> Any:
    from embeddings.ann import UsearchVectorStore

    path = vdir / ANN_GRAPH
    if not path.is_file():
        raise corrupt(vdir, f"{ANN_GRAPH} (the approximate search graph) is missing")
    try:
        return UsearchVectorStore.load(path).rescore_with(matrix)
    except (OSError, ValueError, RuntimeError) as exc:
        raise corrupt(vdir, f"{ANN_GRAPH} cannot be read ({exc})") from None


def _load_lexical(vdir: Path, n_passages: int) -> LexicalIndex:
    try:
        return LexicalIndex.load(vdir / LEXICAL_DIR, n_passages)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise corrupt(vdir, f"the lexical index cannot be read ({exc})") from None


def _load_store(vdir: Path, name: str, manifest: Manifest, rows: int, kind: str) -> NumpyVectorStore:
    path = vdir / name
    if not path.is_file():
        raise corrupt(vdir, f"{name} is missing")
    ranges = {rel: getattr(info, kind) for rel, info in manifest.documents.items()}
    try:
        store = NumpyVectorStore.load(path, ranges)
    except (OSError, ValueError, EOFError) as exc:
        raise corrupt(vdir, f"{name} cannot be read or does not fit the manifest ({exc})") from None
    shape = store.matrix.shape
    if shape != (rows, manifest.dim) or str(store.matrix.dtype) != manifest.vector_dtype:
        raise corrupt(
            vdir,
            f"{name} holds {shape[0]}×{shape[1]} {store.matrix.dtype} but the manifest says "
            f"{rows}×{manifest.dim} {manifest.vector_dtype}",
        )
    return store
