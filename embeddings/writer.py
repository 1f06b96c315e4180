"""Putting an index version together from per-document pieces, and writing its files.

A refresh never holds a whole document's passages, texts or vectors as Python objects, so that
one very large file is indexed in memory bounded by a passage, not by the file:

* each document read is cut into passages one at a time (:func:`prepare_document`); its passage
  records and the texts to embed go to scratch files (:class:`Spool`), with a few integers per
  text kept in memory (where the text is, how long it is);
* vectors are written, as each batch comes back from the model, to two scratch ``.npy``
  matrices on disk in their final row order (:class:`VectorFile`); an unchanged document's
  vectors are copied there from the previous version;
* :func:`write_version` lays the documents out in path order (:class:`DocPart`): it streams
  ``passages.jsonl`` and its line offsets, tokenising each passage for BM25 on the way (word
  numbers, not strings: :class:`~embeddings.lexical.LexicalBuilder`), writes the two vector
  files from the memory-mapped scratch matrices, the BM25 files and, last, ``manifest.json``,
  all into a ``.tmp`` directory.

The scratch files live in a private ``versions/<id>.work.tmp`` folder (:class:`Scratch`), removed
at the end of the refresh, or by the next one after a crash. The files of a version are the same,
byte for byte, as when everything was held in memory.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zlib
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from embeddings.batching import Progress
from embeddings.glossary import build_glossary, save_glossary
from embeddings.index import Index
from embeddings.layout import (
    ANN_GRAPH,
    LEXICAL_DIR,
    MANIFEST,
    PASSAGE_OFFSETS,
    PASSAGES,
    SENTENCE_VECTORS,
    TMP_SUFFIX,
    VECTORS,
    VERSIONS,
    create_private,
    finalise_tree,
    new_version_id,
    open_private,
)
from embeddings.lexical import LexicalBuilder
from embeddings.manifest import FORMAT_VERSION, DocInfo, Manifest, SkippedFile, corrupt, manifest_to_json
from embeddings.passage_table import crc_label
from embeddings.texts import EMBEDDING_TEXT_VERSION, passage_text, sentence_text
from embeddings.tokenizer import TOKENIZER_VERSION, tokenize
from embeddings.vector_store import NumpyVectorStore
from knowledge.document import Document
from knowledge.passage import ChunkSettings, Passage

__all__ = [
    "DocPart",
    "Scratch",
    "Spool",
    "SpooledDoc",
    "VectorFile",
    "copied_part",
    "prepare_document",
    "spooled_part",
    "write_version",
]

Record = dict[str, Any]  # one line of passages.jsonl; sentence rows local to the document
_TextNumbers = tuple["array[int]", "array[int]", "array[int]"]  # where texts are: offsets, sizes, lengths

_WRITE_CHUNK = 1 << 20  # bytes of passages.jsonl gathered before each write
_COPY_ROWS = 4096  # vector rows copied at a time from the previous version
PROGRESS_MIN_PASSAGES = 10_000  # a version this large shows a bar while its words are indexed


# -- scratch space -----------------------------------------------------------------------------


class Scratch:
    """A private folder for one refresh's scratch files, beside the versions it is making.

    Its name ends in ``.tmp``: a crash leaves it to :func:`~embeddings.layout.clean_leftovers`.
    """

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / VERSIONS / (new_version_id() + ".work" + TMP_SUFFIX)
        self.path.mkdir(mode=0o700)
        self._open: list[Spool | VectorFile] = []

    def spool(self) -> Spool:
        spool = Spool(self.path)
        self._open.append(spool)
        return spool

    def vectors(self, name: str, rows: int, dim: int) -> VectorFile:
        file = VectorFile(self.path / name, rows, dim)
        self._open.append(file)
        return file

    def remove(self) -> None:
        for item in self._open:
            item.close()
        shutil.rmtree(self.path, ignore_errors=True)


@dataclass(frozen=True, eq=False)
class SpooledDoc:
    """A read and chunked document whose records and texts wait in a :class:`Spool`.

    Its texts are numbered ``first_text ..``: its passages in order, then its sentences.
    """

    info: DocInfo
    passages: int
    sentences: int
    first_text: int
    records_at: int  # byte offset of its first record in the spool's records file

    @property
    def texts(self) -> int:
        return self.passages + self.sentences


class Spool:
    """Scratch files for the documents a refresh reads: passage records and texts to embed.

    ``records.jsonl`` holds each passage's record, one JSON line each; ``texts.bin`` every text
    to embed, UTF-8, in the order they were made. In memory: three integers per text (where it
    is, its size, its length in characters), numbered as :class:`SpooledDoc` says.
    """

    def __init__(self, folder: Path) -> None:
        self._records_path = folder / "records.jsonl"
        self._records = create_private(self._records_path, "w+b")
        self._texts = create_private(folder / "texts.bin", "w+b")
        self._records_size = 0
        self._texts_size = 0
        self._text_at = array("q")
        self._text_bytes = array("q")
        self._text_chars = array("q")
        self._reading = False

    def __len__(self) -> int:
        """How many texts are waiting to be embedded."""
        return len(self._text_chars)

    # -- filling (by prepare_document) ------------------------------------------------------
    def mark(self) -> tuple[int, int, int]:
        """Where the spool stands: what :meth:`rollback` returns to."""
        return self._records_size, self._texts_size, len(self)

    def write_text(self, text: str, into: _TextNumbers) -> None:
        """Append ``text`` to the texts file; where it is goes to ``into`` (not numbered yet)."""
        if self._reading:
            raise RuntimeError("the spool is being read back; nothing can be added")
        data = text.encode("utf-8", "surrogatepass")
        self._texts.write(data)
        at, size, chars = into
        at.append(self._texts_size)
        size.append(len(data))
        chars.append(len(text))
        self._texts_size += len(data)

    def number(self, *groups: _TextNumbers) -> None:
        """Number the texts of ``groups`` in that order, after those numbered already."""
        for group in groups:
            for numbers, mine in zip((self._text_at, self._text_bytes, self._text_chars), group, strict=True):
                numbers.extend(mine)

    def write_record(self, record: Record) -> None:
        data = json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n"
        self._records.write(data)
        self._records_size += len(data)

    def rollback(self, mark: tuple[int, int, int]) -> None:
        """Forget everything written since ``mark`` (a document that failed half-way)."""
        records_size, texts_size, texts = mark
        for f, size in ((self._records, records_size), (self._texts, texts_size)):
            f.flush()
            f.seek(size)
            f.truncate()
        self._records_size, self._texts_size = records_size, texts_size
        for numbers in (self._text_at, self._text_bytes, self._text_chars):
            del numbers[texts:]

    # -- reading back ------------------------------------------------------------------------
    def _finish(self) -> None:
        if not self._reading:
            self._records.flush()
            self._texts.flush()
            self._reading = True

    def lengths(self) -> np.ndarray:
        """Length in characters of every text, by text number."""
        return np.array(self._text_chars, dtype=np.int64)

    def texts(self, numbers: Sequence[int]) -> list[str]:
        self._finish()
        fd = self._texts.fileno()
        return [
            os.pread(fd, self._text_bytes[i], self._text_at[i]).decode("utf-8", "surrogatepass") for i in numbers
        ]

    def records(self, doc: SpooledDoc) -> Iterator[Record]:
        """``doc``'s passage records, in order (read when asked for)."""
        self._finish()
        with open(self._records_path, "rb") as f:
            f.seek(doc.records_at)
            for _ in range(doc.passages):
                yield json.loads(f.readline())

    def close(self) -> None:
        self._records.close()
        self._texts.close()


