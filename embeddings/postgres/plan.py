"""The first half of a PostgreSQL refresh: what changed, and a new generation with its queue.

Under the refresh's advisory lock: abandon what a crashed refresh left (its generation is still
``building``: its rows are deleted and the documents it retired come back), hash every file,
compare with the serving generation, and — in one transaction — open the next generation,
queue the documents to (re-)embed and retire (``died``) those removed or changed, which readers
of the serving generation still see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embeddings.manifest import incompatibility
from embeddings.postgres.records import recipe_manifest
from embeddings.postgres.schema import quoted, visible
from embeddings.refresh import _classify, _meta_dict
from embeddings.texts import EMBEDDING_TEXT_VERSION
from embeddings.tokenizer import TOKENIZER_VERSION
from knowledge.errors import DocumentError

__all__ = ["Plan", "abandon_building", "make_plan", "open_generation"]


@dataclass
class Plan:
    serving: int | None  # the generation readers see now
    rebuild_reason: str | None
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # could not be hashed: the old version stays
    failed: list[tuple[str, str]] = field(default_factory=list)
    same_tokenizer: bool = True

    @property
    def to_embed(self) -> list[str]:
        return sorted(self.added + self.changed + (self.unchanged if self.rebuild_reason else []))

    @property
    def to_retire(self) -> list[str]:
        if self.rebuild_reason:
            return sorted(self.changed + self.removed + self.unchanged + self.kept)
        return sorted(self.changed + self.removed)

    @property
    def nothing_to_do(self) -> bool:
        return (
            self.serving is not None and not self.rebuild_reason and self.same_tokenizer
            and not (self.added or self.changed or self.removed)
        )


def abandon_building(conn: Any, schema: str) -> list[int]:
    """Undo every generation still ``building`` (a refresh that crashed or was killed)."""
    s = quoted(schema)
    with conn.transaction():
        gens = [r[0] for r in conn.execute(
            f"UPDATE {s}.generations SET state = 'abandoned', lexical = NULL WHERE state = 'building' RETURNING gen"
        ).fetchall()]
        for gen in gens:
            conn.execute(f"DELETE FROM {s}.documents WHERE born = %s", (gen,))
            conn.execute(f"UPDATE {s}.documents SET died = NULL WHERE died = %s", (gen,))
            conn.execute(f"DELETE FROM {s}.queue WHERE gen = %s", (gen,))
    return gens


def make_plan(conn: Any, schema: str, docs_dir: Path, target: Mapping[str, Any], full: bool,
              on_problem: Any) -> Plan:
    """Compare the documents folder with the serving generation (``target`` is the recipe the
    refresh would use: a different one means everything is embedded again)."""
    import knowledge

    s = quoted(schema)
    with conn.transaction():
        serving, old_recipe, old_docs = _serving(conn, s)

    failed: list[tuple[str, str]] = []

    def problem(exc: DocumentError) -> None:
        failed.append((exc.path, exc.reason))
        on_problem(exc)

    sources = {src.rel: src for src in knowledge.discover(docs_dir, on_problem=on_problem)}
    metas = knowledge.load_metadata(docs_dir)
    hashes: dict[str, str] = {}
    for rel, source in sorted(sources.items()):
        try:
            hashes[rel] = knowledge.file_sha256(source.path)
        except DocumentError as exc:
            problem(DocumentError(rel, exc.reason))
    source_meta = {rel: _meta_dict(metas.get(rel)) for rel in sources}

    reason = _rebuild_reason(serving, old_recipe, target, full)
    added, changed, unchanged = _classify(hashes, source_meta, old_docs)  # type: ignore[arg-type]
    plan = Plan(serving, reason, added, changed, sorted(r for r in old_docs if r not in sources), unchanged,
                kept=sorted(r for r in sources if r not in hashes and r in old_docs), failed=failed)
    plan.same_tokenizer = old_recipe is not None and old_recipe.get("tokenizer") == TOKENIZER_VERSION
    return plan


def _serving(conn: Any, s: str) -> tuple[int | None, Any, dict[str, _Old]]:
    """The serving generation, its recipe, and its documents' hashes and metadata entries."""
    row = conn.execute(
        f"SELECT m.current, g.recipe FROM {s}.meta m LEFT JOIN {s}.generations g ON g.gen = m.current"
    ).fetchone()
    serving, old_recipe = (row[0], row[1]) if row else (None, None)
    old_docs: dict[str, _Old] = {}
    if serving is not None:
        for path, sha256, info in conn.execute(
            f"SELECT d.path, d.sha256, d.info FROM {s}.documents d WHERE {visible('d', '%s')}", (serving, serving)
        ):
            old_docs[path] = _Old(sha256, info.get("source_meta") or {})
    return serving, old_recipe, old_docs


@dataclass(frozen=True)
class _Old:
    """What :func:`~embeddings.refresh._classify` compares: the content hash and metadata entry."""

    sha256: str
    source_meta: Mapping[str, str]


def _rebuild_reason(serving: int | None, old: Mapping[str, Any] | None, target: Mapping[str, Any],
                    full: bool) -> str | None:
    if full:
        return "a full rebuild was requested"
    if serving is None or old is None:
        return "there was no index yet"
    why = incompatibility(
        recipe_manifest(old),
        embedder_id=str(target["embedder_id"]),
        chunking=recipe_manifest(target).chunking,
        embedding_text=EMBEDDING_TEXT_VERSION,
    )
    return f"the previous index was {why}" if why else None


def open_generation(conn: Any, schema: str, plan: Plan, target: Mapping[str, Any]) -> int:
    """In one transaction: the new generation, its queue, and the documents it retires."""
    from psycopg.types.json import Jsonb

    s = quoted(schema)
    with conn.transaction():
        gen = int(conn.execute(
            f"INSERT INTO {s}.generations (base, recipe, rebuild) VALUES (%s, %s, %s) RETURNING gen",
            (plan.serving, Jsonb(dict(target)), bool(plan.rebuild_reason)),
        ).fetchone()[0])
        with conn.cursor() as cur:
            if plan.to_embed:
                cur.executemany(f"INSERT INTO {s}.queue (gen, path) VALUES (%s, %s)", [(gen, p) for p in plan.to_embed])
        if plan.serving is not None and plan.to_retire:
            conn.execute(
                f"UPDATE {s}.documents d SET died = %s WHERE {visible('d', '%s')} AND d.path = ANY(%s)",
                (gen, plan.serving, plan.serving, plan.to_retire),
            )
    return gen
