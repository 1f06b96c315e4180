"""The optional approximate (HNSW) search graph: built on request, used for dense search,
switched on and off without embedding anything again, and checked at load."""

from __future__ import annotations

import pytest

from embeddings import open_index
from knowledge.errors import IndexCorruptError
from tests.embeddings.helpers import DOCS, build, write_docs
from tests.fakes import FakeEmbedderFactory, fake_vector

pytest.importorskip("usearch")


def test_dense_search_through_the_graph_matches_exact_search(tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    build(docs, tmp_path / "exact", FakeEmbedderFactory())
    build(docs, tmp_path / "ann", FakeEmbedderFactory(), ann=True)
    exact, approx = open_index(tmp_path / "exact"), open_index(tmp_path / "ann")
    assert exact.ann_store is None and approx.ann_store is not None
    assert (approx.version_dir / "vectors.usearch").stat().st_mode & 0o077 == 0
    for question in ("ボツワナはいつ日本方式を採用した？", "国際電気通信連合の本部", "天気予報"):
        q = fake_vector(question)
        want = exact.search_dense(q, 3)
        got = approx.search_dense(q, 3)
        assert [row for row, _ in got] == [row for row, _ in want]  # tiny graph: exact recall
        # candidates from the float16 graph, ranked and scored by the exact float32 vectors
        assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-6)


def test_switching_the_graph_on_and_off_rewrites_without_embedding(tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    index = tmp_path / "index"
    build(docs, index, FakeEmbedderFactory())
    factory = FakeEmbedderFactory()
    on = build(docs, index, factory, ann=True)
    assert not on.nothing_changed and on.passages_embedded == 0 and factory.texts == []
    assert open_index(index).manifest.ann
    assert build(docs, index, FakeEmbedderFactory(), ann=True).nothing_changed
    off = build(docs, index, FakeEmbedderFactory(), ann=False)
    assert not off.nothing_changed and off.passages_embedded == 0
    assert open_index(index).ann_store is None


def test_a_missing_graph_is_reported_with_the_fix(tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    build(docs, tmp_path / "index", FakeEmbedderFactory(), ann=True)
    (open_index(tmp_path / "index").version_dir / "vectors.usearch").unlink()
    with pytest.raises(IndexCorruptError, match="kotae index --full"):
        open_index(tmp_path / "index")


def test_graph_candidates_are_reranked_by_exact_scores():
    import numpy as np

    from embeddings.ann import UsearchVectorStore

    rng = np.random.default_rng(3)
    base = rng.standard_normal(64).astype(np.float32)
    # 40 close neighbours of one direction: float16 rounding misorders them (exact copies
    # would also break the graph's own links, which no re-ranking can mend)
    rows = base + 1e-2 * rng.standard_normal((40, 64)).astype(np.float32)
    rows = np.vstack([rows, rng.standard_normal((200, 64)).astype(np.float32)])
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    q = (base / np.linalg.norm(base)).astype(np.float32)
    exact = rows @ q
    want = [int(i) for i in np.argsort(-exact, kind="stable")[:10]]

    store = UsearchVectorStore.build(rows)
    store.expansion_search = 256
    assert [r for r, _ in store.search(q, 10)] != want  # the graph's own float16 order is off
    store.rescore_with(rows, oversample=4)
    got = store.search(q, 10)

    assert [r for r, _ in got] == want
    assert [s for _, s in got] == pytest.approx([float(exact[i]) for i in want], abs=1e-6)
    with pytest.raises(ValueError, match="graph has 240"):
        store.rescore_with(rows[:10])


def test_a_reopened_graph_searches_with_the_configured_expansion(tmp_path):
    import numpy as np

    from embeddings.ann import HnswParams, UsearchVectorStore

    rows = np.random.default_rng(0).standard_normal((50, 16)).astype(np.float32)
    UsearchVectorStore.build(rows, HnswParams(expansion_search=16)).save(tmp_path / "g.usearch")
    assert UsearchVectorStore.load(tmp_path / "g.usearch").expansion_search == HnswParams().expansion_search
    assert UsearchVectorStore.load(tmp_path / "g.usearch", expansion_search=300).expansion_search == 300
