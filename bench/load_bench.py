"""Opening an index of N synthetic passages (1M by default) in a new process: load time, one
search, and resident memory against the vector file plus the passage text. Compared with what
format 1 did (parse every line of passages.jsonl into Passage objects at load).
Targets: load ≤ 2 s; RSS ≤ 1.5 × (vectors.npy + passages.jsonl)."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import numpy as np

from bench.common import RSS_SNIPPET, arguments, fresh_dir, median, report, run_python
from bench.synthetic import write_vectors

_OPEN = RSS_SNIPPET + """
import json, sys, time
import numpy as np
base = _rss()
t = time.perf_counter()
from embeddings import open_index
index = open_index(sys.argv[1])
load_s = time.perf_counter() - t
q = np.random.default_rng(3).standard_normal(index.dim).astype(np.float32)
lat = []
for _ in range(5):
    t = time.perf_counter()
    hits = index.search_dense(q, 10)
    texts = [index.passages[r].text for r, _ in hits]
    lat.append(time.perf_counter() - t)
after = _rss()
print(json.dumps({"load_s": load_s, "query_s": sorted(lat)[2], "rss": after["VmRSS"], "hwm": after["VmHWM"],
                  "base_rss": base["VmRSS"], "passages": len(index.passages)}))
"""

_OLD = RSS_SNIPPET + """
import json, sys, time
base = _rss()
t = time.perf_counter()
from knowledge.passage import Passage
out = []
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        d = json.loads(line)
        out.append((Passage(doc_path=d["doc"], ordinal=d["ordinal"], start=d["start"], end=d["end"],
                    start_line=d["start_line"], end_line=d["end_line"], section=tuple(d["section"]),
                    text=d["text"], page=d.get("page"), end_page=d.get("end_page")), tuple(d["sentences"])))
after = _rss()
print(json.dumps({"load_s": time.perf_counter() - t, "rss": after["VmRSS"], "hwm": after["VmHWM"]}))
"""


def build_synthetic(root: Path, n: int, docs: int = 1000) -> Path:
    """Write a complete format-2 index of ``n`` passages (no sentences) under ``root``."""
    from embeddings.layout import (
        LEXICAL_DIR,
        MANIFEST,
        PASSAGE_OFFSETS,
        PASSAGES,
        SENTENCE_VECTORS,
        VECTORS,
        VERSIONS,
        publish_version,
    )
    from embeddings.lexical import LexicalIndex
    from embeddings.manifest import FORMAT_VERSION, DocInfo, Manifest, manifest_to_json
    from embeddings.passage_table import checksum, line_offsets
    from embeddings.texts import EMBEDDING_TEXT_VERSION
    from embeddings.tokenizer import TOKENIZER_VERSION
    from knowledge.passage import ChunkSettings

    rng = random.Random(0)
    words = [f"語{i}" for i in range(5000)]
    per_doc = max(1, n // docs)
    vdir = root / VERSIONS / "synthetic.tmp"
    vdir.mkdir(parents=True)
    documents, encoded, tokens = {}, [], []
    row = 0
    for d in range(docs):
        count = per_doc if d < docs - 1 else n - row
        rel = f"doc-{d:05d}.txt"
        for o in range(count):
            toks = rng.choices(words, k=12)
            text = "。".join(toks) + "。" + "国際電気通信連合の加盟国は百九十三か国である。" * 6
            start = o * 400
            rec = {"doc": rel, "ordinal": o, "start": start, "end": start + len(text), "start_line": o * 5 + 1,
                   "end_line": o * 5 + 5, "page": None, "end_page": None, "section": ["第1節 概要"], "text": text,
                   "sentences": []}
            encoded.append((json.dumps(rec, ensure_ascii=False) + "\n").encode())
            tokens.append(toks)
        documents[rel] = DocInfo(path=rel, title=f"文書 {d}", url=None, date=None, attribution=None,
                                 sha256="0" * 64, kind="text", passages=(row, count), sentences=(0, 0))
        row += count
    data = b"".join(encoded)
    (vdir / PASSAGES).write_bytes(data)
    np.save(vdir / PASSAGE_OFFSETS, line_offsets(encoded), allow_pickle=False)
    del encoded
    write_vectors(vdir / VECTORS, n)
    np.save(vdir / SENTENCE_VECTORS, np.zeros((0, 384), np.float32), allow_pickle=False)
    LexicalIndex.build(tokens).save(vdir / LEXICAL_DIR)
    manifest = Manifest(format_version=FORMAT_VERSION, created_at="2026-01-01T00:00:00Z", embedder_id="synthetic",
                        dim=384, chunking=ChunkSettings(), vector_dtype="float32", tokenizer=TOKENIZER_VERSION,
                        embedding_text=EMBEDDING_TEXT_VERSION,
                        counts={"documents": docs, "passages": n, "sentences": 0}, documents=documents,
                        checksums={PASSAGES: checksum(data)})
    (vdir / MANIFEST).write_text(manifest_to_json(manifest), encoding="utf-8")
    publish_version(root, vdir, "synthetic")
    return vdir.with_name("synthetic")


def main(argv: list[str]) -> None:
    ap = arguments("load", __doc__, repeats=3)
    ap.add_argument("--size", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    from embeddings.layout import PASSAGES, VECTORS

    n = 5000 if args.tiny else args.size
    if args.tiny:
        args.repeats = 1
    root = fresh_dir("load")
    t = time.perf_counter()
    vdir = build_synthetic(root, n, docs=10 if args.tiny else 1000)
    print(f"synthetic index of {n} passages written in {time.perf_counter() - t:.1f} s")
    vec_mb = os.path.getsize(vdir / VECTORS) / 2**20
    text_mb = os.path.getsize(vdir / PASSAGES) / 2**20
    runs = [run_python(_OPEN, str(root)) for _ in range(args.repeats)]
    old = run_python(_OLD, str(vdir / PASSAGES))
    rss = median([r["rss"] for r in runs]) / 2**20
    hwm = median([r["hwm"] for r in runs]) / 2**20
    base = median([r["base_rss"] for r in runs]) / 2**20
    rows = [
        {"what": "format 1: parse passages.jsonl at load", "load s": round(old["load_s"], 2),
         "query ms": "-", "RSS MB": round(old["rss"] / 2**20), "peak MB": round(old["hwm"] / 2**20)},
        {"what": "kotae open_index (format 2, mmap)", "load s": round(median([r["load_s"] for r in runs]), 3),
         "query ms": round(1000 * median([r["query_s"] for r in runs]), 1), "RSS MB": round(rss),
         "peak MB": round(hwm)},
    ]
    limit = 1.5 * (vec_mb + text_mb)
    notes = {"passages": n, "vectors_mb": round(vec_mb), "passages_jsonl_mb": round(text_mb),
             "rss_limit_mb": round(limit), "rss_over_files": round(rss / (vec_mb + text_mb), 3),
             "interpreter_rss_mb": round(base), "target": "load <= 2 s; RSS <= 1.5 x (vectors + text)"}
    report("load", rows, tiny=args.tiny, notes=notes)
    print(f"vectors {vec_mb:.0f} MB + text {text_mb:.0f} MB; RSS {rss:.0f} MB = {rss / (vec_mb + text_mb):.2f}x "
          f"(limit 1.5x = {limit:.0f} MB)")
    import shutil

    shutil.rmtree(root, ignore_errors=True)
