"""Each benchmark script runs end to end on a tiny input (seconds, no timing assertions)."""

from __future__ import annotations

import importlib
import json

import pytest

from bench.common import NAMES

pytestmark = pytest.mark.model  # the figures use the bundled model on a tiny document


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.getbasetemp() / "bench"
    monkeypatch.setenv("KOTAE_BENCH_DIR", str(root / "work"))
    monkeypatch.setenv("KOTAE_BENCH_RESULTS", str(root / "results"))
    return root


@pytest.mark.parametrize("name", NAMES)
def test_benchmark_runs_on_a_tiny_input(name, _private_dirs, capsys):
    module = importlib.import_module(f"bench.{name}_bench")
    module.main(["--tiny"])
    out = capsys.readouterr().out
    assert "|" in out  # a table was printed
    result = json.loads((_private_dirs / "results" / f"{name}-tiny.json").read_text(encoding="utf-8"))
    assert result["benchmark"] == name and result["tiny"] is True and result["rows"]


def test_the_command_line_lists_every_figure(capsys):
    from bench.__main__ import main

    assert main([]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in NAMES)