def prepare_document(
    spool: Spool,
    rel: str,
    doc: Document,
    source_meta: Mapping[str, str],
    chunks: Iterable[Passage],
    split_sentences: Callable[..., Iterable[tuple[int, int]]],
    progress: Progress | None = None,
) -> SpooledDoc:
    """Spool the records and texts of a fresh document, one passage at a time.

    Identical sentence spans (overlapping passages share sentences) are embedded once: a span is
    remembered while later passages can still hold it, that is until a passage starts after its
    end (passages start in document order). On any error nothing of ``doc`` stays in the spool.
    ``progress`` counts the characters of ``doc`` done.
    """
    mark = spool.mark()
    records_at, _, first_text = mark
    passages: _TextNumbers = (array("q"), array("q"), array("q"))
    sentences: _TextNumbers = (array("q"), array("q"), array("q"))
    try:
        rows: dict[tuple[int, int], int] = {}
        remembered: deque[tuple[int, int]] = deque()
        count = done = 0
        for p in chunks:
            while remembered and remembered[0][1] <= p.start:
                del rows[remembered.popleft()]
            spans = []
            context = p.section[-1] if p.section else doc.title
            for start, end in split_sentences(doc.text, p.start, p.end):
                row = rows.get((start, end))
                if row is None:
                    text = sentence_text(doc.text[start:end], context)
                    if not text:
                        continue
                    row = rows[start, end] = len(sentences[0])
                    remembered.append((start, end))
                    spool.write_text(text, sentences)
                spans.append([start, end, row])
            spool.write_record(_record(rel, p, spans))
            spool.write_text(passage_text(doc.title, p.section, p.text), passages)
            count += 1
            if progress is not None and p.end > done:
                progress.advance(p.end - done)
                done = p.end
    except BaseException:
        spool.rollback(mark)
        raise
    if progress is not None:
        progress.advance(len(doc.text) - done)
    spool.number(passages, sentences)
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
    return SpooledDoc(info, count, len(sentences[0]), first_text, records_at)


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
        "places": [[offset, name] for offset, name in p.places],
        "section": list(p.section),
        "text": p.text,
        "sentences": spans,
    }


