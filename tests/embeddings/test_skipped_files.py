"""Every file of the documents folder is indexed or listed with why; the same skipped files are no news."""

from __future__ import annotations

import json

from embeddings import current_version, open_index
from knowledge.errors import EMPTY, UNREADABLE, UNSUPPORTED
from tests.embeddings.helpers import build


def versions(index_dir) -> list[str]:
    return sorted(p.name for p in (index_dir / "versions").iterdir())


def test_skipped_files_are_listed_by_category_and_recorded(built, docs_dir, index_dir, factory):
    (docs_dir / "slides.odp").write_bytes(b"PK\x03\x04 not read")
    (docs_dir / "blank.txt").write_text("   \n", encoding="utf-8")
    (docs_dir / "cut.docx").write_bytes(b"PK\x03\x04" + bytes(200))
    report = build(docs_dir, index_dir, factory)
    got = {s.path: s.category for s in report.skipped}
    assert got == {"slides.odp": UNSUPPORTED, "blank.txt": EMPTY, "cut.docx": UNREADABLE}
    assert [s.path for s in report.skipped] == sorted(got)
    assert sorted(rel for rel, _ in report.failed) == ["blank.txt", "cut.docx"]  # read and failed
    manifest = json.loads((index_dir / "versions" / report.version / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["skipped"]) == set(got)
    assert manifest["skipped"]["cut.docx"]["sha256"] and manifest["skipped"]["slides.odp"]["sha256"] is None


def test_a_refresh_whose_only_news_is_the_same_skipped_files_writes_nothing(built, docs_dir, index_dir, factory):
    (docs_dir / "cut.docx").write_bytes(b"PK\x03\x04" + bytes(200))
    (docs_dir / "photo.png").write_bytes(b"\x89PNG")
    first = build(docs_dir, index_dir, factory)
    assert not first.nothing_changed and first.added == []
    before = versions(index_dir)
    problems = []
    again = build(docs_dir, index_dir, factory, on_problem=problems.append)
    assert again.nothing_changed and again.version == first.version == current_version(index_dir)
    assert versions(index_dir) == before
    assert {s.path for s in again.skipped} == {"cut.docx", "photo.png"}  # still listed, with why
    assert {p.path for p in problems} == {"cut.docx", "photo.png"}
    assert factory.loads == 1


def test_a_skipped_file_that_changes_is_read_again(built, docs_dir, index_dir, factory):
    (docs_dir / "late.txt").write_text("", encoding="utf-8")
    assert [s.path for s in build(docs_dir, index_dir, factory).skipped] == ["late.txt"]
    (docs_dir / "late.txt").write_text("遅れて届いた文書\n\n内容が書き足された。\n", encoding="utf-8")
    report = build(docs_dir, index_dir, factory)
    assert report.added == ["late.txt"] and report.skipped == []
    assert "late.txt" in open_index(index_dir).documents


def test_a_skipped_file_that_disappears_is_dropped_from_the_list(built, docs_dir, index_dir, factory):
    (docs_dir / "photo.png").write_bytes(b"\x89PNG")
    build(docs_dir, index_dir, factory)
    (docs_dir / "photo.png").unlink()
    report = build(docs_dir, index_dir, factory)
    assert not report.nothing_changed and report.skipped == []
    assert build(docs_dir, index_dir, factory).nothing_changed
