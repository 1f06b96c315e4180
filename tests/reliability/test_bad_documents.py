"""A documents folder full of trouble, indexed by a real `kotae index` process: every bad file is
reported by path with a reason, every good one is indexed and quoted verbatim."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import knowledge
from bot.answer import answer
from embeddings import open_index
from tests.embeddings.helpers import build
from tests.fakes import FakeEmbedder, FakeEmbedderFactory
from tests.knowledge.minimal_pdf import build_pdf, encrypted
from tests.reliability.helpers import PARAMS, run_indexer, write_tree

JA = "国際電気通信連合\n\n国際電気通信連合（ITU）は電気通信に関する国連の専門機関である。①本部はジュネーブにある～。\n"
ZERO_WIDTH = "見出し\n\n零幅\u200b文字\u200dと制御\x07文字\ufeffを含む文書である。\u202e逆向き\u202c。\n"
GOOD_PDF = build_pdf(["Kotae reads PDF files. Each page is extracted.", "The second page."])


#: Files decoded and indexed: name -> (bytes, the text Kotae must quote).
GOOD: dict[str, tuple[bytes, str]] = {
    "sjis.txt": (JA.replace("①", "").replace("～", "").encode("shift_jis"), JA.replace("①", "").replace("～", "")),
    "cp932.txt": (JA.encode("cp932"), JA),
    "eucjp.txt": (JA.replace("①", "").replace("～", "").encode("euc_jp"), JA.replace("①", "").replace("～", "")),
    "utf16.txt": (JA.encode("utf-16"), JA),
    "utf16be.md": (b"\xfe\xff" + ("# 見出し\n\n" + JA).encode("utf-16-be"), "# 見出し\n\n" + JA),
    "utf8bom.md": (b"\xef\xbb\xbf" + ("# 題名\n\n" + JA).encode(), "# 題名\n\n" + JA),
    "crlf.txt": (JA.replace("\n", "\r\n").encode(), JA.replace("\n", "\r\n")),
    "long-line.txt": (("電波" * 60_000 + "\n").encode(), "電波" * 60_000 + "\n"),
    "zero-width.txt": (ZERO_WIDTH.encode(), ZERO_WIDTH),
    "mixed-scripts.md": ("# 混在\n\nKotae は 日本語・English・한국어・中文 と emoji 🎌👍🏽 を含む。\n".encode(),
                         "# 混在\n\nKotae は 日本語・English・한국어・中文 と emoji 🎌👍🏽 を含む。\n"),
    "good.pdf": (GOOD_PDF, "Kotae reads PDF files."),
}

#: Files refused: name -> (bytes, a word the reason must contain).
BAD: dict[str, tuple[bytes, str]] = {
    "empty.txt": (b"", "empty"),
    "blank.md": (b" \n\t\r\n  \n", "whitespace"),
    "binary.txt": (bytes(range(256)) * 64, "binary"),
    "png-named.md": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2048), "binary"),
    "controls.txt": (b"\x01\x02\x03\x04\x05\x06\x07\x08" * 200 + "少し".encode(), "binary"),
    "bad-bom.txt": (b"\xef\xbb\xbf" + b"\xff\xfe\xfd" * 10, "byte-order mark"),
    "utf16-no-bom.txt": (JA.encode("utf-16-le"), "NUL"),
    "encrypted.pdf": (encrypted(GOOD_PDF), "encrypted"),
    "truncated.pdf": (GOOD_PDF[:200], "damaged"),
    "not-really.pdf": ("これはPDFではない。".encode(), "not a PDF"),
    "only-front-matter.md": (b"---\ntitle: x\n---\n", "front matter"),
    "invisible.html": (b"<html><head><title>t</title><script>var a=1;</script></head><body></body></html>", "visible"),
}

LINKS = {"outside.txt": "outside", "loop": "already included", "broken.txt": "broken"}


def _make_folder(root: Path) -> Path:
    docs = write_tree(root / "docs", {"base.txt": "基本資料\n\nこの資料は正常な文書である。\n"})
    for name, (data, _) in {**GOOD, **BAD}.items():
        (docs / name).write_bytes(data)
    (root / "secret.txt").write_text("外部の秘密。この文は索引されてはならない。\n", encoding="utf-8")
    os.symlink(root / "secret.txt", docs / "outside.txt")
    os.symlink(".", docs / "loop")
    os.symlink("nowhere.txt", docs / "broken.txt")
    return docs


def test_every_bad_file_is_reported_and_the_rest_is_indexed(tmp_path):
    docs = _make_folder(tmp_path)
    run = run_indexer(docs, tmp_path / "index")
    assert run.code == 0, run.stderr
    skipped = {line.split(": ", 2)[1].removeprefix("skipped "): line.split(": ", 2)[2]
               for line in run.stderr.splitlines() if line.startswith("kotae: skipped ")}
    for name, (_, word) in BAD.items():
        assert name in skipped, (name, run.stderr)
        assert word in skipped[name], (name, skipped[name])
    for name, word in LINKS.items():
        reported = [rel for rel in skipped if rel.startswith(name)]
        assert reported and word in skipped[reported[0]], (name, skipped)
    index = open_index(tmp_path / "index")
    assert set(index.documents) == {"base.txt", *GOOD}
    assert f"{len(BAD)} skipped" in run.stderr or "skipped" in run.stderr
    assert all("secret" not in p.text and "秘密" not in p.text for p in index.passages)
    for name, (_, text) in GOOD.items():  # decoded, and every passage is the exact decoded text
        info = index.documents[name]
        first, count = info.passages
        assert count > 0, name
        if name.endswith(".pdf"):
            assert any(text in index.passages[r].text for r in range(first, first + count))
            continue
        for row in range(first, first + count):
            p = index.passages[row]
            assert text[p.start:p.end] == p.text, name
    print(f"\nmalformed files tried: {len(BAD) + len(LINKS)} refused + {len(GOOD)} awkward but valid")


def test_encoded_documents_are_quoted_verbatim_in_answers(tmp_path):
    docs = _make_folder(tmp_path)
    build(docs, tmp_path / "index", FakeEmbedderFactory())
    index = open_index(tmp_path / "index")
    reply = answer(index, FakeEmbedder(), "ITUの本部はどこ？", PARAMS)
    sources = {c.n: c.source for c in reply.citations}
    assert reply.quotes
    for quote in reply.quotes:
        source = sources[quote.citation]
        expected = GOOD.get(source, (b"", "基本資料\n\nこの資料は正常な文書である。\n"))[1]
        assert quote.text in expected, (source, quote.text)
    assert {"sjis.txt", "cp932.txt", "eucjp.txt", "utf16.txt"} & set(sources.values())
    assert index.documents["sjis.txt"].encoding == "cp932"
    assert index.documents["eucjp.txt"].encoding == "euc_jp"


def test_invalid_byte_sequences_are_refused_or_decoded_without_mojibake(tmp_path):
    """UTF-8 with a few broken bytes: either refused with a reason, or the Japanese survives."""
    good = ("国際協調\n\n" + "周波数の国際協調について議論した。" * 20 + "\n").encode()
    data = good[:90] + b"\xff\xfe\x80" + good[90:]
    docs = write_tree(tmp_path / "docs", {})
    (docs / "broken-utf8.txt").write_bytes(data)
    problems: list[knowledge.DocumentError] = []
    report = build(docs, tmp_path / "index", FakeEmbedderFactory(), on_problem=problems.append)
    if report.failed:
        assert report.failed[0][0] == "broken-utf8.txt" and "encoding" in report.failed[0][1]
        return
    text = "".join(p.text for p in open_index(tmp_path / "index").passages)
    assert "周波数の国際協調" in text, f"decoded as mojibake: {text[:80]!r}"


def test_unreadable_file_is_reported_and_the_rest_indexed(tmp_path, monkeypatch):
    """Root reads everything whatever the mode bits, so EACCES is simulated at the open."""
    docs = write_tree(tmp_path / "docs", {"a.txt": "資料A\n\n読める文書。\n", "locked.txt": "秘密\n\n読めない。\n"})
    real = os.open

    def refuse(path, *args, **kwargs):
        if os.fspath(path).endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    report = build(docs, tmp_path / "index", FakeEmbedderFactory())
    assert report.failed == [("locked.txt", "permission denied; make the file readable by the user that runs Kotae")]
    assert set(open_index(tmp_path / "index").documents) == {"a.txt"}


@pytest.mark.parametrize("change", ["edited", "deleted", "replaced by a folder"])
def test_a_file_changed_while_being_indexed(tmp_path, monkeypatch, change):
    docs = write_tree(tmp_path / "docs", {"a.txt": "資料A\n\n最初の内容。\n", "b.txt": "資料B\n\n元の内容。\n"})
    real = knowledge.read_document

    def read_document(source, meta=None):
        doc = real(source, meta)
        if source.rel == "a.txt":  # b.txt was hashed already; it changes before it is read
            target = docs / "b.txt"
            if change == "edited":
                target.write_text("資料B\n\n書き換えた内容。\n", encoding="utf-8")
            else:
                target.unlink()
                if change == "replaced by a folder":
                    target.mkdir()
        return doc

    monkeypatch.setattr(knowledge, "read_document", read_document)
    report = build(docs, tmp_path / "index", FakeEmbedderFactory())
    monkeypatch.undo()
    index = open_index(tmp_path / "index")
    if change == "edited":  # indexed as read, recorded with the hash of what was read
        text = "".join(p.text for p in index.passages if p.doc_path == "b.txt")
        assert "書き換えた内容" in text
        assert build(docs, tmp_path / "index", FakeEmbedderFactory()).nothing_changed
    else:
        assert report.failed and report.failed[0][0] == "b.txt", report
        assert "disappeared" in report.failed[0][1] or "folder" in report.failed[0][1]
        assert set(index.documents) == {"a.txt"}
