"""Helpers shared by the embeddings tests: small Japanese document folders, a quiet refresh."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from embeddings import refresh_index
from knowledge.passage import ChunkSettings

CHUNK = ChunkSettings(max_chars=60, overlap_chars=15)

DOCS = {
    "isdb.txt": (
        "地上デジタルテレビ放送日本方式の普及\n\n"
        "地上デジタルテレビ放送分野においては、官民連携で日本方式（ISDB-T）の普及に取り組んでいる。"
        "2013年にボツワナがアフリカで初めて日本方式を採用した。"
        "合計14か国が日本方式の採用を決定している。\n"
    ),
    "itu.txt": (
        "国際電気通信連合\n\n"
        "国際電気通信連合（ITU）は電気通信に関する国連の専門機関である。"
        "193か国が加盟し、本部はジュネーブにある。"
        "WCIT-12はドバイで開催された。\n"
    ),
    "weather.txt": ("今日の天気\n\n今日は晴れで、午後から風が強くなる見込みです。洗濯物は早めに取り込みましょう。\n"),
}


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in docs.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    return folder


def build(docs: Path, index: Path, factory, *, model="fake:v1", chunking=CHUNK, progress=False, **kw):
    """``refresh_index`` with the fake model and small passages, quietly."""
    return refresh_index(docs, index, model=model, chunking=chunking, progress=progress, embedder_factory=factory, **kw)


ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> dict:
    """Run ``code`` in a fresh interpreter at the repository root; its last stdout line is JSON."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
