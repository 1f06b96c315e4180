"""The tables of one PostgreSQL index (one schema per documents folder), and connecting.

Every refresh makes a *generation*. A document version (``documents``) is visible in
generation ``g`` when ``born <= g`` and it has not ``died`` by then; its passages and sentences
(with their pgvector vectors) hang off it and are shared by every generation that sees it, so
an unchanged document is never copied nor embedded again. ``meta.current`` names the generation
readers serve; a refresh switches it in one transaction. Dense search runs over every live row
of the schema and the reader keeps only the rows of its generation (old rows are few: they are
pruned once no generation still being served can see them).
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from knowledge.errors import KotaeError

__all__ = [
    "DatabaseError",
    "connect",
    "ensure_schema",
    "hnsw_index",
    "lock_key",
    "quoted",
    "schema_exists",
    "visible",
]

SCHEMA_VERSION = 1


class DatabaseError(KotaeError):
    """The database cannot be reached or used (the message says what to do)."""


def quoted(schema: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        raise ValueError(f"not a plain schema name: {schema!r}")
    return f'"{schema}"'


def lock_key(schema: str) -> int:
    """The advisory lock a refresh of ``schema`` holds (in place of the embedded store's lock file)."""
    return zlib.crc32(f"kotae-refresh:{schema}".encode())


def visible(alias: str, gen: str) -> str:
    """SQL: document version ``alias`` is part of generation ``gen`` (a placeholder or column)."""
    return f"({alias}.born <= {gen} AND ({alias}.died IS NULL OR {alias}.died > {gen}))"


def connect(dsn: str, *, vectors: bool = True, **kwargs: Any) -> Any:
    """A psycopg connection (autocommit: every transaction is an explicit ``conn.transaction()``)
    with pgvector's types registered; :class:`DatabaseError` when the driver is missing or the
    server cannot be reached."""
    try:
        import psycopg
    except ImportError:
        raise DatabaseError(
            "KOTAE_DATABASE_URL is set but the PostgreSQL driver is not installed: "
            "pip install 'kotae[postgres]'."
        ) from None
    try:
        conn = psycopg.connect(dsn, autocommit=True, **kwargs)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"Cannot connect to the database in KOTAE_DATABASE_URL ({reason}).") from None
    if not vectors:
        return conn
    try:
        from pgvector.psycopg import register_vector

        register_vector(conn)
    except psycopg.ProgrammingError:
        conn.close()
        raise DatabaseError(
            "The database has no pgvector extension. Run `CREATE EXTENSION vector;` in it as a superuser "
            "(or let `kotae index` create it), then try again."
        ) from None
    return conn


def schema_exists(conn: Any, schema: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'meta'", (schema,)
    ).fetchone()
    return row is not None


def ensure_schema(dsn: str, schema: str) -> None:
    """Create the pgvector extension and ``schema``'s tables when missing (idempotent)."""
    import psycopg

    s = quoted(schema)
    with connect(dsn, vectors=False) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (lock_key("kotae-schema"),))
        try:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except psycopg.Error as exc:
                raise DatabaseError(
                    f"The database cannot use pgvector ({str(exc).strip().splitlines()[0]}). Install pgvector on "
                    "the server and run `CREATE EXTENSION vector;` in the database as a superuser."
                ) from None
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
            for statement in _tables(s):
                conn.execute(statement)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key("kotae-schema"),))


def hnsw_index(conn: Any, schema: str, dim: int) -> None:
    """The HNSW (cosine) index over passage vectors of ``dim`` dimensions (vectors are stored
    without a fixed size, so that a model change can rebuild beside the old generation)."""
    s = quoted(schema)
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS passages_hnsw_{int(dim)} ON {s}.passages "
        f"USING hnsw ((embedding::vector({int(dim)})) vector_cosine_ops) WHERE dim = {int(dim)}"
    )


def _tables(s: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {s}.meta (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            schema_version int NOT NULL,
            current bigint)""",
        f"INSERT INTO {s}.meta (schema_version) VALUES ({SCHEMA_VERSION}) ON CONFLICT DO NOTHING",
        f"""CREATE TABLE IF NOT EXISTS {s}.generations (
            gen bigserial PRIMARY KEY,
            state text NOT NULL DEFAULT 'building' CHECK (state IN ('building', 'ready', 'abandoned')),
            base bigint,
            recipe jsonb NOT NULL,
            rebuild boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            published_at timestamptz,
            passages bigint,
            sentences bigint,
            lexical bytea)""",
        f"""CREATE TABLE IF NOT EXISTS {s}.documents (
            id bigserial PRIMARY KEY,
            path text NOT NULL,
            sha256 text NOT NULL,
            info jsonb NOT NULL,
            born bigint NOT NULL,
            died bigint)""",
        f"CREATE INDEX IF NOT EXISTS documents_path ON {s}.documents (path, born)",
        f"""CREATE TABLE IF NOT EXISTS {s}.passages (
            id bigserial PRIMARY KEY,
            doc bigint NOT NULL REFERENCES {s}.documents (id) ON DELETE CASCADE,
            ordinal int NOT NULL,
            record jsonb NOT NULL,
            dim int NOT NULL,
            embedding vector NOT NULL)""",
        f"CREATE INDEX IF NOT EXISTS passages_doc ON {s}.passages (doc, ordinal)",
        f"""CREATE TABLE IF NOT EXISTS {s}.sentences (
            id bigint PRIMARY KEY,
            doc bigint NOT NULL REFERENCES {s}.documents (id) ON DELETE CASCADE,
            embedding vector NOT NULL)""",
        f"CREATE INDEX IF NOT EXISTS sentences_doc ON {s}.sentences (doc)",
        f"CREATE SEQUENCE IF NOT EXISTS {s}.sentence_ids",
        f"""CREATE TABLE IF NOT EXISTS {s}.queue (
            gen bigint NOT NULL REFERENCES {s}.generations (gen) ON DELETE CASCADE,
            path text NOT NULL,
            state text NOT NULL DEFAULT 'todo' CHECK (state IN ('todo', 'done', 'failed')),
            detail text,
            worker text,
            PRIMARY KEY (gen, path))""",
    ]
