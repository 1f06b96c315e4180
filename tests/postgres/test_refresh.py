"""The PostgreSQL store against a real server: same index as the embedded store, incremental
refreshes, deletions on primary and standby, full rebuilds beside the old generation."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from embeddings import open_index, refresh_index
from embeddings.postgres import open_database_index, refresh_database
from knowledge.passage import ChunkSettings
from tests.fakes import FakeEmbedderFactory
from tests.postgres.conftest import wait_for_standby, write_docs

pytestmark = pytest.mark.postgres

CHUNKING = ChunkSettings(max_chars=120, overlap_chars=20)

DOCS = {
    "alpha.md": "# 周波数\n\n電波の周波数は総務省が割り当てる。\n\n## 手続き\n\n免許の申請は電子申請でも受け付ける。"
    "申請から交付まではおよそ一か月かかる。\n",
    "beta.txt": "光ファイバの整備率は九十九パーセントを超えた。離島でも高速通信が使える。\n"
    "ブロードバンドの普及は地域の産業を支える。\n",
    "sub/gamma.md": "# 国際協力\n\nASEAN諸国とICT分野の対話を続けている。日本方式の地デジは十数か国が採用した。\n",
}


def _refresh(docs, cluster, schema, factory, **kw):
    return refresh_database(docs, cluster.dsn, schema, model="fake:v1", chunking=CHUNKING,
                            embedder_factory=factory, **kw)


def test_same_index_as_the_embedded_store(pg_cluster, pg_schema, tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    factory = FakeEmbedderFactory()
    refresh_index(docs, tmp_path / "index", model="fake:v1", chunking=CHUNKING, embedder_factory=factory,
                  progress=False)
    report = _refresh(docs, pg_cluster, pg_schema, factory)
    embedded = open_index(tmp_path / "index")
    db = open_database_index(pg_cluster.dsn, pg_schema, "fake:v1")

    assert report.added == sorted(DOCS) and report.passages_total == len(embedded.passages) > 3
    assert list(db.passages) == list(embedded.passages)  # same passages, spans, lines, same row order
    assert set(db.documents) == set(embedded.documents)
    for row in range(len(embedded.passages)):
        np.testing.assert_allclose(db.vectors[[row]], embedded.vectors[[row]], atol=1e-6)
        ours, theirs = db.passage_sentences(row), embedded.passage_sentences(row)
        assert [(s, e) for s, e, _ in ours] == [(s, e) for s, e, _ in theirs]
        np.testing.assert_allclose(db.sentence_vectors[[r for *_, r in ours]],
                                   embedded.sentence_vectors[[r for *_, r in theirs]], atol=1e-6)
    query = factory.made[0].embed_query("免許の申請")
    assert [r for r, _ in db.search_dense(query, 4)] == [r for r, _ in embedded.search_dense(query, 4)]
    assert db.search_lexical("光ファイバの整備", 3) == embedded.search_lexical("光ファイバの整備", 3)
    assert db.document_frequency("申請") == embedded.document_frequency("申請") > 0


def test_unchanged_documents_are_not_embedded_again(pg_cluster, pg_schema, tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    first = _refresh(docs, pg_cluster, pg_schema, FakeEmbedderFactory())

    idle = FakeEmbedderFactory()
    again = _refresh(docs, pg_cluster, pg_schema, idle)
    assert again.nothing_changed and again.version == first.version
    assert idle.made == []  # the model is not even loaded

    (docs / "beta.txt").write_text("光ファイバの整備率は百パーセントになった。\n", encoding="utf-8")
    counting = FakeEmbedderFactory()
    changed = _refresh(docs, pg_cluster, pg_schema, counting)
    assert changed.changed == ["beta.txt"] and changed.unchanged == ["alpha.md", "sub/gamma.md"]
    embedded_texts = [t for e in counting.made for t in e.texts]
    assert embedded_texts and all("免許" not in t and "ASEAN" not in t for t in embedded_texts)
    index = open_database_index(pg_cluster.dsn, pg_schema, "fake:v1")
    assert index.version == changed.version != first.version
    assert any("百パーセント" in p.text for p in index.passages)
    assert not any("九十九" in p.text for p in index.passages)


def test_a_deleted_document_is_never_cited_again_on_primary_or_standby(pg_cluster, pg_schema, tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    factory = FakeEmbedderFactory()
    _refresh(docs, pg_cluster, pg_schema, factory)
    wait_for_standby(pg_cluster)
    before = open_database_index(pg_cluster.standby_dsn, pg_schema, "fake:v1")
    assert "sub/gamma.md" in before.documents

    (docs / "sub" / "gamma.md").unlink()
    report = _refresh(docs, pg_cluster, pg_schema, factory)
    assert report.removed == ["sub/gamma.md"]
    wait_for_standby(pg_cluster)
    query = factory.made[0].embed_query("ASEAN諸国とICT分野の対話")
    for dsn in (pg_cluster.dsn, pg_cluster.standby_dsn):
        index = open_database_index(dsn, pg_schema, "fake:v1")
        assert index.version == report.version
        assert "sub/gamma.md" not in index.documents
        assert all(p.doc_path != "sub/gamma.md" for p in index.passages)
        hits = index.search_dense(query, 50) + index.search_lexical("ASEAN諸国", 50)
        assert hits and all(index.passages[r].doc_path != "sub/gamma.md" for r, _ in hits)
    # A replica still holding the previous generation is told a newer one serves.
    assert before.serving_generation() == report.version != before.version


def test_a_full_rebuild_is_built_beside_the_old_generation(pg_cluster, pg_schema, tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    first = _refresh(docs, pg_cluster, pg_schema, FakeEmbedderFactory())
    serving = open_database_index(pg_cluster.dsn, pg_schema, "fake:v1")
    seen = []

    def look(batch: int) -> None:  # while the new model embeds, the old generation still serves
        if batch == 0:
            seen.append((serving.serving_generation(), len(open_database_index(pg_cluster.dsn, pg_schema).passages)))

    rebuilt = refresh_database(docs, pg_cluster.dsn, pg_schema, model="fake:v2", chunking=CHUNKING,
                               embedder_factory=FakeEmbedderFactory(before_batch=look))
    assert rebuilt.rebuilt_reason and "fake:v1" in rebuilt.rebuilt_reason
    assert seen == [(first.version, first.passages_total)]
    index = open_database_index(pg_cluster.dsn, pg_schema, "fake:v2")
    assert index.embedder_id == "fake:v2" and len(index.passages) == first.passages_total
    with pytest.raises(Exception, match="Run `kotae index --full`"):
        open_database_index(pg_cluster.dsn, pg_schema, "fake:v1")
    with psycopg.connect(pg_cluster.dsn) as conn:  # the old generation's rows are pruned by the next refresh
        (docs / "beta.txt").write_text("更新。\n", encoding="utf-8")
        refresh_database(docs, pg_cluster.dsn, pg_schema, model="fake:v2", chunking=CHUNKING,
                         embedder_factory=FakeEmbedderFactory())
        born = conn.execute(f"SELECT DISTINCT born FROM {pg_schema}.documents ORDER BY 1").fetchall()
    assert int(first.version) not in [b for (b,) in born]


def test_an_unreadable_changed_document_keeps_its_previous_version(pg_cluster, pg_schema, tmp_path):
    page = "<html><body><h1>会議</h1><p>ドバイで会議があった。</p></body></html>"
    docs = write_docs(tmp_path / "docs", {**DOCS, "page.html": page})
    _refresh(docs, pg_cluster, pg_schema, FakeEmbedderFactory())
    (docs / "page.html").write_text("<html><body></body></html>", encoding="utf-8")
    problems = []
    report = _refresh(docs, pg_cluster, pg_schema, FakeEmbedderFactory(), on_problem=problems.append)
    assert [p for p, _ in report.failed] == ["page.html"] and "no visible text" in report.failed[0][1]
    assert [p.path for p in problems] == ["page.html"] and report.changed == []
    index = open_database_index(pg_cluster.dsn, pg_schema, "fake:v1")
    assert "page.html" in index.documents  # kept, still citable
    assert index.passages[index.search_lexical("ドバイ 会議", 1)[0][0]].doc_path == "page.html"
    report = _refresh(docs, pg_cluster, pg_schema, FakeEmbedderFactory(), full=True)
    assert [p for p, _ in report.failed] == ["page.html"]
    assert "page.html" not in open_database_index(pg_cluster.dsn, pg_schema, "fake:v1").documents


def test_approximate_search_through_pgvector_hnsw_finds_what_exact_search_finds(pg_cluster, pg_schema, tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    factory = FakeEmbedderFactory()
    _refresh(docs, pg_cluster, pg_schema, factory, ann=True)
    with psycopg.connect(pg_cluster.dsn) as conn:
        indexes = [n for (n,) in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", (pg_schema,))]
    assert f"passages_hnsw_{factory.dim}" in indexes
    exact = open_database_index(pg_cluster.dsn, pg_schema, "fake:v1")
    approx = open_database_index(pg_cluster.dsn, pg_schema, "fake:v1", ann=True)
    for text in ("免許の申請", "光ファイバ", "ASEAN"):
        query = factory.made[0].embed_query(text)
        assert [r for r, _ in approx.search_dense(query, 3)] == [r for r, _ in exact.search_dense(query, 3)]