# -- vectors on disk ---------------------------------------------------------------------------


class VectorFile:
    """A ``rows × dim`` float32 ``.npy`` matrix on disk, filled a block or a row at a time.

    Written with ``pwrite``, not through a memory map, so that the rows written do not count
    as this process's memory; read back memory-mapped (:meth:`store`).
    """

    def __init__(self, path: Path, rows: int, dim: int) -> None:
        self.path, self.rows, self.dim = path, int(rows), int(dim)
        self._file = create_private(path, "wb")
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False,
                  "shape": (self.rows, self.dim)}
        np.lib.format.write_array_header_1_0(self._file, header)
        self._file.flush()
        self._data_at = self._file.tell()
        self._row_bytes = self.dim * 4
        self._file.truncate(self._data_at + self.rows * self._row_bytes)

    def write(self, first: int, vectors: np.ndarray) -> None:
        """Rows ``first ..`` become ``vectors``."""
        block = np.ascontiguousarray(vectors, dtype=np.float32)
        if block.ndim != 2 or block.shape[1] != self.dim or not 0 <= first <= self.rows - block.shape[0]:
            raise ValueError(f"rows {first}+{block.shape} do not fit a {self.rows}×{self.dim} matrix")
        if block.size:
            os.pwrite(self._file.fileno(), block.tobytes(), self._data_at + first * self._row_bytes)

    def write_rows(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Row ``rows[i]`` becomes ``vectors[i]``, for each ``i``."""
        for row, vector in zip(rows.tolist(), vectors, strict=True):
            self.write(row, vector.reshape(1, -1))

    def copy_from(self, first: int, source: np.ndarray) -> None:
        """Rows ``first ..`` become the rows of ``source`` (a memory-mapped matrix), a block at a time."""
        for at in range(0, int(source.shape[0]), _COPY_ROWS):
            self.write(first + at, np.asarray(source[at : at + _COPY_ROWS], dtype=np.float32))

    def store(self, ranges: Mapping[str, tuple[int, int]]) -> NumpyVectorStore:
        """The finished matrix, memory-mapped, with each document's ``(first_row, count)``."""
        self._file.flush()
        return NumpyVectorStore.load(self.path, ranges)

    def close(self) -> None:
        self._file.close()


# -- one version -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DocPart:
    """One document's share of the version being written: its entry with the rows it occupies,
    and its passage records in order, sentence rows local to the document."""

    info: DocInfo
    records: Callable[[], Iterator[Record]]


def spooled_part(spool: Spool, doc: SpooledDoc, first: int, sfirst: int) -> DocPart:
    info = replace(doc.info, passages=(first, doc.passages), sentences=(sfirst, doc.sentences))
    return DocPart(info, lambda: spool.records(doc))


def copied_part(index: Index, rel: str, first: int, sfirst: int) -> DocPart:
    """An unchanged document of the previous version ``index``, moved to rows ``first``/``sfirst``."""
    old = index.documents[rel]
    info = replace(old, passages=(first, old.passages[1]), sentences=(sfirst, old.sentences[1]))
    return DocPart(info, lambda: _previous_records(index, old))


def _previous_records(index: Index, info: DocInfo) -> Iterator[Record]:
    """The records of ``info``'s passages in the previous version, read one at a time, with their
    sentence rows made local to the document again."""
    first, count = info.passages
    sfirst, scount = info.sentences
    for row, d in enumerate(index.passage_records(first, count), start=first):
        try:
            if d["doc"] != info.path:
                raise ValueError(f"passage {row} belongs to {d['doc']!r}, not {info.path!r}")
            spans = [[int(s), int(e), int(r) - sfirst] for s, e, r in d["sentences"]]
            if any(not 0 <= r < scount for *_, r in spans):
                raise ValueError(f"passage {row} names sentence rows outside its document")
        except (KeyError, TypeError, ValueError) as exc:
            raise corrupt(index.version_dir, f"{PASSAGES} is inconsistent ({type(exc).__name__}: {exc})") from None
        d["sentences"] = spans
        yield d


def write_version(
    tmp_dir: Path,
    parts: Sequence[DocPart],
    vectors: NumpyVectorStore,
    sentence_vectors: NumpyVectorStore,
    *,
    embedder_id: str,
    dim: int,
    chunking: ChunkSettings,
    ann: bool = False,
    progress: bool = False,
    skipped: Mapping[str, SkippedFile] | None = None,
) -> Manifest:
    """Write a complete version into ``tmp_dir`` (which must exist) and flush it to disk.

    ``parts`` are in path order with consecutive rows; ``vectors``/``sentence_vectors`` hold
    every row already (memory-mapped). With ``ann``, an HNSW graph over the passage vectors is
    written too (needs ``usearch``). With ``progress``, tokenising the passages of a large
    version shows a bar. ``skipped`` lists the files of the folder left out, for the manifest.
    """
    total = sum(part.info.passages[1] for part in parts)
    bar = Progress(total, enabled=progress and total >= PROGRESS_MIN_PASSAGES, desc="Indexing words",
                   unit="passage")
    try:
        return _write_version(tmp_dir, parts, vectors, sentence_vectors, bar, embedder_id=embedder_id, dim=dim,
                              chunking=chunking, ann=ann, skipped=skipped or {})
    finally:
        bar.close()


def _write_version(
    tmp_dir: Path,
    parts: Sequence[DocPart],
    vectors: NumpyVectorStore,
    sentence_vectors: NumpyVectorStore,
    bar: Progress,
    *,
    embedder_id: str,
    dim: int,
    chunking: ChunkSettings,
    ann: bool,
    skipped: Mapping[str, SkippedFile],
) -> Manifest:
    documents: dict[str, DocInfo] = {}
    words = LexicalBuilder()
    line_ends = array("q")
    crc = 0
    with open_private(tmp_dir / PASSAGES) as f:
        pending: list[bytes] = []
        pending_size = size = 0
        for part in parts:
            info = part.info
            sfirst = info.sentences[0]
            for record in part.records():
                record["sentences"] = [[s, e, sfirst + r] for s, e, r in record["sentences"]]
                line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
                size += len(line)
                line_ends.append(size)
                pending.append(line)
                pending_size += len(line)
                words.add(tokenize(passage_text(info.title, record["section"], record["text"])))
                bar.advance(1)
                if pending_size >= _WRITE_CHUNK:
                    crc = _write_chunk(f, pending, crc)
                    pending, pending_size = [], 0
            documents[info.path] = info
        crc = _write_chunk(f, pending, crc)
    n_passages = len(line_ends)
    offsets = np.zeros(n_passages + 1, dtype=np.int64)
    offsets[1:] = line_ends
    del line_ends
    with open_private(tmp_dir / PASSAGE_OFFSETS) as f:
        np.save(f, offsets, allow_pickle=False)
    del offsets
    if n_passages != len(vectors):
        raise ValueError(f"{n_passages} passages but {len(vectors)} passage vectors")
    vectors.save(tmp_dir / VECTORS)
    if ann:
        from embeddings.ann import UsearchVectorStore

        UsearchVectorStore.build(vectors.matrix).save(tmp_dir / ANN_GRAPH)
        os.chmod(tmp_dir / ANN_GRAPH, 0o600)
    sentence_vectors.save(tmp_dir / SENTENCE_VECTORS)
    lexical = words.build()
    del words
    lexical.save(tmp_dir / LEXICAL_DIR)
    save_glossary(tmp_dir / LEXICAL_DIR, build_glossary(lexical.words()))
    del lexical
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        embedder_id=embedder_id,
        dim=dim,
        chunking=chunking,
        vector_dtype="float32",
        tokenizer=TOKENIZER_VERSION,
        embedding_text=EMBEDDING_TEXT_VERSION,
        counts={"documents": len(documents), "passages": n_passages, "sentences": len(sentence_vectors)},
        documents=documents,
        checksums={PASSAGES: crc_label(crc)},
        ann=ann,
        skipped=dict(skipped),
    )
    with open_private(tmp_dir / MANIFEST, "w") as f:
        f.write(manifest_to_json(manifest))
    finalise_tree(tmp_dir)
    return manifest


def _write_chunk(f: IO[bytes], lines: list[bytes], crc: int) -> int:
    """Write ``lines`` to ``f``; the CRC-32 of everything written so far."""
    if not lines:
        return crc
    data = b"".join(lines)
    f.write(data)
    return zlib.crc32(data, crc)
