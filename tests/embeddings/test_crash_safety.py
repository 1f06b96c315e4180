"""Interrupted and concurrent refreshes never leave an index that cannot be served."""

from __future__ import annotations

import os
import threading

import pytest

import embeddings.layout as layout
import embeddings.lexical as lexical
from embeddings import RefreshReport, current_version, open_index
from knowledge.errors import IndexBusyError
from tests.embeddings.helpers import build, write_docs
from tests.fakes import FakeEmbedderFactory

LONG = "長い文書\n\n" + "".join(f"第{n}の会合では電波の国際協調について議論した。" for n in range(40)) + "\n"


def snapshot(index_dir):
    """What a server would answer from the current index."""
    index = open_index(index_dir)
    return (
        index.version,
        index.search_lexical("ボツワナ 日本方式", 5),
        index.search_dense(index.vectors[0], 5),
        [p.text for p in index.passages],
    )


def leftovers(index_dir) -> list[str]:
    names = [n for n in os.listdir(index_dir / "versions") if n.endswith(".tmp")]
    return names + [n for n in os.listdir(index_dir) if n.startswith("current.tmp")]


class Boom(Exception):
    pass


def test_model_failing_mid_refresh_leaves_the_previous_index(built, docs_dir, index_dir):
    before = snapshot(index_dir)
    write_docs(docs_dir, {"long.txt": LONG})

    def fail_on_second_batch(done: int) -> None:
        if done >= 1:
            raise Boom("model crashed")

    with pytest.raises(Boom):
        build(docs_dir, index_dir, FakeEmbedderFactory(before_batch=fail_on_second_batch))
    assert snapshot(index_dir) == before
    assert leftovers(index_dir) == []
    report = build(docs_dir, index_dir, FakeEmbedderFactory())
    assert report.added == ["long.txt"]
    assert "long.txt" in open_index(index_dir).documents


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, OSError])
def test_interrupt_while_writing_files_leaves_the_previous_index(
    built, docs_dir, index_dir, factory, monkeypatch, interrupt
):
    before = snapshot(index_dir)
    write_docs(docs_dir, {"new.txt": "新しい文書\n\n新しい内容です。\n"})

    def broken_save(self, directory):
        directory.mkdir()
        (directory / "half-written.npy").write_bytes(b"\x93NUMPY")
        raise interrupt("interrupted")

    monkeypatch.setattr(lexical.LexicalIndex, "save", broken_save)
    with pytest.raises(interrupt):
        build(docs_dir, index_dir, factory)
    assert snapshot(index_dir) == before
    assert leftovers(index_dir) == []
    monkeypatch.undo()
    assert build(docs_dir, index_dir, factory).added == ["new.txt"]


def test_interrupt_at_the_switch_leaves_the_previous_index(built, docs_dir, index_dir, factory, monkeypatch):
    before = snapshot(index_dir)
    write_docs(docs_dir, {"new.txt": "新しい文書\n\n新しい内容です。\n"})

    def no_switch(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(layout.os, "replace", no_switch)
    with pytest.raises(KeyboardInterrupt):
        build(docs_dir, index_dir, factory)
    monkeypatch.undo()
    assert snapshot(index_dir) == before
    assert leftovers(index_dir) == []
    orphans = set(os.listdir(index_dir / "versions")) - {built.version}
    assert len(orphans) == 1  # the renamed but never published version
    report = build(docs_dir, index_dir, factory)
    assert report.added == ["new.txt"]
    assert set(os.listdir(index_dir / "versions")) == {built.version, report.version}


def test_leftovers_of_a_killed_refresh_are_cleaned_by_the_next_run(built, docs_dir, index_dir, factory):
    before = snapshot(index_dir)
    stale = index_dir / "versions" / "20000101T000000Z-dead00.tmp"
    stale.mkdir()
    (stale / "vectors.npy").write_bytes(b"partial")
    os.symlink("versions/20000101T000000Z-dead00", index_dir / "current.tmp-999-abcdef")
    assert snapshot(index_dir) == before  # readers ignore them
    assert build(docs_dir, index_dir, factory).nothing_changed
    assert leftovers(index_dir) == []


def test_second_refresh_at_once_fails_fast_and_readers_are_not_blocked(built, docs_dir, index_dir):
    entered, release = threading.Event(), threading.Event()

    def hold(done: int) -> None:
        entered.set()
        assert release.wait(30)

    write_docs(docs_dir, {"new.txt": "新しい文書\n\n新しい内容です。\n"})
    result: dict[str, RefreshReport] = {}
    worker = threading.Thread(
        target=lambda: result.update(report=build(docs_dir, index_dir, FakeEmbedderFactory(before_batch=hold)))
    )
    worker.start()
    try:
        assert entered.wait(30)
        with pytest.raises(IndexBusyError) as info:
            build(docs_dir, index_dir, FakeEmbedderFactory())
        message = str(info.value)
        assert str(index_dir / ".lock") in message and "Wait" in message
        assert "`kotae index`" in message
        assert open_index(index_dir).version == built.version  # serving goes on
    finally:
        release.set()
        worker.join(30)
    assert result["report"].added == ["new.txt"]
    assert current_version(index_dir) == result["report"].version
