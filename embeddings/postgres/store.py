"""Serving from PostgreSQL: one generation, read through the same interface as an embedded index.

:func:`open_database_index` reads the serving generation in one snapshot: its passage ids in row
order (path, then passage order — as in the embedded store), its documents and its BM25 files.
Passages, passage vectors and sentence vectors are fetched by id when asked for and cached;
dense search runs in the database (exact, or through the HNSW index with ``ann``) and keeps only
rows of this generation. Works the same against a primary or a hot standby.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from embeddings.lexical import LexicalIndex
from embeddings.manifest import DocInfo, incompatibility
from embeddings.postgres.publish import generation_rows, unpack_lexical
from embeddings.postgres.records import doc_info, passage_of, recipe_manifest, spans_of
from embeddings.postgres.schema import DatabaseError, connect, quoted, schema_exists, visible
from embeddings.texts import EMBEDDING_TEXT_VERSION
from embeddings.tokenizer import TOKENIZER_VERSION
from knowledge.errors import IndexMismatchError, IndexMissingError
from knowledge.passage import Passage

__all__ = ["DatabaseIndex", "current_generation", "open_database_index"]

_CACHE_ROWS = 1 << 16


def current_generation(dsn: str, schema: str) -> str | None:
    """The generation readers should serve now (as a version string), or None."""
    with connect(dsn) as conn:
        if not schema_exists(conn, schema):
            return None
        row = conn.execute(f"SELECT current FROM {quoted(schema)}.meta").fetchone()
    return None if row is None or row[0] is None else str(row[0])


def open_database_index(dsn: str, schema: str, expect_embedder_id: str | None = None, *,
                        ann: bool = False) -> DatabaseIndex:
    conn = connect(dsn)
    try:
        if ann:  # more candidates than the 40 by default, and more again when rows are filtered out
            conn.execute("SET hnsw.ef_search = 100")
            conn.execute("SET hnsw.iterative_scan = relaxed_order")
        return _load(conn, schema, expect_embedder_id, ann)
    except BaseException:
        conn.close()
        raise


def _load(conn: Any, schema: str, expect_embedder_id: str | None, ann: bool) -> DatabaseIndex:
    s = quoted(schema)
    missing = IndexMissingError(f"No index in the database schema {schema} yet. Run `kotae index` to build it.")
    if not schema_exists(conn, schema):
        raise missing
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        row = conn.execute(
            f"SELECT g.gen, g.recipe, g.lexical, g.passages FROM {s}.meta m JOIN {s}.generations g ON g.gen = m.current"
        ).fetchone()
        if row is None:
            raise missing
        gen, recipe, lexical_tar, n_passages = int(row[0]), row[1], row[2], int(row[3])
        why = incompatibility(recipe_manifest(recipe), embedder_id=expect_embedder_id,
                              embedding_text=EMBEDDING_TEXT_VERSION, tokenizer=TOKENIZER_VERSION)
        if why:
            raise IndexMismatchError(f"The index in the database schema {schema} was {why}. "
                                     "Run `kotae index --full` to rebuild it.")
        ids = np.fromiter((r[0] for r in conn.execute(f"SELECT p.id {generation_rows(schema)}", (gen, gen))),
                          dtype=np.int64)
        docs = {
            str(info["path"]): doc_info(info, int(n))
            for info, n in conn.execute(
                f"SELECT d.info, (SELECT count(*) FROM {s}.passages p WHERE p.doc = d.id) FROM {s}.documents d "
                f"WHERE {visible('d', '%s')}", (gen, gen))
        }
    if len(ids) != n_passages:
        raise DatabaseError(f"generation {gen} of {schema} lists {len(ids)} passages, expected {n_passages}")
    folder = Path(tempfile.mkdtemp(prefix="kotae-bm25-"))
    unpack_lexical(bytes(lexical_tar), folder / "lexical")
    lexical = LexicalIndex.load(folder / "lexical", len(ids))
    index = DatabaseIndex(conn, schema, gen, int(recipe["dim"]), recipe, ids, docs, lexical, ann=ann)
    weakref.finalize(index, shutil.rmtree, folder, True)
    weakref.finalize(index, conn.close)
    return index


class DatabaseIndex:
    """One generation of a database index; read-only, safe to share between threads."""

    def __init__(self, conn: Any, schema: str, gen: int, dim: int, recipe: Mapping[str, Any], ids: np.ndarray,
                 documents: Mapping[str, DocInfo], lexical: LexicalIndex, *, ann: bool = False) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self.schema = schema
        self.generation = gen
        self.dim = dim
        self.embedder_id = str(recipe["embedder_id"])
        self._ids = ids
        self._order = np.argsort(ids, kind="stable")
        self._documents = documents
        self.lexical = lexical
        self.ann = ann
        self._records: dict[int, tuple[Passage, tuple[tuple[int, int, int], ...]]] = {}
        self.passages = _Passages(self)
        self.vectors = _Vectors(self, "passages", by_row=True)
        self.sentence_vectors = _Vectors(self, "sentences", by_row=False)

    # -- what it is ------------------------------------------------------------------------
    @property
    def version(self) -> str:
        return str(self.generation)

    @property
    def documents(self) -> Mapping[str, DocInfo]:
        return self._documents

    def __len__(self) -> int:
        return len(self._ids)

    def serving_generation(self) -> str | None:
        """The generation the database serves now (this one until a refresh lands), on this
        index's own connection: cheap enough to ask before every question."""
        row = self.query(f"SELECT current FROM {quoted(self.schema)}.meta")
        return None if not row or row[0][0] is None else str(row[0][0])

    def rows_of(self, ids: Sequence[int]) -> list[int | None]:
        """Row of each passage id, None for ids outside this generation."""
        if not len(self._ids):
            return [None] * len(ids)
        wanted = np.asarray(ids, dtype=np.int64)
        at = np.searchsorted(self._ids, wanted, sorter=self._order)
        at = np.minimum(at, len(self._ids) - 1)
        rows = self._order[at]
        return [int(r) if self._ids[r] == i else None for r, i in zip(rows, wanted, strict=True)]

    # -- database --------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def fetch(self, rows: Sequence[int]) -> None:
        """Bring the records of passage ``rows`` into the cache (one query)."""
        wanted = [int(r) for r in rows if int(r) not in self._records]
        if not wanted:
            return
        by_id = {int(self._ids[r]): r for r in wanted}
        found = self.query(f"SELECT id, record FROM {quoted(self.schema)}.passages WHERE id = ANY(%s)",
                           (list(by_id),))
        if len(found) != len(by_id):
            raise DatabaseError(
                f"passages of generation {self.generation} of {self.schema} were removed while it was served; "
                "the next question is answered from the newer generation."
            )
        if len(self._records) + len(found) > _CACHE_ROWS:
            self._records = {}
        for pid, record in found:
            self._records[by_id[int(pid)]] = (passage_of(record), spans_of(record))

    def row(self, i: int) -> tuple[Passage, tuple[tuple[int, int, int], ...]]:
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"passage row {i} out of range (the index has {len(self)})")
        found = self._records.get(i)
        if found is None:
            self.fetch([i])
            found = self._records[i]
        return found

    # -- search ----------------------------------------------------------------------------
    def passage_sentences(self, i: int) -> list[tuple[int, int, int]]:
        return list(self.row(i)[1])

    def search_dense(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top-``k`` by cosine, in the database; rows of other generations are skipped (the
        search asks for more until ``k`` rows of this generation are found or none is left)."""
        if k <= 0 or not len(self):
            return []
        q = np.asarray(qvec, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(q))
        q = q / norm if norm > 0 else q
        s, d = quoted(self.schema), int(self.dim)
        column = f"embedding::vector({d})" if self.ann else "embedding"
        limit = k + 16
        while True:
            found = self.query(
                f"SELECT id, {column} <=> %s AS distance, record FROM {s}.passages WHERE dim = {d} "
                f"ORDER BY {column} <=> %s LIMIT %s", (q, q, limit))
            rows = self.rows_of([r[0] for r in found])
            hits: list[tuple[int, float]] = []
            for row, (_, distance, record) in zip(rows, found, strict=True):
                if row is not None:
                    hits.append((row, 1.0 - float(distance)))
                    self._records.setdefault(row, (passage_of(record), spans_of(record)))
            if len(hits) >= k or len(found) < limit:
                hits.sort(key=lambda h: (-h[1], h[0]))
                return hits[:k]
            limit *= 4

    def search_lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        return self.lexical.search(query, k)

    def search_english(self, question: str, k: int) -> list[tuple[int, float]]:
        words = self.english_words(question)
        return self.lexical.search_tokens(words, k) if words else []

    def english_words(self, question: str) -> list[str]:
        return self.lexical.english_words(question)

    def document_frequency(self, token: str) -> int:
        return self.lexical.document_frequency(token)


class _Passages(Sequence[Passage]):
    def __init__(self, index: DatabaseIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return len(self._index)

    @overload
    def __getitem__(self, i: int) -> Passage: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[Passage]: ...

    def __getitem__(self, i: int | slice) -> Passage | Sequence[Passage]:
        if isinstance(i, slice):
            rows = range(*i.indices(len(self)))
            self._index.fetch(list(rows))
            return [self._index.row(j)[0] for j in rows]
        return self._index.row(i)[0]

    def __iter__(self) -> Iterator[Passage]:
        for at in range(0, len(self), 1000):
            yield from self[at : at + 1000]


class _Vectors:
    """``vectors[rows]``: passage vectors by row, or sentence vectors by sentence id, fetched."""

    def __init__(self, index: DatabaseIndex, table: str, *, by_row: bool) -> None:
        self._index, self._table, self._by_row = index, table, by_row

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self._index), self._index.dim) if self._by_row else (-1, self._index.dim)

    def __getitem__(self, rows: Any) -> np.ndarray:
        wanted = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        ids = self._index._ids[wanted] if self._by_row else wanted
        found = dict(self._index.query(
            f"SELECT id, embedding FROM {quoted(self._index.schema)}.{self._table} WHERE id = ANY(%s)",
            (ids.tolist(),)))
        if len(found) != len(set(ids.tolist())):
            raise DatabaseError(f"vectors of generation {self._index.generation} of {self._index.schema} are gone")
        out = np.stack([_array(found[int(i)]) for i in ids]) if len(ids) else \
            np.zeros((0, self._index.dim), dtype=np.float32)
        return out if np.ndim(rows) else out[0]


def _array(value: Any) -> np.ndarray:
    """A vector as pgvector's driver returns it (``Vector``, or a numpy array) as float32."""
    to_numpy = getattr(value, "to_numpy", None)
    return np.asarray(to_numpy() if callable(to_numpy) else value, dtype=np.float32)
