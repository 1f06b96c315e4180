"""discover and file_sha256: what is listed, what is skipped, and links."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from knowledge import DocumentError, discover, file_sha256
from knowledge.errors import UNSUPPORTED, ConfigError


def touch(path: Path, text: str = "本文。") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def rels(docs: Path, problems: list[DocumentError] | None = None) -> list[str]:
    return [s.rel for s in discover(docs, problems.append if problems is not None else None)]


def test_supported_files_are_listed_sorted_by_relative_path(tmp_path):
    for name in ["b.txt", "a.MD", "sub/z.html", "sub/deeper/y.HTM", "c.markdown", "d.pdf",
                 "e.docx", "NOTICE", "kotae-metadata.yaml", "f.txt.bak"]:  # fmt: skip
        touch(tmp_path / name)
    problems: list = []
    assert rels(tmp_path, problems) == [
        "a.MD", "b.txt", "c.markdown", "d.pdf", "e.docx", "sub/deeper/y.HTM", "sub/z.html"
    ]
    assert sorted((p.path, p.category) for p in problems) == [("NOTICE", UNSUPPORTED), ("f.txt.bak", UNSUPPORTED)]


def test_source_files_carry_absolute_path_size_and_mtime(tmp_path):
    path = touch(tmp_path / "sub" / "a.txt", "あいう")
    [src] = discover(tmp_path)
    assert src.path == path.absolute() and src.path.is_absolute()
    assert src.rel == "sub/a.txt"
    assert src.size == 9
    assert src.mtime_ns == path.stat().st_mtime_ns


def test_hidden_files_and_folders_are_skipped(tmp_path):
    touch(tmp_path / ".hidden.txt")
    touch(tmp_path / ".git" / "notes.md")
    touch(tmp_path / "visible" / ".draft.md")
    touch(tmp_path / "visible" / "ok.md")
    assert rels(tmp_path) == ["visible/ok.md"]


def test_a_missing_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="KOTAE_DOCS"):
        discover(tmp_path / "nope")


def test_a_link_to_a_file_outside_is_not_followed(tmp_path):
    docs, outside = tmp_path / "docs", tmp_path / "outside"
    touch(docs / "inside.txt")
    secret = touch(outside / "secret.txt")
    (docs / "leak.txt").symlink_to(secret)
    (docs / "leakdir").symlink_to(outside, target_is_directory=True)
    problems: list[DocumentError] = []
    assert rels(docs, problems) == ["inside.txt"]
    assert sorted(p.path for p in problems) == ["leak.txt", "leakdir"]
    assert all("outside the documents folder" in p.reason for p in problems)


def test_symlink_loops_do_not_hang(tmp_path):
    docs = tmp_path / "docs"
    touch(docs / "a" / "doc.txt")
    (docs / "a" / "up").symlink_to(docs, target_is_directory=True)  # a cycle
    (docs / "self.txt").symlink_to(docs / "self.txt")  # a link to itself
    (docs / "ping").symlink_to(docs / "pong")
    (docs / "pong").symlink_to(docs / "ping")
    problems: list[DocumentError] = []
    assert rels(docs, problems) == ["a/doc.txt"]
    assert {p.path for p in problems} == {"a/up", "self.txt", "ping", "pong"}


def test_links_inside_the_folder_are_followed_once(tmp_path):
    docs = tmp_path / "docs"
    touch(docs / "real.txt")
    touch(docs / ".store" / "kept.md")
    (docs / "alias.txt").symlink_to(docs / "real.txt")  # duplicate of a listed file
    (docs / "kept.md").symlink_to(docs / ".store" / "kept.md")  # only reachable by the link
    (docs / "more").symlink_to(docs / ".store", target_is_directory=True)
    problems: list[DocumentError] = []
    assert rels(docs, problems) == ["kept.md", "real.txt"]
    assert {p.path for p in problems} == {"alias.txt", "more/kept.md"}


def test_a_broken_link_is_reported(tmp_path):
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    problems: list[DocumentError] = []
    assert rels(tmp_path, problems) == []
    assert [p.path for p in problems] == ["dangling.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can list folders whatever their mode")
def test_an_unreadable_folder_is_reported_and_skipped(tmp_path):
    touch(tmp_path / "ok.txt")
    locked = tmp_path / "locked"
    touch(locked / "x.txt")
    locked.chmod(0)
    try:
        problems: list[DocumentError] = []
        assert rels(tmp_path, problems) == ["ok.txt"]
        assert [p.path for p in problems] == ["locked"]
    finally:
        locked.chmod(0o755)


def test_file_sha256_hashes_raw_bytes_in_blocks(tmp_path):
    data = os.urandom(3 * (1 << 20) + 17)  # more than one block
    path = tmp_path / "big.pdf"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_file_sha256_reports_a_missing_file(tmp_path):
    with pytest.raises(DocumentError, match="disappeared"):
        file_sha256(tmp_path / "nope.txt")
