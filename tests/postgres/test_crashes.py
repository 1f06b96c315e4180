"""Refreshes that race, die or land while bots answer — real processes against a real server."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from embeddings.postgres import open_database_index, refresh_database
from knowledge.errors import IndexBusyError
from knowledge.passage import ChunkSettings
from tests.fakes import FakeEmbedderFactory
from tests.postgres.conftest import wait_for_standby, write_docs
from tests.postgres.test_refresh import DOCS

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
CHILD = ROOT / "tests" / "postgres" / "child.py"
CHUNKING = ChunkSettings(max_chars=120, overlap_chars=20)  # as child.py


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "KOTAE_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env(), cwd=ROOT)


def _wait_line(proc: subprocess.Popen[str], text: str, timeout: float = 120.0) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    buffered = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout.fileno()], [], [], 0.2)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 65536).decode()
            if not chunk:
                break
            buffered += chunk
            for line in buffered.splitlines():
                if text in line:
                    return line
    proc.kill()
    raise AssertionError(f"no {text!r} from the child: {buffered!r} {proc.stderr.read() if proc.stderr else ''}")


def _refresh(docs: Path, dsn: str, schema: str, **kw):
    kw.setdefault("embedder_factory", FakeEmbedderFactory())
    return refresh_database(docs, dsn, schema, model="fake:v1", chunking=CHUNKING, **kw)


def test_a_second_refresh_at_the_same_time_is_refused(pg_cluster, pg_schema, tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    inside, leave = threading.Event(), threading.Event()

    def slow(batch: int) -> None:
        inside.set()
        leave.wait(60)

    results = []
    first = threading.Thread(target=lambda: results.append(
        _refresh(docs, pg_cluster.dsn, pg_schema, embedder_factory=FakeEmbedderFactory(before_batch=slow))))
    first.start()
    try:
        assert inside.wait(60)
        with pytest.raises(IndexBusyError, match="already refreshing"):
            _refresh(docs, pg_cluster.dsn, pg_schema)
    finally:
        leave.set()
        first.join(60)
    assert results and results[0].added == sorted(DOCS)
    assert _refresh(docs, pg_cluster.dsn, pg_schema).nothing_changed  # the lock was released


def test_kill_9_of_a_refresh_mid_way_leaves_the_previous_generation_serving(pg_cluster, pg_schema, tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    first = _refresh(docs, pg_cluster.dsn, pg_schema)
    (docs / "sub" / "gamma.md").unlink()
    (docs / "beta.txt").write_text("光ファイバの整備率は百パーセントになった。\n", encoding="utf-8")
    (docs / "delta.txt").write_text("新しい文書。衛星通信の周波数。\n", encoding="utf-8")
    child = _start("refresh", str(docs), pg_cluster.dsn, pg_schema, "--stop-at-batch", "2")
    try:
        _wait_line(child, "@@ STOPPED")  # one document written in its transaction, the next half-embedded
        with psycopg.connect(pg_cluster.dsn) as conn:
            done = conn.execute(f"SELECT count(*) FROM {pg_schema}.queue q JOIN {pg_schema}.generations g USING (gen) "
                                f"WHERE q.state = 'done' AND g.state = 'building'").fetchone()[0]
        assert done == 1
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    wait_for_standby(pg_cluster)
    for dsn in (pg_cluster.dsn, pg_cluster.standby_dsn):
        index = open_database_index(dsn, pg_schema, "fake:v1")
        assert index.version == first.version
        assert set(index.documents) == set(DOCS)  # the removal has not landed: nothing half-done shows
        assert any("九十九" in p.text for p in index.passages)
        assert not any("衛星" in p.text for p in index.passages)

    report = _refresh(docs, pg_cluster.dsn, pg_schema)  # the next refresh cleans up and finishes
    assert (report.added, report.changed, report.removed) == (["delta.txt"], ["beta.txt"], ["sub/gamma.md"])
    index = open_database_index(pg_cluster.dsn, pg_schema, "fake:v1")
    assert set(index.documents) == {"alpha.md", "beta.txt", "delta.txt"}
    with psycopg.connect(pg_cluster.dsn) as conn:
        states = dict(conn.execute(f"SELECT gen, state FROM {pg_schema}.generations").fetchall())
        paths = [p for (p,) in conn.execute(
            f"SELECT path FROM {pg_schema}.documents WHERE died IS NULL ORDER BY path").fetchall()]
    assert sorted(states.values()) == ["abandoned", "ready", "ready"]
    assert paths == ["alpha.md", "beta.txt", "delta.txt"]  # no orphan of the killed refresh


def test_a_killed_worker_gives_its_document_back_to_the_queue(pg_cluster, pg_schema, tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    _refresh(docs, pg_cluster.dsn, pg_schema)
    for name in DOCS:
        (docs / name).write_text((docs / name).read_text(encoding="utf-8") + "\n追記。\n", encoding="utf-8")
    inside, leave = threading.Event(), threading.Event()

    def hold(batch: int) -> None:  # the coordinator waits on its first batch while the worker runs
        inside.set()
        leave.wait(120)

    results = []
    coordinator = threading.Thread(target=lambda: results.append(
        _refresh(docs, pg_cluster.dsn, pg_schema, embedder_factory=FakeEmbedderFactory(before_batch=hold))))
    coordinator.start()
    assert inside.wait(60)
    worker = _start("worker", str(docs), pg_cluster.dsn, pg_schema, "--stop-at-batch", "1")
    try:
        _wait_line(worker, "@@ STOPPED")  # it holds the second document's job, mid-embedding
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        leave.set()
        coordinator.join(120)
    assert results and results[0].changed == sorted(DOCS) and not results[0].failed
    index = open_database_index(pg_cluster.dsn, pg_schema, "fake:v1")
    assert sum("追記" in p.text for p in index.passages) == len(DOCS)
    assert results[0].passages_embedded == len(index.passages)


def test_two_bot_processes_answer_from_one_database_while_a_refresh_lands(pg_cluster, pg_schema, tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    first = _refresh(docs, pg_cluster.dsn, pg_schema)
    wait_for_standby(pg_cluster)
    stop = tmp_path / "stop"
    question = "ASEAN諸国とICT分野の対話は？"
    bots = [_start("answer", dsn, pg_schema, question, str(stop)) for dsn in (pg_cluster.dsn, pg_cluster.standby_dsn)]
    try:
        for bot in bots:
            _wait_line(bot, '"version"')
        (docs / "sub" / "gamma.md").unlink()
        second = _refresh(docs, pg_cluster.dsn, pg_schema)
        wait_for_standby(pg_cluster)
        landed = time.monotonic()
        time.sleep(1.0)
        stop.touch()
        outputs = [bot.communicate(timeout=60) for bot in bots]
    finally:
        for bot in bots:
            if bot.poll() is None:
                bot.kill()
    assert time.monotonic() > landed
    for bot, (out, err) in zip(bots, outputs, strict=True):
        assert bot.returncode == 0, err
        replies = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        versions = [r["version"] for r in replies]
        assert versions[0] == first.version and versions[-1] == second.version
        assert versions == sorted(versions, key=int)  # never back to the old generation
        assert all("sub/gamma.md" in r["cited"] for r in replies if r["version"] == first.version)
        assert all("sub/gamma.md" not in r["cited"] for r in replies if r["version"] == second.version)
