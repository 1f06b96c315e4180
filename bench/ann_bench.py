"""Approximate search (usearch HNSW, Kotae's optional UsearchVectorStore) vs exact search over
the same vectors: median latency and recall@10 for several ``expansion_search`` values.
Vectors are a mixture of 1000 clusters (real embeddings are clustered; uniform random 384-d
vectors are the worst case for every graph index). Target: median ≤ 10 ms at recall@10 ≥ 0.95."""

from __future__ import annotations

import time

import numpy as np

from bench.common import arguments, fresh_dir, median, ms, report
from bench.synthetic import queries, write_vectors
from embeddings.ann import HnswParams, UsearchVectorStore


def main(argv: list[str]) -> None:
    ap = arguments("ann", __doc__)
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--clusters", type=int, default=1000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--ef", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    ap.add_argument("--expansion-add", type=int, default=HnswParams().expansion_add)
    ap.add_argument("--connectivity", type=int, default=HnswParams().connectivity)
    ap.add_argument("--oversample", type=int, nargs="+", default=[1, 4],
                    help="graph candidates per wanted result, re-ranked by exact scores (1 = graph order)")
    args = ap.parse_args(argv)
    from embeddings import NumpyVectorStore

    n = 2000 if args.tiny else args.size
    work = fresh_dir("ann")
    path = write_vectors(work / "v.npy", n, clusters=args.clusters)
    exact = NumpyVectorStore.load(path, {"all": (0, n)})
    qs = queries(20 if args.tiny else args.queries, clusters=args.clusters, seed=11)
    truth, exact_lat = [], []
    for q in qs:
        t = time.perf_counter()
        truth.append({r for r, _ in exact.search(q, 10)})
        exact_lat.append(time.perf_counter() - t)
    t = time.perf_counter()
    ann = UsearchVectorStore.build(exact.matrix, HnswParams(connectivity=args.connectivity,
                                                                    expansion_add=args.expansion_add))
    build_s = time.perf_counter() - t
    ann.save(work / "v.usearch")
    ann = UsearchVectorStore.load(work / "v.usearch")  # memory-mapped, as served
    rows = [{"what": "exact (kotae float32 mmap)", "ef": "-", "median ms": ms(median(exact_lat)), "recall@10": 1.0}]
    for oversample in args.oversample:
        ann.rescore_with(exact.matrix, oversample)
        if oversample == 1:
            ann.exact = None  # the graph's own float16 order
        what = ("usearch HNSW f16 (mmap)" if oversample == 1
                else f"kotae: HNSW {oversample}×k candidates, exact re-rank")
        for ef in [16, 64] if args.tiny else args.ef:
            ann.expansion_search = ef
            lats, recalls = [], []
            for q, want in zip(qs, truth, strict=True):
                t = time.perf_counter()
                got = {r for r, _ in ann.search(q, 10)}
                lats.append(time.perf_counter() - t)
                recalls.append(len(got & want) / 10)
            rows.append({"what": what, "ef": ef, "median ms": ms(median(lats)),
                         "recall@10": round(float(np.mean(recalls)), 4)})
    del ann, exact
    notes = {"passages": n, "clusters": args.clusters, "build_s": round(build_s, 1), "connectivity": args.connectivity,
             "expansion_add": args.expansion_add, "target": "median <= 10 ms at recall@10 >= 0.95"}
    print(f"HNSW build: {n} vectors in {build_s:.1f} s ({n / build_s:.0f}/s)")
    for p in work.iterdir():
        p.unlink()
    report("ann", rows, tiny=args.tiny, notes=notes)
