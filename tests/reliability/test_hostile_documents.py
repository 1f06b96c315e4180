"""Hostile and unlucky documents (issue #17, documents half): each case once crashed a refresh
with a traceback, hung it, or made a citation point at text the file no longer holds.

Every test is bounded in time: a hang fails the test instead of blocking the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import knowledge
from bot.answer import answer
from embeddings import open_index
from knowledge.errors import DocumentError
from knowledge.lines import line_starts
from tests.embeddings.helpers import build
from tests.fakes import FakeEmbedder, FakeEmbedderFactory
from tests.reliability.helpers import PARAMS, ROOT, child_env, run_indexer, write_tree

GOOD = {"good.txt": "国際電気通信連合\n\n国際電気通信連合（ITU）は国連の専門機関である。本部はジュネーブにある。\n"}


def _refresh(docs: Path, index: Path, problems: list | None = None):
    return build(docs, index, FakeEmbedderFactory(), on_problem=(problems.append if problems is not None else None))


def _failed(report) -> dict[str, str]:
    return dict(report.failed)


def _no_traceback(run) -> None:
    assert "Traceback" not in run.stderr, run.stderr[-3000:]


# -- tracebacks --------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_file_name_that_is_not_utf8_is_skipped_and_later_refreshes_work(tmp_path):
    docs = write_tree(tmp_path / "docs", GOOD)
    name = os.fsencode(str(docs)) + b"/latin1-caf\xe9.txt"
    with open(name, "wb") as f:
        f.write("カフェの資料\n\nこの文書の名前はUTF-8ではない。\n".encode())
    for _ in range(2):  # a second refresh is not blocked by the first
        problems: list[DocumentError] = []
        _refresh(docs, tmp_path / "index", problems)
        assert len(problems) == 1, problems
        rel, reason = problems[0].path, problems[0].reason
        assert "latin1-caf" in rel and "UTF-8" in reason and "rename" in reason
        rel.encode("utf-8")  # what the report names can be printed and stored
    assert set(open_index(tmp_path / "index").documents) == {"good.txt"}


@pytest.mark.timeout(60)
def test_a_folder_name_that_is_not_utf8_is_skipped(tmp_path):
    docs = write_tree(tmp_path / "docs", GOOD)
    folder = os.fsencode(str(docs)) + b"/r\xe9sum\xe9s"
    os.mkdir(folder)
    with open(folder + b"/a.txt", "wb") as f:
        f.write("資料\n\n中身。\n".encode())
    problems: list[DocumentError] = []
    _refresh(docs, tmp_path / "index", problems)
    assert len(problems) == 1 and "UTF-8" in problems[0].reason, problems
    assert set(open_index(tmp_path / "index").documents) == {"good.txt"}


@pytest.mark.timeout(60)
def test_the_cli_reports_a_non_utf8_name_without_a_traceback(tmp_path):
    docs = write_tree(tmp_path / "docs", GOOD)
    with open(os.fsencode(str(docs)) + b"/latin1-caf\xe9.txt", "wb") as f:
        f.write("カフェ\n\n本文。\n".encode())
    run = run_indexer(docs, tmp_path / "index", timeout=60)
    _no_traceback(run)
    assert run.code == 0 and "latin1-caf" in run.stderr and "UTF-8" in run.stderr


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("yaml_text", "word"),
    [
        ("good.txt: " + "[" * 3000 + "]" * 3000 + "\n", "nested"),
        ("good.txt:\n" + "".join("  " * k + f"k{k}:\n" for k in range(1, 1200)), "nested"),
        ("good.txt:\n  date: 2024-02-30\n", "2024-02-30"),
        ("good.txt:\n  date: 2024-13-01 25:61:00\n", "date"),
    ],
    ids=["flow-3000", "block-1200", "feb-30", "bad-timestamp"],
)
def test_a_metadata_file_nested_too_deep_or_with_an_impossible_date_is_a_clear_error(tmp_path, yaml_text, word):
    docs = write_tree(tmp_path / "docs", GOOD)
    (docs / "kotae-metadata.yaml").write_text(yaml_text, encoding="utf-8")
    with pytest.raises(DocumentError) as caught:
        _refresh(docs, tmp_path / "index")
    assert caught.value.path == "kotae-metadata.yaml" and word in caught.value.reason, caught.value
    run = run_indexer(docs, tmp_path / "index", timeout=60)
    _no_traceback(run)
    assert run.code != 0 and "kotae-metadata.yaml" in run.stderr


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "front",
    ["date: 2024-02-30\n", "title: " + "[" * 3000 + "]" * 3000 + "\n"],
    ids=["feb-30", "nested"],
)
def test_markdown_front_matter_with_an_impossible_date_or_deep_nesting_is_read_as_text(tmp_path, front):
    docs = write_tree(tmp_path / "docs", {"a.md": "---\n" + front + "---\n\n# 見出し\n\n本文である。\n"})
    report = _refresh(docs, tmp_path / "index")
    assert report.added == ["a.md"], report
    assert "本文である。" in "".join(p.text for p in open_index(tmp_path / "index").passages)


@pytest.mark.timeout(120)
def test_a_folder_tree_990_levels_deep_is_walked(tmp_path):
    docs = write_tree(tmp_path / "docs", GOOD)
    deep = docs
    for _ in range(990):  # one level at a time: Path.mkdir(parents=True) itself recurses
        deep = deep / "d"
        deep.mkdir()
    try:
        (deep / "bottom.txt").write_text("最下層\n\nいちばん深い文書である。\n", encoding="utf-8")
        found = knowledge.discover(docs)
        assert [s.rel for s in found] == ["d/" * 990 + "bottom.txt", "good.txt"]
        report = _refresh(docs, tmp_path / "index")
        assert len(report.added) == 2, report
    finally:  # shutil.rmtree (and so pytest's clean-up of old temporary folders) recurses too
        (deep / "bottom.txt").unlink(missing_ok=True)
        while deep != docs:
            deep.rmdir()
            deep = deep.parent


# -- hangs ---------------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_metadata_file_that_is_a_fifo_is_refused_without_waiting(tmp_path):
    docs = write_tree(tmp_path / "docs", GOOD)
    os.mkfifo(docs / "kotae-metadata.yaml")
    run = run_indexer(docs, tmp_path / "index", timeout=30)
    _no_traceback(run)
    assert run.code != 0 and "kotae-metadata.yaml" in run.stderr and "named pipe" in run.stderr


@pytest.mark.timeout(60)
@pytest.mark.parametrize("when", ["before hashing", "before reading"])
def test_a_document_replaced_by_a_fifo_is_skipped_without_waiting(tmp_path, monkeypatch, when):
    docs = write_tree(tmp_path / "docs", {**GOOD, "pipe.txt": "管\n\nまだ普通の文書。\n"})

    def to_fifo() -> None:
        (docs / "pipe.txt").unlink()
        os.mkfifo(docs / "pipe.txt")

    if when == "before hashing":
        real_discover = knowledge.discover

        def discover(*args, **kwargs):
            found = real_discover(*args, **kwargs)
            to_fifo()
            return found

        monkeypatch.setattr(knowledge, "discover", discover)
    else:
        real_read = knowledge.read_document

        def read_document(source, meta=None):
            if source.rel == "pipe.txt":
                to_fifo()
            return real_read(source, meta)

        monkeypatch.setattr(knowledge, "read_document", read_document)
    report = _refresh(docs, tmp_path / "index")
    assert "named pipe" in _failed(report)["pipe.txt"], report
    assert set(open_index(tmp_path / "index").documents) == {"good.txt"}


# -- the metadata file: links and size -------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_metadata_file_linked_to_dev_zero_is_refused(tmp_path):
    docs = write_tree(tmp_path / "docs", GOOD)
    os.symlink("/dev/zero", docs / "kotae-metadata.yaml")
    with pytest.raises(DocumentError) as caught:
        _refresh(docs, tmp_path / "index")
    assert caught.value.path == "kotae-metadata.yaml"
    assert "outside the documents folder" in caught.value.reason or "device" in caught.value.reason


@pytest.mark.timeout(60)
def test_a_metadata_file_linked_outside_the_folder_is_not_followed(tmp_path):
    docs = write_tree(tmp_path / "docs", GOOD)
    (tmp_path / "elsewhere.yaml").write_text("good.txt:\n  title: 外から来た題名\n", encoding="utf-8")
    os.symlink(tmp_path / "elsewhere.yaml", docs / "kotae-metadata.yaml")
    with pytest.raises(DocumentError) as caught:
        _refresh(docs, tmp_path / "index")
    assert "outside the documents folder" in caught.value.reason


@pytest.mark.timeout(60)
def test_a_metadata_file_linked_inside_the_folder_is_followed(tmp_path):
    docs = write_tree(tmp_path / "docs", GOOD)
    (docs / "meta").mkdir()
    (docs / "meta" / "real.yaml").write_text("good.txt:\n  title: 中の題名\n", encoding="utf-8")
    os.symlink("meta/real.yaml", docs / "kotae-metadata.yaml")
    _refresh(docs, tmp_path / "index")
    assert open_index(tmp_path / "index").documents["good.txt"].title == "中の題名"


@pytest.mark.timeout(60)
def test_a_metadata_file_over_the_size_limit_is_refused(tmp_path):
    from knowledge import limits

    docs = write_tree(tmp_path / "docs", GOOD)
    with (docs / "kotae-metadata.yaml").open("wb") as f:
        f.truncate(limits.MAX_METADATA_BYTES + 1)  # sparse: cheap to make
    with pytest.raises(DocumentError) as caught:
        _refresh(docs, tmp_path / "index")
    assert f"{limits.MAX_METADATA_BYTES:,}" in caught.value.reason


# -- citations: the cited place, and text the file still holds -------------------------------------


def _line_of(text: str, offset: int) -> int:
    starts = line_starts(text)
    return sum(1 for s in starts if s <= offset)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("breaks", [("\r",), ("\r\n", "\r", "\n")], ids=["classic-mac", "mixed"])
def test_quote_lines_count_lone_cr_and_mixed_line_endings(tmp_path, breaks):
    sentences = [f"第{n}項では周波数の国際協調について議論した。" for n in range(40)]
    text = "国際協調の記録" + breaks[0] + breaks[-1]
    text += "".join(s + breaks[k % len(breaks)] for k, s in enumerate(sentences))
    docs = write_tree(tmp_path / "docs", {})
    (docs / "mac.txt").write_bytes(text.encode("utf-8"))
    build(docs, tmp_path / "index", FakeEmbedderFactory())
    index = open_index(tmp_path / "index")
    checked = 0
    for q in ("第31項では周波数の国際協調", "第7項では周波数", "第22項の議論"):
        reply = answer(index, FakeEmbedder(), q, PARAMS)
        cites = {c.n: c for c in reply.citations}
        for quote in reply.quotes:
            at = text.index(quote.text)
            cite = cites[quote.citation]
            assert cite.start_line == _line_of(text, at), (quote.text, cite)
            assert cite.end_line == _line_of(text, at + len(quote.text) - 1), (quote.text, cite)
            checked += 1
    assert checked


@pytest.mark.timeout(60)
@pytest.mark.parametrize("damage", ["emptied", "truncated mid-character", "binary"])
def test_a_document_whose_bytes_changed_into_something_unreadable_is_dropped(tmp_path, damage):
    old_text = "消えた資料\n\n旧い本文はジュネーブの会合について述べる。\n"
    docs = write_tree(tmp_path / "docs", {**GOOD, "gone.txt": old_text})
    build(docs, tmp_path / "index", FakeEmbedderFactory())
    data = (docs / "gone.txt").read_bytes()
    new = {"emptied": b"", "truncated mid-character": data[:-2], "binary": bytes(range(32)) * 8}[damage]
    (docs / "gone.txt").write_bytes(new)
    report = _refresh(docs, tmp_path / "index")
    index = open_index(tmp_path / "index")
    if damage != "truncated mid-character" or "gone.txt" in _failed(report):
        assert "gone.txt" in _failed(report), report
        assert "gone.txt" in report.removed, report  # the refresh report says what was dropped
        assert "gone.txt" not in index.documents
    else:  # decoded some other way: then what is indexed is what the file now holds
        decoded = new.decode(index.documents["gone.txt"].encoding)
        assert all(decoded[p.start:p.end] == p.text for p in index.passages if p.doc_path == "gone.txt")
    reply = answer(index, FakeEmbedder(), "旧い本文はジュネーブの会合", PARAMS)
    assert all("旧い本文" not in q.text for q in reply.quotes)


@pytest.mark.timeout(60)
def test_a_document_that_cannot_be_opened_keeps_its_rows(tmp_path, monkeypatch):
    """Permission denied says nothing about the content: the old rows stay (refresh docstring)."""
    docs = write_tree(tmp_path / "docs", {**GOOD, "locked.txt": "鍵\n\n鍵のかかった文書。\n"})
    build(docs, tmp_path / "index", FakeEmbedderFactory())
    (docs / "locked.txt").write_text("鍵\n\n書き換えた文書。\n", encoding="utf-8")
    real_open = os.open

    def deny(path, *args, **kwargs):
        if os.fspath(path).endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    report = _refresh(docs, tmp_path / "index")
    monkeypatch.undo()
    assert "permission denied" in _failed(report)["locked.txt"]
    assert "locked.txt" in open_index(tmp_path / "index").documents


@pytest.mark.timeout(60)
@pytest.mark.parametrize("when", ["after discovery", "after hashing"])
def test_a_link_swapped_to_an_outside_file_after_its_check_is_not_read(tmp_path, monkeypatch, when):
    """The race of the independent run (1 build in 20), made deterministic: the link points inside
    when the folder is walked and outside when the file is read."""
    docs = write_tree(tmp_path / "docs", GOOD)
    # hidden: listed through the link only
    (docs / ".inside.txt").write_text("内側\n\n内側の文書である。\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("秘密\n\n外部の秘密の文書。索引されてはならない。\n", encoding="utf-8")
    os.symlink(".inside.txt", docs / "link.txt")

    def swap() -> None:
        tmp = docs / "link.tmp"
        os.symlink(tmp_path / "secret.txt", tmp)
        os.replace(tmp, docs / "link.txt")

    if when == "after discovery":
        real_discover = knowledge.discover

        def discover(*args, **kwargs):
            found = real_discover(*args, **kwargs)
            swap()
            return found

        monkeypatch.setattr(knowledge, "discover", discover)
    else:
        real_read = knowledge.read_document

        def read_document(source, meta=None):
            if source.rel == "link.txt":
                swap()
            return real_read(source, meta)

        monkeypatch.setattr(knowledge, "read_document", read_document)
    report = _refresh(docs, tmp_path / "index")
    assert "outside the documents folder" in _failed(report).get("link.txt", ""), report
    index = open_index(tmp_path / "index")
    assert all("秘密" not in p.text for p in index.passages)


@pytest.mark.timeout(120)
def test_swapping_a_link_during_builds_never_indexes_the_outside_file(tmp_path):
    """The independent run's race, as it happened: another process flips the link all the time."""
    docs = write_tree(tmp_path / "docs", GOOD)
    # hidden: listed through the link only
    (docs / ".inside.txt").write_text("内側\n\n内側の文書である。\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("秘密\n\n外部の秘密の文書。\n", encoding="utf-8")
    os.symlink(".inside.txt", docs / "link.txt")
    flipper = subprocess.Popen(
        [sys.executable, "-c", (
            "import os, sys, time\n"
            "docs, secret = sys.argv[1], sys.argv[2]\n"
            "end = time.monotonic() + 100\n"
            "k = 0\n"
            "while time.monotonic() < end:\n"
            "    k += 1\n"
            "    tmp = os.path.join(docs, 'link.tmp')\n"
            "    os.symlink(secret if k % 2 else '.inside.txt', tmp)\n"
            "    os.replace(tmp, os.path.join(docs, 'link.txt'))\n"
        ), str(docs), str(tmp_path / "secret.txt")],
        env=child_env(), cwd=ROOT,
    )
    try:
        for k in range(20):
            build(docs, tmp_path / f"index{k}", FakeEmbedderFactory(), full=True)
            index = open_index(tmp_path / f"index{k}")
            assert all("秘密" not in p.text for p in index.passages), k
    finally:
        flipper.kill()
        flipper.wait(10)
