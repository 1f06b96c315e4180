"""SIGKILL a real `kotae index` process at every step of a refresh — reading, embedding, writing
each file (half-written ones included) and each step of the switch — and at random moments.

After each kill: the index a server would open is either the previous one, answering exactly as
before, or (only once ``current`` was switched) the complete new one; and the next refresh
completes and gives the same index as a clean build of the same documents.
"""

from __future__ import annotations

import os
import random
import shutil
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from embeddings import current_version, open_index
from knowledge.errors import IndexMissingError
from tests.embeddings.helpers import DOCS, build
from tests.fakes import FakeEmbedderFactory
from tests.reliability.helpers import DOCS_V2, Zygote, answers, content, leftovers, run_indexer, write_tree

WORKERS = 2


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """The index a clean build of DOCS_V2 gives (what every recovery must arrive at)."""
    root = tmp_path_factory.mktemp("reference")
    build(write_tree(root / "docs", DOCS_V2), root / "index", FakeEmbedderFactory())
    return content(root / "index")


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> list[str]:
    """The markers of one undisturbed incremental refresh from DOCS to DOCS_V2."""
    root = tmp_path_factory.mktemp("plan")
    build(write_tree(root / "docs", DOCS), root / "index", FakeEmbedderFactory())
    write_tree(root / "docs", DOCS_V2)
    run = run_indexer(root / "docs", root / "index")
    assert run.code == 0, run.stderr
    return run.markers


def _prepare(root: Path) -> tuple[Path, Path, tuple]:
    docs, index = write_tree(root / "docs", DOCS), root / "index"
    build(docs, index, FakeEmbedderFactory())
    before = answers(index)
    write_tree(docs, DOCS_V2)
    return docs, index, before


def _check_recovery(docs: Path, index: Path, before: tuple | None, reference: dict, where: str) -> str:
    """Serving state right after the kill, then the next refresh. Returns what was served."""
    served = current_version(index)
    if before is not None and served == before[0]:
        assert answers(index) == before, f"{where}: the previous index answers differently"
        state = "previous"
    elif served is None:
        assert before is None, f"{where}: `current` vanished"
        with pytest.raises(IndexMissingError):
            open_index(index)
        state = "none"
    else:
        assert content(index) == reference, f"{where}: a switched-to index is incomplete"
        state = "new"
    report = build(docs, index, FakeEmbedderFactory())  # the next refresh: not blocked by a stale lock
    assert report.nothing_changed == (state == "new"), (where, state, report)
    assert content(index) == reference, f"{where}: the refresh after the kill is not a clean build"
    assert leftovers(index) == [], where
    assert len(os.listdir(index / "versions")) <= 2, where
    for path in [index, *index.rglob("*")]:
        if not path.is_symlink() and path.name != ".lock":
            assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), (where, path)
    return state


def test_the_plan_covers_reading_embedding_writing_and_switching(plan):
    stages = {m.split(":")[0] for m in plan}
    assert stages == {"read", "embed", "write", "swap"}
    assert sum(m.startswith("embed:batch") for m in plan) >= 2
    assert {"write:partial passages.jsonl", "write:partial vectors.npy", "write:partial sentence_vectors.npy",
            "write:partial manifest.json", "swap:replace before", "swap:replace after"} <= set(plan)


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    server = Zygote(tmp_path_factory.mktemp("zygote"))
    yield server
    server.close()


def test_sigkill_at_every_step_of_an_incremental_refresh(plan, reference, zygote, tmp_path):
    def one(k: int) -> tuple[str, str]:
        docs, index, before = _prepare(tmp_path / f"k{k}")
        run = zygote.start(docs, index, stop_at=k)
        run.wait_for("@@ STOPPED")
        run.kill()
        return plan[k - 1], _check_recovery(docs, index, before, reference, f"kill at #{k} {plan[k - 1]}")

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(one, range(1, len(plan) + 1)))
    assert len(results) >= 30
    states = dict(results)
    # Before the switch the previous index is served; from the switch on, the new one.
    switch = plan.index("swap:replace after")
    assert all(states[m] == "previous" for m in plan[:switch]), states
    assert all(states[m] == "new" for m in plan[switch:]), states
    print(f"\nkill points survived (incremental refresh): {len(results)}")


def test_sigkill_at_random_moments(plan, reference, zygote, tmp_path):
    # A slower model (20 ms a batch) spreads the refresh out; time one undisturbed run first.
    docs, index, _ = _prepare(tmp_path / "timing")
    run = zygote.start(docs, index, batch_delay=0.02)
    run.wait_for("read:discover before")
    started = time.monotonic()
    run.wait_for("@@ exit 0")
    duration = time.monotonic() - started
    rng = random.Random(20261121)
    delays = sorted(rng.uniform(0.0, duration) for _ in range(12))

    def one(i: int) -> str:
        docs, index, before = _prepare(tmp_path / f"r{i}")
        run = zygote.start(docs, index, batch_delay=0.02)
        run.wait_for("read:discover before")
        time.sleep(delays[i])
        killed = run.kill()
        last = run.lines[-1] if run.lines else "?"
        where = f"random kill {i} after {delays[i]:.3f}s of {duration:.3f}s ({last}, killed={killed})"
        return _check_recovery(docs, index, before, reference, where) + ("" if killed else " (finished)")

    with ThreadPoolExecutor(WORKERS) as pool:
        states = list(pool.map(one, range(len(delays))))
    killed = [s for s in states if "finished" not in s]
    assert len(killed) >= 10, states
    print(f"\nrandom kills survived: {len(killed)} over {duration:.2f}s; states {states}")


FIRST_BUILD_POINTS = ["read:document isdb.txt after", "embed:batch 1", "write:partial vectors.npy",
                      "write:partial manifest.json", "swap:rename after", "swap:symlink after",
                      "swap:replace after"]


def test_sigkill_during_the_first_build(plan, reference, zygote, tmp_path):
    root = tmp_path / "first"
    docs, index = write_tree(root / "docs", DOCS_V2), root / "index"
    dry = run_indexer(docs, root / "dry")
    assert dry.code == 0, dry.stderr
    states = []
    for point in FIRST_BUILD_POINTS:
        k = dry.markers.index(point) + 1
        run = zygote.start(docs, index, stop_at=k)
        run.wait_for("@@ STOPPED")
        run.kill()
        states.append(_check_recovery(docs, index, None, reference, f"first build killed at {point}"))
        shutil.rmtree(index)  # the next kill starts again from no index at all
    assert states[:-1] == ["none"] * (len(FIRST_BUILD_POINTS) - 1) and states[-1] == "new"
