"""The plotting script draws a PNG per figure from result JSON, and says which results are missing."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("matplotlib")

from bench.plots import main, plot_all

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _write(folder, name, rows, notes=None, tiny=False):
    folder.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name.split("-")[0], "tiny": tiny, "rows": rows, "notes": notes or {}}
    (folder / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")


def test_each_figure_is_drawn_from_its_results(tmp_path):
    results = tmp_path / "results"
    _write(results, "search", [
        {"passages": n, "what": w, "median ms": ms}
        for n, w, ms in [(10_000, "a", 0.3), (100_000, "a", 16.0), (10_000, "b", 1.0), (100_000, "b", 40.0)]
    ])
    _write(results, "batch", [{"batch size": b, "texts/s": t} for b, t in [(1, 0.7), (8, 3.3), (32, 7.2)]])
    _write(results, "ann", [{"what": "exact", "ef": "-", "median ms": 9.0, "recall@10": 1.0},
                            {"what": "hnsw", "ef": 64, "median ms": 0.5, "recall@10": 0.97}],
           notes={"passages": 100_000, "connectivity": 16})
    _write(results, "ann-tiny", [{"what": "hnsw", "ef": 16, "median ms": 0.1, "recall@10": 0.5}], tiny=True)

    written, missing = plot_all(results, tmp_path / "img")

    assert sorted(p.name for p in written) == ["ann-recall.png", "build-batch.png", "search-latency.png"]
    assert missing == []
    for path in written:
        assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 5_000


def test_missing_results_are_named_with_the_command_to_run(tmp_path, capsys):
    results = tmp_path / "results"
    _write(results, "batch", [{"batch size": 4, "texts/s": 1.5}, {"batch size": 16, "texts/s": 4.9}])

    assert main(["--results", str(results), "--out", str(tmp_path / "img")]) == 0

    out = capsys.readouterr().out
    assert "build-batch.png" in out
    assert "run `python -m bench search` first" in out and "run `python -m bench ann` first" in out
    assert not (tmp_path / "img" / "search-latency.png").exists()
