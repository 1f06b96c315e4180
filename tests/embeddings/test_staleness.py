"""Noticing that the documents changed since the index was built: sizes and times first, hashes
only when those cannot tell."""

from __future__ import annotations

import os

import knowledge
from embeddings import open_index
from embeddings.staleness import Staleness, check_staleness
from tests.embeddings.helpers import DOCS, build, write_docs
from tests.fakes import FakeEmbedderFactory


def _index(tmp_path):
    docs = write_docs(tmp_path / "docs", DOCS)
    build(docs, tmp_path / "index", FakeEmbedderFactory())
    return docs, open_index(tmp_path / "index").documents


def test_the_manifest_records_each_documents_size_and_time(tmp_path):
    docs, documents = _index(tmp_path)
    for rel, info in documents.items():
        stat = (docs / rel).stat()
        assert (info.size, info.mtime_ns) == (stat.st_size, stat.st_mtime_ns)


def test_an_untouched_folder_is_fresh_and_nothing_is_hashed(tmp_path, monkeypatch):
    docs, documents = _index(tmp_path)
    hashed = []
    real = knowledge.file_sha256
    monkeypatch.setattr(knowledge, "file_sha256", lambda path: hashed.append(path) or real(path))
    assert check_staleness(docs, documents) == Staleness()
    assert hashed == []


def test_added_changed_and_removed_documents_are_named(tmp_path):
    docs, documents = _index(tmp_path)
    (docs / "new.md").write_text("# 新しい文書\n\n内容。\n", encoding="utf-8")
    (docs / "itu.txt").write_text(DOCS["itu.txt"] + "追記。\n", encoding="utf-8")
    (docs / "weather.txt").unlink()
    stale = check_staleness(docs, documents)
    assert stale == Staleness(added=("new.md",), changed=("itu.txt",), removed=("weather.txt",))
    assert stale.stale
    assert stale.describe() == "1 added (new.md), 1 changed (itu.txt), 1 removed (weather.txt)"


def test_same_size_new_time_is_settled_by_the_hash(tmp_path):
    docs, documents = _index(tmp_path)
    path = docs / "isdb.txt"
    touched = path.stat().st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(touched, touched))  # touched, content the same
    assert not check_staleness(docs, documents).stale
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("ボツワナ", "ボリビア"), encoding="utf-8")  # same size, other words
    os.utime(path, ns=(touched + 1, touched + 1))
    assert path.stat().st_size == documents["isdb.txt"].size
    assert check_staleness(docs, documents).changed == ("isdb.txt",)


def test_an_index_without_recorded_sizes_is_checked_by_hash(tmp_path):
    import dataclasses

    docs, documents = _index(tmp_path)
    old = {rel: dataclasses.replace(info, size=None, mtime_ns=None) for rel, info in documents.items()}
    assert not check_staleness(docs, old).stale
    (docs / "itu.txt").write_text("別の内容\n", encoding="utf-8")
    assert check_staleness(docs, old).changed == ("itu.txt",)


def test_a_file_the_build_could_not_read_is_not_reported_as_added_again(tmp_path):
    docs, documents = _index(tmp_path)
    built_at = open_index(tmp_path / "index").manifest.created_at
    assert check_staleness(docs, documents, built_at) == Staleness()
    skipped = docs / "broken.pdf"  # there at the build, unreadable, so not in the index
    skipped.write_bytes(b"%PDF-1.4 broken")
    old = 1_000_000_000
    os.utime(skipped, (old, old))
    stale = check_staleness(docs, documents, built_at)
    assert stale.added == ("broken.pdf",)  # moved in after the build: its ctime is new
    assert check_staleness(docs, documents, "2999-01-01T00:00:00Z") == Staleness()  # built after it
