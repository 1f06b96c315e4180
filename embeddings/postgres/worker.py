"""Refresh workers: take a changed document from the queue, read, chunk and embed it, and write
it — all in that document's transaction.

Any number of workers on any number of machines (each with the documents folder at hand) run
:func:`work` against the same database. A job is taken with ``FOR UPDATE SKIP LOCKED``, so no two
workers embed the same document; a worker that dies (even ``kill -9``) has its transaction rolled
back by the server and its job goes back to the queue. Every worker first takes a share lock on the
generation row, so a refresh that abandons a generation waits for the workers still writing into it.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.batching import Progress, embed_into
from embeddings.embedder import Embedder
from embeddings.postgres.records import info_json
from embeddings.postgres.schema import connect, quoted
from embeddings.refresh import _meta_dict
from embeddings.writer import Spool, SpooledDoc, prepare_document
from knowledge.chunking import iter_passages
from knowledge.errors import DocumentError, EmbedderError
from knowledge.passage import ChunkSettings

__all__ = ["Job", "WorkResult", "take_and_embed", "work"]


@dataclass(frozen=True)
class Job:
    gen: int
    path: str
    recipe: Mapping[str, Any]
    rebuild: bool


@dataclass(frozen=True)
class WorkResult:
    done: int = 0
    failed: int = 0
    passages: int = 0
    sentences: int = 0


class _Documents:
    """The documents folder as a worker sees it: sources and metadata, listed once per generation."""

    def __init__(self, docs_dir: Path) -> None:
        import knowledge

        self.docs_dir = docs_dir
        self.sources = {s.rel: s for s in knowledge.discover(docs_dir)}
        self.metas = knowledge.load_metadata(docs_dir)


def work(
    dsn: str,
    schema: str,
    docs_dir: Path,
    embedder_for: Callable[[Mapping[str, Any]], Embedder],
    *,
    gen: int | None = None,
    wait: bool = False,
    poll_seconds: float = 0.2,
) -> WorkResult:
    """Embed queued documents until the queue is empty; ``gen`` limits it to one generation.

    With ``wait``, it keeps polling while jobs are still held by other workers (one of them may
    die and free its job), returning when none is left to do.
    """
    done = failed = passages = sentences = 0
    seen: dict[int, _Documents] = {}
    worker = f"{socket.gethostname()}:{os.getpid()}"
    with connect(dsn) as conn:
        while True:
            outcome = take_and_embed(conn, schema, docs_dir, embedder_for, seen, worker, gen)
            if outcome is None:
                if wait and _todo(conn, schema, gen):
                    time.sleep(poll_seconds)
                    continue
                return WorkResult(done, failed, passages, sentences)
            ok, n_passages, n_sentences = outcome
            done += ok
            failed += not ok
            passages += n_passages
            sentences += n_sentences


def _todo(conn: Any, schema: str, gen: int | None) -> bool:
    s = quoted(schema)
    row = conn.execute(
        f"SELECT count(*) FROM {s}.queue q JOIN {s}.generations g USING (gen) "
        f"WHERE q.state = 'todo' AND g.state = 'building' AND (%s::bigint IS NULL OR q.gen = %s)",
        (gen, gen),
    ).fetchone()
    return bool(row[0])


def take_and_embed(
    conn: Any,
    schema: str,
    docs_dir: Path,
    embedder_for: Callable[[Mapping[str, Any]], Embedder],
    seen: dict[int, _Documents],
    worker: str,
    gen: int | None = None,
) -> tuple[bool, int, int] | None:
    """One job, in one transaction: ``(embedded, passages, sentences)``; None when none is free."""
    s = quoted(schema)
    with conn.transaction():
        row = conn.execute(
            f"SELECT q.gen, q.path, g.recipe, g.rebuild FROM {s}.queue q JOIN {s}.generations g USING (gen) "
            f"WHERE q.state = 'todo' AND g.state = 'building' AND (%s::bigint IS NULL OR q.gen = %s) "
            f"ORDER BY q.gen, q.path LIMIT 1 FOR SHARE OF g FOR UPDATE OF q SKIP LOCKED",
            (gen, gen),
        ).fetchone()
        if row is None:
            return None
        job = Job(int(row[0]), str(row[1]), row[2], bool(row[3]))
        docs = seen.get(job.gen)
        if docs is None:
            docs = seen[job.gen] = _Documents(docs_dir)
        try:
            n_passages, n_sentences = _embed_document(conn, s, job, docs, embedder_for(job.recipe))
        except DocumentError as exc:
            _give_up(conn, s, job, exc.reason, worker)
            return False, 0, 0
        conn.execute(f"UPDATE {s}.queue SET state = 'done', worker = %s WHERE gen = %s AND path = %s",
                     (worker, job.gen, job.path))
        return True, n_passages, n_sentences


def _give_up(conn: Any, s: str, job: Job, reason: str, worker: str) -> None:
    """A document that cannot be read: its previous version is kept (not on a full rebuild, whose
    model differs), as the embedded store keeps it; the refresh reports it as failed."""
    if not job.rebuild:
        conn.execute(f"UPDATE {s}.documents SET died = NULL WHERE path = %s AND died = %s", (job.path, job.gen))
    conn.execute(f"UPDATE {s}.queue SET state = 'failed', detail = %s, worker = %s WHERE gen = %s AND path = %s",
                 (reason, worker, job.gen, job.path))


def _embed_document(conn: Any, s: str, job: Job, docs: _Documents, embedder: Embedder) -> tuple[int, int]:
    from psycopg.types.json import Jsonb

    import knowledge

    source = docs.sources.get(job.path)
    if source is None:
        raise DocumentError(job.path, "the file disappeared before it was read; run the refresh again")
    if embedder.id != job.recipe["embedder_id"]:
        raise EmbedderError(f"This worker's model is {embedder.id}, but the refresh embeds with "
                            f"{job.recipe['embedder_id']}. Give every worker the same KOTAE_MODEL.")
    chunk = job.recipe["chunking"]
    chunking = ChunkSettings(int(chunk["max_chars"]), int(chunk["overlap_chars"]))
    meta = docs.metas.get(job.path)
    source_meta = _meta_dict(meta)
    with tempfile.TemporaryDirectory(prefix="kotae-worker-") as folder:
        spool = Spool(Path(folder))
        try:
            doc = knowledge.read_document(source, meta=meta)
            spooled = prepare_document(spool, job.path, doc, source_meta, iter_passages(doc, chunking),
                                       knowledge.split_sentences)
            vectors = _embed(embedder, spool, spooled)
            _write(conn, s, job, spool, spooled, vectors, Jsonb)
        finally:
            spool.close()
    return spooled.passages, spooled.sentences


def _embed(embedder: Embedder, spool: Spool, doc: SpooledDoc) -> np.ndarray:
    """Every text of ``doc`` (passages, then sentences) embedded, in that order."""
    out = np.zeros((doc.texts, embedder.dim), dtype=np.float32)

    def store(rows: np.ndarray, batch: np.ndarray) -> None:
        out[rows] = batch

    embed_into(embedder, spool.lengths(), spool.texts, store, Progress(doc.texts, enabled=False))
    return out


def _write(conn: Any, s: str, job: Job, spool: Spool, doc: SpooledDoc, vectors: np.ndarray, jsonb: Any) -> None:
    dim = int(vectors.shape[1])
    doc_id = conn.execute(
        f"INSERT INTO {s}.documents (path, sha256, info, born) VALUES (%s, %s, %s, %s) RETURNING id",
        (job.path, doc.info.sha256, jsonb(info_json(doc.info)), job.gen),
    ).fetchone()[0]
    ids = [r[0] for r in conn.execute(
        f"SELECT nextval('{s[1:-1]}.sentence_ids') FROM generate_series(1, %s)", (doc.sentences,)
    ).fetchall()] if doc.sentences else []
    with conn.cursor() as cur, cur.copy(
        f"COPY {s}.sentences (id, doc, embedding) FROM STDIN WITH (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["int8", "int8", "vector"])
        for local, sid in enumerate(ids):
            copy.write_row((sid, doc_id, vectors[doc.passages + local]))
    with conn.cursor() as cur, cur.copy(
        f"COPY {s}.passages (doc, ordinal, record, dim, embedding) FROM STDIN WITH (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["int8", "int4", "jsonb", "int4", "vector"])
        for i, record in enumerate(spool.records(doc)):
            record["sentences"] = [[st, en, ids[r]] for st, en, r in record["sentences"]]
            copy.write_row((doc_id, int(record["ordinal"]), jsonb(record), dim, vectors[i]))

