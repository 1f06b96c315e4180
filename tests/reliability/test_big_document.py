"""A very large text file: indexed with progress shown and memory bounded.

The 1 MB case runs by default (a few seconds). The 50 MB case of the issue takes minutes even
with the fake model, so it runs only with ``RELIABILITY_BIG=1``; with the code as it is, its peak
memory grows with the file (measured 1.2 GiB for 50 MB with 8-dimensional fake vectors; see
docs/reliability.md), hence the xfail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from embeddings import open_index
from tests.reliability.helpers import run_indexer

SENTENCE = "第{n}回の会合では周波数の国際協調について議論し、各国の代表が意見を述べた。"


def _big_file(folder: Path, megabytes: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    line = "".join(SENTENCE.format(n=n) for n in range(200)) + "\n"
    target = int(megabytes * 1024 * 1024)
    with (folder / "big.txt").open("w", encoding="utf-8") as f:
        size = 0
        while size < target:
            f.write(line)
            size += len(line.encode())
    (folder / "small.txt").write_text("小さな文書\n\nこれは小さな文書である。\n", encoding="utf-8")
    return folder


def _index_big(tmp_path: Path, megabytes: float):
    docs = _big_file(tmp_path / "docs", megabytes)
    run = run_indexer(docs, tmp_path / "index", timeout=3600, dim=8, quiet=False,
                      extra=("--chunk-chars", "400", "--chunk-overlap", "80"))
    return docs, run


def test_a_1_mb_file_is_indexed_with_progress(tmp_path):
    docs, run = _index_big(tmp_path, 1)
    assert run.code == 0, run.stderr[-2000:]
    assert "Embedding" in run.stderr and "100%" in run.stderr  # the progress bar ran to the end
    index = open_index(tmp_path / "index")
    assert set(index.documents) == {"big.txt", "small.txt"}
    text = (docs / "big.txt").read_text(encoding="utf-8")
    assert all(text[p.start:p.end] == p.text for p in index.passages if p.doc_path == "big.txt")
    print(f"\n1 MB file: peak RSS {run.maxrss_kib / 1024:.0f} MiB")


@pytest.mark.skipif(os.environ.get("RELIABILITY_BIG") != "1", reason="50 MB takes minutes; RELIABILITY_BIG=1")
@pytest.mark.xfail(strict=True, reason=(
    "Memory grows with the document: knowledge/reader.py reads the whole file, chunking keeps every "
    "passage, embeddings/refresh.py _Run._embed holds every vector of the refresh in one array and "
    "embeddings/writer.py write_version holds every passage line and token list until the end. "
    "A 50 MB file (59,350 passages, 474,800 sentences) peaked at 1.2 GiB with 8-dim fake vectors "
    "(another ~0.8 GiB with the real 384-dim model, and hours to embed). Fix: refuse documents "
    "above a size limit (a setting, e.g. KOTAE_MAX_DOCUMENT_MB=10) with a DocumentError saying to "
    "split the file, and/or stream passages to disk per document."
))
def test_a_50_mb_file_is_indexed_in_bounded_memory(tmp_path):
    _, run = _index_big(tmp_path, 50)
    refused = "big.txt" in run.stderr and "kotae: skipped" in run.stderr
    assert run.code == 0
    assert refused or ("Embedding" in run.stderr and run.maxrss_kib < 512 * 1024), run.maxrss_kib
