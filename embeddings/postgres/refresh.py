"""``refresh_database``: the PostgreSQL store's ``kotae index``, with the embedded store's rules.

Under an advisory lock (held by this session: a killed refresh releases it): undo a crashed
refresh, plan, open the next generation and queue its documents, embed them (here, and in any
``kotae worker`` started elsewhere), then publish the generation in one transaction. Nothing
changed: nothing is written and the model is not loaded. A crash at any point leaves the serving
generation serving; the next refresh cleans up.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from embeddings.embedder import DefaultEmbedderFactory, Embedder
from embeddings.postgres.plan import abandon_building, make_plan, open_generation
from embeddings.postgres.publish import publish
from embeddings.postgres.records import recipe
from embeddings.postgres.schema import connect, ensure_schema, hnsw_index, lock_key, quoted
from embeddings.postgres.worker import work
from embeddings.report import RefreshReport
from knowledge.errors import DocumentError, IndexBusyError
from knowledge.passage import ChunkSettings

__all__ = ["embedder_for_recipe", "refresh_database"]


def refresh_database(
    docs_dir: str | Path,
    dsn: str,
    schema: str,
    *,
    model: str,
    chunking: ChunkSettings,
    full: bool = False,
    ann: bool = False,
    on_problem: Callable[[DocumentError], None] | None = None,
    embedder_factory: Any | None = None,
) -> RefreshReport:
    """Make ``schema`` in the database at ``dsn`` reflect ``docs_dir``.

    Raises :class:`IndexBusyError` when another refresh of the same schema is running.
    """
    started = time.perf_counter()
    factory = embedder_factory if embedder_factory is not None else DefaultEmbedderFactory()
    ensure_schema(dsn, schema)
    with connect(dsn) as conn:
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(schema),)).fetchone()[0]:
            raise IndexBusyError(
                f"Another `kotae index` is already refreshing the database index {schema}. Wait for it to "
                "finish, then run `kotae index` again if your documents changed since it started."
            )
        try:
            report = _Refresh(Path(docs_dir), dsn, schema, model, chunking, factory, on_problem, ann).run(conn, full)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(schema),))
    return dataclasses.replace(report, seconds=round(time.perf_counter() - started, 3))


def embedder_for_recipe(factory: Any) -> Callable[[Mapping[str, Any]], Embedder]:
    """A loader that gives a worker the model a generation's recipe names, loaded once."""
    loaded: dict[str, Embedder] = {}

    def embedder_for(r: Mapping[str, Any]) -> Embedder:
        model = str(r.get("model") or "")
        if model not in loaded:
            loaded[model] = factory(model)
        return loaded[model]

    return embedder_for


class _Refresh:
    def __init__(self, docs_dir: Path, dsn: str, schema: str, model: str, chunking: ChunkSettings, factory: Any,
                 on_problem: Callable[[DocumentError], None] | None, ann: bool) -> None:
        self.docs_dir, self.dsn, self.schema, self.model, self.chunking = docs_dir, dsn, schema, model, chunking
        self.factory, self.ann = factory, ann
        self.on_problem = on_problem or (lambda problem: None)
        ident = getattr(factory, "embedder_id", None)
        self._embedder: Embedder | None = None
        self.target_id: str = ident(model) if callable(ident) else self.embedder().id

    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self.factory(self.model)
        return self._embedder

    def run(self, conn: Any, full: bool) -> RefreshReport:
        abandon_building(conn, self.schema)
        target = {**recipe(self.target_id, 0, self.chunking), "model": self.model}
        plan = make_plan(conn, self.schema, self.docs_dir, target, full, self.on_problem)
        if plan.nothing_to_do:
            n_passages, n_sentences = _counts(conn, self.schema, plan.serving)
            return RefreshReport(unchanged=plan.unchanged, failed=plan.failed, passages_total=n_passages,
                                 sentences_total=n_sentences, version=str(plan.serving), nothing_changed=True)
        target["dim"] = self._dim(conn, plan.serving, plan.to_embed, plan.rebuild_reason)
        if self.ann:
            with conn.transaction():
                hnsw_index(conn, self.schema, target["dim"])
        gen = open_generation(conn, self.schema, plan, target)
        loaded = self._embedder
        embedder_for = (lambda r: loaded) if loaded is not None else embedder_for_recipe(self.factory)
        work(self.dsn, self.schema, self.docs_dir, embedder_for, gen=gen, wait=True)
        failed = _failed(conn, self.schema, gen)
        embedded = _embedded(conn, self.schema, gen)  # by this process and every other worker
        n_passages, n_sentences = publish(conn, self.schema, gen, plan.serving)
        for path, reason in failed:
            self.on_problem(DocumentError(path, reason))
        missing = {p for p, _ in failed}
        return RefreshReport(
            added=[p for p in plan.added if p not in missing],
            changed=[p for p in plan.changed if p not in missing],
            removed=plan.removed,
            unchanged=[p for p in plan.unchanged if p not in missing],
            failed=sorted(plan.failed + failed),
            passages_embedded=embedded[0],
            sentences_embedded=embedded[1],
            passages_total=n_passages,
            sentences_total=n_sentences,
            rebuilt_reason=plan.rebuild_reason,
            version=str(gen),
        )

    def _dim(self, conn: Any, serving: int | None, to_embed: list[str], rebuild: str | None) -> int:
        if not to_embed and serving is not None and not rebuild:
            s = quoted(self.schema)
            row = conn.execute(f"SELECT recipe->>'dim' FROM {s}.generations WHERE gen = %s", (serving,)).fetchone()
            return int(row[0])
        return int(self.embedder().dim)


def _counts(conn: Any, schema: str, gen: int | None) -> tuple[int, int]:
    s = quoted(schema)
    row = conn.execute(f"SELECT passages, sentences FROM {s}.generations WHERE gen = %s", (gen,)).fetchone()
    return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)


def _embedded(conn: Any, schema: str, gen: int) -> tuple[int, int]:
    """Passages and sentences embedded for generation ``gen``, whichever worker embedded them."""
    s = quoted(schema)
    row = conn.execute(
        f"SELECT (SELECT count(*) FROM {s}.passages p JOIN {s}.documents d ON d.id = p.doc WHERE d.born = %s), "
        f"(SELECT count(*) FROM {s}.sentences t JOIN {s}.documents d ON d.id = t.doc WHERE d.born = %s)",
        (gen, gen),
    ).fetchone()
    return int(row[0]), int(row[1])


def _failed(conn: Any, schema: str, gen: int) -> list[tuple[str, str]]:
    s = quoted(schema)
    rows = conn.execute(f"SELECT path, detail FROM {s}.queue WHERE gen = %s AND state = 'failed' ORDER BY path",
                        (gen,)).fetchall()
    return [(str(p), str(d)) for p, d in rows]
