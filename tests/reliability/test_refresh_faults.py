"""A refresh that cannot write (disk full, read-only folder, fsync failing) and two refreshes at
once: the previous index is untouched, nothing is left behind, and the user is told why."""

from __future__ import annotations

import errno
import logging
import pathlib
from collections.abc import Callable

import pytest

import embeddings
import embeddings.refresh as refresh
import embeddings.writer as writer
from bot.cli import main as kotae
from embeddings import current_version
from embeddings.lexical import LexicalIndex
from embeddings.vector_store import NumpyVectorStore
from tests.embeddings.helpers import DOCS, build
from tests.fakes import FakeEmbedderFactory
from tests.reliability.helpers import (
    CHUNK_FLAGS,
    DOCS_V2,
    Stopped,
    answers,
    content,
    leftovers,
    run_indexer,
    write_tree,
)


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _erofs(*args, **kwargs):
    raise OSError(errno.EROFS, "Read-only file system")


def _full_while_writing_passages(monkeypatch) -> None:
    real = writer.open_private

    def open_private(path, mode="wb"):
        if path.name == "passages.jsonl":
            _enospc()
        return real(path, mode)

    monkeypatch.setattr(writer, "open_private", open_private)


def _read_only_version_folder(monkeypatch) -> None:
    real = pathlib.Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.name.endswith(".tmp"):
            _erofs()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", mkdir)


FAULTS: dict[str, Callable] = {
    "disk full writing passages": _full_while_writing_passages,
    "disk full writing vectors": lambda mp: mp.setattr(NumpyVectorStore, "save", _enospc),
    "disk full writing the lexical index": lambda mp: mp.setattr(LexicalIndex, "save", _enospc),
    "fsync fails (EIO)": lambda mp: mp.setattr(
        writer, "finalise_tree", lambda root: (_ for _ in ()).throw(OSError(errno.EIO, "Input/output error"))
    ),
    "read-only index folder": _read_only_version_folder,
}


@pytest.fixture
def fake_model(monkeypatch):
    """`kotae index` in this process with the fake embedder instead of the bundled model; the
    root log handler its logging.basicConfig adds (on the captured stderr) is removed after."""
    monkeypatch.setattr(refresh, "DefaultEmbedderFactory", FakeEmbedderFactory)
    monkeypatch.setattr(embeddings, "embedder_id", FakeEmbedderFactory().embedder_id)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def changed(tmp_path):
    docs, index = write_tree(tmp_path / "docs", DOCS), tmp_path / "index"
    build(docs, index, FakeEmbedderFactory())
    before = answers(index)
    write_tree(docs, DOCS_V2)
    return docs, index, before


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_refresh_that_cannot_write_leaves_the_previous_index(changed, fault, monkeypatch):
    docs, index, before = changed
    FAULTS[fault](monkeypatch)
    with pytest.raises(OSError):
        build(docs, index, FakeEmbedderFactory())
    monkeypatch.undo()
    assert answers(index) == before
    assert leftovers(index) == []
    report = build(docs, index, FakeEmbedderFactory())
    assert report.added == ["long.txt", "sub/dialogue.md"] and report.changed == ["itu.txt"]


@pytest.mark.parametrize("fault", ["disk full writing vectors", "read-only index folder"])
def test_the_command_line_says_clearly_why_it_could_not_write(changed, fault, fake_model, monkeypatch, capsys):
    docs, index, before = changed
    FAULTS[fault](monkeypatch)
    code = kotae(["index", str(docs), "--index", str(index), "-q", *CHUNK_FLAGS])
    err = capsys.readouterr().err
    assert code == 1
    assert "kotae: error:" in err and str(index) in err
    assert "No space left on device" in err or "Read-only file system" in err
    assert "Traceback" not in err
    monkeypatch.undo()
    assert answers(index) == before


def test_two_refreshes_at_once_the_second_exits_with_a_message(changed, tmp_path):
    docs, index, before = changed
    release = tmp_path / "release"
    # Hold the first refresh in the middle of writing its files, holding the lock.
    dry = run_indexer(docs, tmp_path / "dry")
    point = dry.markers.index("write:partial vectors.npy") + 1
    first = Stopped(docs, index, stop_at=point, release=release)  # a real `kotae index` process
    try:
        first.wait_for("@@ STOPPED")
        second = run_indexer(docs, index)
        assert second.code == 1, second.stderr
        assert "Another `kotae index` is already refreshing the index" in second.stderr
        assert str(index / ".lock") in second.stderr and "Traceback" not in second.stderr
        assert answers(index) == before  # the second wrote nothing; the first has not switched
    finally:
        release.touch()
    code, err = first.finish()
    assert code == 0, err
    assert current_version(index) != before[0]
    clean = tmp_path / "clean"
    build(write_tree(clean / "docs", DOCS_V2), clean / "index", FakeEmbedderFactory())
    assert content(index) == content(clean / "index")  # never an interleaved index


def test_many_refreshes_racing_give_one_consistent_index(changed, tmp_path):
    """Six `kotae index` processes started together: each either refreshes or is refused."""
    import subprocess

    from tests.reliability.helpers import child_env, indexer_command

    docs, index, _ = changed
    procs = [subprocess.Popen(indexer_command(docs, index, batch_delay=0.01), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, env=child_env()) for _ in range(6)]
    results = [(p.wait(60), p.stderr.read()) for p in procs if p.stderr is not None]
    for p in procs:
        if p.stderr is not None:
            p.stderr.close()
    assert all(code in (0, 1) for code, _ in results), results
    for code, err in results:
        if code == 1:
            assert "already refreshing" in err, err
    assert any(code == 0 for code, _ in results)
    clean = tmp_path / "clean"
    build(write_tree(clean / "docs", DOCS_V2), clean / "index", FakeEmbedderFactory())
    assert content(index) == content(clean / "index")
    assert leftovers(index) == []


def test_kotae_index_prints_no_library_debug_lines(tmp_path):
    run = run_indexer(write_tree(tmp_path / "docs", DOCS), tmp_path / "index")
    assert run.code == 0, run.stderr
    assert [line for line in run.stderr.splitlines() if " DEBUG " in line] == []
