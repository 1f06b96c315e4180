"""load_metadata and load_documents: bad input is reported, the rest is read."""

from __future__ import annotations

import os

import pytest

from knowledge import DocMeta, DocumentError, load_documents, load_metadata

from .minimal_pdf import build_pdf


def write(path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def test_metadata_maps_relative_paths_to_fields(tmp_path):
    write(
        tmp_path / "kotae-metadata.yaml",
        "a.txt:\n  title: 題名\n  date: 2014-09-19\n  url: https://example.org\n"
        "sub/b.md:\n  attribution: 出典：総務省ウェブサイト\n./c.txt:\n",
    )
    assert load_metadata(tmp_path) == {
        "a.txt": DocMeta(title="題名", url="https://example.org", date="2014-09-19"),
        "sub/b.md": DocMeta(attribution="出典：総務省ウェブサイト"),
        "c.txt": DocMeta(),
    }


def test_no_metadata_file_means_no_metadata(tmp_path):
    assert load_metadata(tmp_path) == {}
    write(tmp_path / "kotae-metadata.yaml", "# only a comment\n")
    assert load_metadata(tmp_path) == {}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("a.txt: [unclosed\n", "not valid YAML at line"),
        ("- a.txt\n- b.txt\n", "must be a mapping from document paths"),
        ("a.txt: just a string\n", "must be a mapping of title"),
        ("a.txt:\n  titel: typo\n", "unknown key 'titel'"),
        ("a.txt:\n  title: [a, b]\n", "must be a single text value"),
        (b"a.txt:\n  title: \x93\x8c\x8b\x9e\n", "not UTF-8"),
    ],
    ids=["syntax", "list", "scalar-entry", "unknown-key", "list-value", "not-utf8"],
)
def test_malformed_metadata_raises_with_a_clear_reason(tmp_path, content, reason):
    write(tmp_path / "kotae-metadata.yaml", content)
    with pytest.raises(DocumentError) as info:
        load_metadata(tmp_path)
    assert info.value.path == "kotae-metadata.yaml"
    assert reason in info.value.reason


def test_load_documents_reports_failures_and_goes_on(tmp_path):
    write(tmp_path / "good.txt", "良い文書です。")
    write(tmp_path / "sub/also-good.md", "# 題\n\n本文。")
    write(tmp_path / "binary.txt", b"\x00\x01\x02\x03" * 50)
    write(tmp_path / "empty.md", b"")
    write(tmp_path / "broken.pdf", build_pdf(["Some text."])[:200])
    write(tmp_path / "page.html", "<p>ページの本文。</p>")
    write(tmp_path / "kotae-metadata.yaml", "good.txt:\n  title: 良い題名\nmissing.txt:\n  title: x\n")
    problems: list[DocumentError] = []
    docs = list(load_documents(tmp_path, on_problem=problems.append))
    assert [d.path for d in docs] == ["good.txt", "page.html", "sub/also-good.md"]
    assert docs[0].title == "良い題名"
    assert sorted(p.path for p in problems) == [
        "binary.txt",
        "broken.pdf",
        "empty.md",
        "kotae-metadata.yaml",  # names a document that does not exist
    ]
    assert all(p.reason for p in problems)


def test_load_documents_goes_on_without_a_malformed_metadata_file(tmp_path):
    write(tmp_path / "a.txt", "題名の行\n\n本文。")
    write(tmp_path / "kotae-metadata.yaml", "a.txt: [\n")
    problems: list[DocumentError] = []
    [doc] = load_documents(tmp_path, on_problem=problems.append)
    assert doc.title == "題名の行"
    assert [p.path for p in problems] == ["kotae-metadata.yaml"]


def test_without_a_handler_problems_are_logged(tmp_path, caplog):
    write(tmp_path / "empty.txt", b"")
    write(tmp_path / "ok.txt", "本文。")
    with caplog.at_level("WARNING", logger="knowledge.loading"):
        assert [d.path for d in load_documents(tmp_path)] == ["ok.txt"]
    assert "empty.txt" in caplog.text


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files whatever their mode")
def test_load_documents_skips_an_unreadable_file(tmp_path):
    write(tmp_path / "a.txt", "読める。")
    write(tmp_path / "b.txt", "読めない。")
    (tmp_path / "b.txt").chmod(0)
    try:
        problems: list[DocumentError] = []
        assert [d.path for d in load_documents(tmp_path, problems.append)] == ["a.txt"]
        assert [(p.path, "permission denied" in p.reason) for p in problems] == [("b.txt", True)]
    finally:
        (tmp_path / "b.txt").chmod(0o644)
