"""Putting an index version together from per-document pieces, and writing its files.

A refresh turns every document into a :class:`DocEntry` — copied from the previous version when
the document is unchanged, freshly chunked and embedded otherwise — and :func:`write_version`
lays the entries out in path order: rows are numbered, ``passages.jsonl`` and its line offsets,
the two vector files,
the BM25 files and, last, ``manifest.json`` are written into a ``.tmp`` directory.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.index import Index
from embeddings.layout import (
    ANN_GRAPH,
    LEXICAL_DIR,
    MANIFEST,
    PASSAGE_OFFSETS,
    PASSAGES,
    SENTENCE_VECTORS,
    VECTORS,
    finalise_tree,
    open_private,
)
from embeddings.lexical import LexicalIndex
from embeddings.manifest import FORMAT_VERSION, DocInfo, Manifest, manifest_to_json
from embeddings.passage_table import checksum, line_offsets
from embeddings.texts import EMBEDDING_TEXT_VERSION, passage_text, sentence_text
from embeddings.tokenizer import TOKENIZER_VERSION, tokenize
from embeddings.vector_store import NumpyVectorStore
from knowledge.document import Document
from knowledge.passage import ChunkSettings, Passage

__all__ = [
    "DocEntry",
    "PreparedDoc",
    "entry_from_index",
    "entry_from_prepared",
    "prepare_document",
    "write_version",
]

Record = dict[str, Any]  # one line of passages.jsonl; sentence rows local to the document


@dataclass(frozen=True, eq=False)
class PreparedDoc:
    """A read and chunked document, with the texts to embed for it."""

    info: DocInfo
    records: tuple[Record, ...]
    passage_texts: tuple[str, ...]
    sentence_texts: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class DocEntry:
    """One document's share of a version: its passages and both kinds of vectors."""

    info: DocInfo
    records: tuple[Record, ...]
    vectors: np.ndarray
    sentence_vectors: np.ndarray


def prepare_document(
    rel: str,
    doc: Document,
    source_meta: Mapping[str, str],
    chunks: Sequence[Passage],
    split_sentences: Callable[..., list[tuple[int, int]]],
) -> PreparedDoc:
    """Records and texts for a fresh document; identical sentence spans are embedded once."""
    sentence_rows: dict[tuple[int, int], int] = {}
    sentence_texts: list[str] = []
    records: list[Record] = []
    passage_texts: list[str] = []
    for p in chunks:
        spans = []
        context = p.section[-1] if p.section else doc.title
        for start, end in split_sentences(doc.text, p.start, p.end):
            text = sentence_text(doc.text[start:end], context)
            if not text:
                continue
            if (start, end) not in sentence_rows:
                sentence_rows[start, end] = len(sentence_texts)
                sentence_texts.append(text)
            spans.append([start, end, sentence_rows[start, end]])
        records.append(_record(rel, p, spans))
        passage_texts.append(passage_text(doc.title, p.section, p.text))
    info = DocInfo(
        path=rel,
        title=doc.title,
        url=doc.url,
        date=doc.date,
        attribution=source_meta.get("attribution") or doc.meta.get("attribution"),
        sha256=doc.sha256,
        kind=doc.kind,
        encoding=doc.encoding,
        source_meta=dict(source_meta),
    )
    return PreparedDoc(info, tuple(records), tuple(passage_texts), tuple(sentence_texts))


def _record(rel: str, p: Passage, spans: list[list[int]]) -> Record:
    return {
        "doc": rel,
        "ordinal": p.ordinal,
        "start": p.start,
        "end": p.end,
        "start_line": p.start_line,
        "end_line": p.end_line,
        "page": p.page,
        "end_page": p.end_page,
        "section": list(p.section),
        "text": p.text,
        "sentences": spans,
    }


def entry_from_index(index: Index, rel: str) -> DocEntry:
    """An unchanged document, copied from the previous version without embedding anything."""
    info = index.documents[rel]
    first, count = info.passages
    sfirst, _ = info.sentences
    records = []
    for row in range(first, first + count):
        spans = [[s, e, r - sfirst] for s, e, r in index.passage_sentences(row)]
        records.append(_record(rel, index.passages[row], spans))
    return DocEntry(
        info=info,
        records=tuple(records),
        vectors=np.array(index.vector_store.vectors_of(rel), dtype=np.float32),
        sentence_vectors=np.array(index.sentence_store.vectors_of(rel), dtype=np.float32),
    )


def entry_from_prepared(p: PreparedDoc, vectors: np.ndarray) -> DocEntry:
    """A fresh document with its vectors: passage rows first, then sentence rows."""
    n = len(p.passage_texts)
    return DocEntry(info=p.info, records=p.records, vectors=vectors[:n], sentence_vectors=vectors[n:])


def _fit(block: np.ndarray, dim: int) -> np.ndarray:
    """An empty block (a document without passages) takes the index's width."""
    return np.zeros((0, dim), np.float32) if block.shape[0] == 0 else block


def write_version(
    tmp_dir: Path,
    entries: Sequence[DocEntry],
    *,
    embedder_id: str,
    dim: int,
    chunking: ChunkSettings,
    ann: bool = False,
) -> Manifest:
    """Write a complete version into ``tmp_dir`` (which must exist) and flush it to disk.

    With ``ann``, an HNSW graph over the passage vectors is written too (needs ``usearch``).
    """
    passages = NumpyVectorStore(dim)
    sentences = NumpyVectorStore(dim)
    documents: dict[str, DocInfo] = {}
    lines: list[str] = []
    tokens: list[list[str]] = []
    for entry in sorted(entries, key=lambda e: e.info.path):
        rel = entry.info.path
        first = passages.add(rel, _fit(entry.vectors, dim))
        sfirst = sentences.add(rel, _fit(entry.sentence_vectors, dim))
        for record in entry.records:
            spans = [[s, e, sfirst + r] for s, e, r in record["sentences"]]
            lines.append(json.dumps({**record, "sentences": spans}, ensure_ascii=False))
            tokens.append(tokenize(passage_text(entry.info.title, record["section"], record["text"])))
        documents[rel] = replace(
            entry.info,
            passages=(first, len(entry.records)),
            sentences=(sfirst, int(entry.sentence_vectors.shape[0])),
        )
    encoded = [(line + "\n").encode("utf-8") for line in lines]
    data = b"".join(encoded)
    with open_private(tmp_dir / PASSAGES) as f:
        f.write(data)
    with open_private(tmp_dir / PASSAGE_OFFSETS) as f:
        np.save(f, line_offsets(encoded), allow_pickle=False)
    passages.save(tmp_dir / VECTORS)
    if ann:
        from embeddings.ann import UsearchVectorStore

        UsearchVectorStore.build(passages.matrix).save(tmp_dir / ANN_GRAPH)
        os.chmod(tmp_dir / ANN_GRAPH, 0o600)
    sentences.save(tmp_dir / SENTENCE_VECTORS)
    LexicalIndex.build(tokens).save(tmp_dir / LEXICAL_DIR)
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        embedder_id=embedder_id,
        dim=dim,
        chunking=chunking,
        vector_dtype="float32",
        tokenizer=TOKENIZER_VERSION,
        embedding_text=EMBEDDING_TEXT_VERSION,
        counts={"documents": len(documents), "passages": len(lines), "sentences": len(sentences)},
        documents=documents,
        checksums={PASSAGES: checksum(data)},
        ann=ann,
    )
    with open_private(tmp_dir / MANIFEST, "w") as f:
        f.write(manifest_to_json(manifest))
    finalise_tree(tmp_dir)
    return manifest
