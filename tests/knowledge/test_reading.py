"""read_document on plain text: encodings, titles, and the files it must refuse."""

from __future__ import annotations

import codecs
import hashlib
import os
from pathlib import Path

import pytest

from knowledge import DocMeta, DocumentError, SourceFile, bundled_corpus_dir, read_document
from knowledge.sources import discover

WHITEPAPER = (bundled_corpus_dir() / "whitepaper-2013-international-strategy.txt").read_text(
    encoding="utf-8"
)
# Three real sentences of the white paper (kanji, kana, ASCII, full-width brackets).
SAMPLE = WHITEPAPER[WHITEPAPER.index("ミャンマー政府は") :].split("\n")[0]
CP932_ONLY = "①会議は９時～１７時、㈱総務テスト主催。"  # not in plain Shift_JIS


def source_for(tmp_path: Path, name: str, data: bytes) -> SourceFile:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    st = path.stat()
    return SourceFile(path, name, st.st_size, st.st_mtime_ns)


def read(tmp_path: Path, name: str, data: bytes, meta: DocMeta | None = None):
    return read_document(source_for(tmp_path, name, data), meta)


@pytest.mark.parametrize(
    ("text", "encode", "expected_encoding"),
    [
        (SAMPLE, lambda s: s.encode("shift_jis"), "cp932"),
        (SAMPLE + CP932_ONLY, lambda s: s.encode("cp932"), "cp932"),
        (SAMPLE, lambda s: s.encode("euc_jp"), "euc_jp"),
        ("本日は晴天なり。", lambda s: s.encode("euc_jp"), "euc_jp"),
        (CP932_ONLY, lambda s: s.encode("cp932"), "cp932"),
        (SAMPLE, lambda s: codecs.BOM_UTF16_LE + s.encode("utf-16-le"), "utf-16-le"),
        (SAMPLE, lambda s: codecs.BOM_UTF16_BE + s.encode("utf-16-be"), "utf-16-be"),
        (SAMPLE, lambda s: codecs.BOM_UTF8 + s.encode("utf-8"), "utf-8-sig"),
        (SAMPLE, lambda s: s.encode("utf-8"), "utf-8"),
        (SAMPLE, lambda s: s.encode("iso2022_jp"), "iso2022_jp"),
    ],
    ids=["sjis", "cp932", "euc", "euc-short", "cp932-short", "u16le", "u16be", "u8bom", "u8", "jis"],
)
def test_japanese_encodings_decode_to_the_original(tmp_path, text, encode, expected_encoding):
    raw = encode(text)
    doc = read(tmp_path, "doc.txt", raw)
    assert doc.text == text
    assert doc.encoding == expected_encoding
    assert doc.sha256 == hashlib.sha256(raw).hexdigest()


def test_whole_corpus_file_round_trips_through_cp932(tmp_path):
    doc = read(tmp_path, "wp.txt", WHITEPAPER.encode("cp932"))
    assert doc.text == WHITEPAPER
    assert [h.title for h in doc.headings][:2] == ["第8節 国際戦略の推進", "1 国際政策における重点推進課題"]


def test_crlf_is_kept_verbatim_and_lines_still_count(tmp_path):
    doc = read(tmp_path, "crlf.txt", "題名\r\n\r\n本文の一行目。\r\n二行目。\r\n".encode())
    assert "\r\n" in doc.text
    assert doc.line_at(doc.text.index("二行目")) == 4


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b" \n\t\n", "only whitespace"),
        (codecs.BOM_UTF8, "only whitespace"),  # decodes to no text at all
        (codecs.BOM_UTF8 + "\u3000\n".encode(), "only whitespace"),  # an ideographic space
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (bytes(range(1, 9)) * 200, "binary"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8\x41", "byte-order mark"),
        (bytes(range(0x80, 0x100)) * 8, ""),
    ],
    ids=["empty", "blank", "bom-only", "ideographic-space", "png", "controls", "bad-utf16", "high-bytes"],
)
def test_unusable_files_raise_document_error_naming_the_file(tmp_path, data, reason):
    with pytest.raises(DocumentError) as info:
        read(tmp_path, "sub/bad.txt", data)
    assert info.value.path == "sub/bad.txt"
    assert reason in info.value.reason
    assert str(info.value).startswith("sub/bad.txt: ")


def test_a_vanished_file_is_reported(tmp_path):
    src = source_for(tmp_path, "gone.txt", "本文。".encode())
    src.path.unlink()
    with pytest.raises(DocumentError, match="disappeared"):
        read_document(src)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files whatever their mode")
def test_an_unreadable_file_is_reported(tmp_path):
    src = source_for(tmp_path, "secret.txt", "本文。".encode())
    src.path.chmod(0)
    try:
        with pytest.raises(DocumentError, match="permission denied"):
            read_document(src)
    finally:
        src.path.chmod(0o644)


def test_permission_errors_map_to_a_helpful_reason(tmp_path, monkeypatch):
    # Runs even as root: the OS error is raised at the edge where the file is opened.
    src = source_for(tmp_path, "secret.txt", "本文。".encode())

    real_open = os.open

    def refuse(path, *args, **kwargs):
        if os.fspath(path).endswith("secret.txt"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(DocumentError, match="permission denied; make the file readable"):
        read_document(src)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("国際戦略局\n\n本文が始まる。", "国際戦略局"),
        ("第8節 国際戦略の推進\n\n1 国際政策\n", "第8節 国際戦略の推進"),
        ("WCIT-12（2012年世界国際電\n\n気通信会議）", "notes"),  # unbalanced: a wrapped line
        ("総務省トップ > 報道資料 > 結果\n\n本文。", "notes"),  # breadcrumb
        ("短いが続く行\n次の行がすぐ続く。", "notes"),  # not standalone
        ("これは本文の文です。\n\n次。", "notes"),  # a sentence
        ("\n\n  0  \n\n本文", "notes"),  # a page number
    ],
)
def test_plain_text_title_is_the_first_line_only_when_it_looks_like_one(tmp_path, text, title):
    assert read(tmp_path, "notes.txt", text.encode()).title == title


def test_metadata_title_url_and_date_win(tmp_path):
    meta = DocMeta(title="正式な題名", url="https://example.org/a", date="2013", attribution="出典")
    doc = read(tmp_path, "a.txt", "仮の題名\n\n本文。".encode(), meta)
    assert (doc.title, doc.url, doc.date, doc.meta) == (
        "正式な題名",
        "https://example.org/a",
        "2013",
        {"attribution": "出典"},
    )


def test_extension_case_does_not_matter(tmp_path):
    (tmp_path / "UPPER.TXT").write_bytes("大文字の拡張子。".encode())
    [src] = discover(tmp_path)
    assert read_document(src).kind == "text"
