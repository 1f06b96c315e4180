"""Small files that once made unbounded work (issue #17): each is now refused by a per-document
limit, reported as skipped naming the limit, or its cost is capped — within a test timeout."""

from __future__ import annotations

import time
import zlib

import pytest

from embeddings import open_index
from knowledge import limits
from knowledge.passage import ChunkSettings
from tests.embeddings.helpers import build
from tests.fakes import FakeEmbedderFactory
from tests.knowledge.minimal_pdf import serialize
from tests.reliability.helpers import run_indexer, write_tree

GOOD = {"good.txt": "国際電気通信連合\n\n国際電気通信連合（ITU）は国連の専門機関である。本部はジュネーブにある。\n"}
MIB = 1024 * 1024


def _pdf(page_contents: list[int], streams: list[bytes]) -> bytes:
    """A PDF whose page ``k`` draws stream number ``page_contents[k]`` (Flate-compressed)."""
    n_pages = len(page_contents)
    first_stream = 4 + n_pages
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{4 + k} 0 R' for k in range(n_pages))}] /Count {n_pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for s in page_contents:
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {first_stream + s} 0 R >>".encode()
        )
    for data in streams:
        packed = zlib.compress(data, 9)
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream")
    return serialize(objects)


def _skipped(tmp_path, name: str, data: bytes | str) -> tuple[str, float]:
    docs = write_tree(tmp_path / "docs", GOOD)
    (docs / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    started = time.perf_counter()
    report = build(docs, tmp_path / "index", FakeEmbedderFactory())
    seconds = time.perf_counter() - started
    failed = dict(report.failed)
    assert name in failed, report
    assert set(open_index(tmp_path / "index").documents) == {"good.txt"}
    return failed[name], seconds


@pytest.mark.timeout(120)
def test_a_pdf_whose_pages_share_one_huge_stream_is_skipped_naming_the_limit(tmp_path):
    drawing = b"0 0 m 10 10 l S\n" * (70 * MIB // 16)  # 70 MiB of drawing operators
    pdf = _pdf([0] * 20, [drawing])
    assert len(pdf) < 200_000
    reason, _ = _skipped(tmp_path, "amplified.pdf", pdf)
    assert "limit" in reason and f"{limits.MAX_PDF_PAGE_CONTENT_BYTES:,}" in reason, reason


@pytest.mark.timeout(120)
def test_a_pdf_with_one_giant_text_operator_is_skipped_naming_the_limit(tmp_path):
    shown = b"BT /F1 12 Tf 72 720 Td (" + b"word " * (60_000_000 // 5) + b") Tj ET\n"
    pdf = _pdf([0], [shown])
    assert len(pdf) < 300_000
    reason, _ = _skipped(tmp_path, "giant-text.pdf", pdf)
    assert "limit" in reason, reason


@pytest.mark.timeout(120)
def test_a_pdf_with_many_pages_of_text_stops_at_the_document_text_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", 50_000)
    page = b"BT /F1 12 Tf 72 720 Td (" + b"many words on a page " * 300 + b") Tj ET\n"  # 6,300 chars
    reason, _ = _skipped(tmp_path, "long.pdf", _pdf(list(range(20)), [page] * 20))
    assert "50,000" in reason and "limit" in reason, reason


@pytest.mark.timeout(120)
def test_html_of_100000_nested_divs_is_handled_in_linear_time(tmp_path):
    page = "<html><body>" + "<div>\n" * 100_000 + "深い入れ子の本文である。" + "</div>\n" * 100_000 + "</body></html>"
    assert len(page.encode()) > 1_300_000
    docs = write_tree(tmp_path / "docs", {**GOOD, "nested.html": page})
    report = build(docs, tmp_path / "index", FakeEmbedderFactory())
    failed = dict(report.failed)
    if "nested.html" in failed:
        assert "limit" in failed["nested.html"] and "nest" in failed["nested.html"], failed
    else:
        assert "深い入れ子の本文である。" in "".join(p.text for p in open_index(tmp_path / "index").passages)


@pytest.mark.timeout(120)
def test_a_300kb_markdown_heading_is_capped_in_sections_and_embedding_texts(tmp_path):
    heading = "長い見出し" * 60_000  # 300,000 characters
    body = "".join(f"第{n}段落では周波数の国際協調について議論した。\n\n" for n in range(300))
    docs = write_tree(tmp_path / "docs", {"big-heading.md": f"# {heading}\n\n{body}"})
    texts: list[str] = []

    class Recording(FakeEmbedderFactory):
        def __call__(self, model):
            embedder = super().__call__(model)
            real = embedder.embed_passages

            def embed_passages(batch):
                texts.extend(batch)
                return real(batch)

            embedder.embed_passages = embed_passages
            return embedder

    build(docs, tmp_path / "index", Recording(), chunking=ChunkSettings())  # the default 400 characters
    index = open_index(tmp_path / "index")
    assert max(len(s) for p in index.passages for s in p.section) <= limits.MAX_HEADING_CHARS
    assert len(index.documents["big-heading.md"].title) <= limits.MAX_HEADING_CHARS
    body_passages = [p for p in index.passages if "段落" in p.text]
    assert body_passages and all(p.section for p in body_passages)
    assert max(len(t) for t in texts if "段落" in t) < 3 * limits.MAX_HEADING_CHARS + 400


@pytest.mark.timeout(120)
def test_a_two_million_character_title_in_the_metadata_file_is_capped(tmp_path):
    docs = write_tree(tmp_path / "docs", GOOD)
    body = "".join(f"第{n}段落では周波数の国際協調について議論した。" for n in range(200))
    (docs / "good.txt").write_text("題\n\n" + body + "\n", encoding="utf-8")
    (docs / "kotae-metadata.yaml").write_text("good.txt:\n  title: " + "t" * 2_000_000 + "\n", encoding="utf-8")
    build(docs, tmp_path / "index", FakeEmbedderFactory())
    index = open_index(tmp_path / "index")
    assert len(index.documents["good.txt"].title) <= limits.MAX_HEADING_CHARS


@pytest.mark.timeout(60)
def test_a_document_over_the_size_limit_is_skipped_naming_the_limit(tmp_path):
    docs = write_tree(tmp_path / "docs", GOOD)
    with (docs / "huge.txt").open("wb") as f:
        f.truncate(limits.MAX_DOCUMENT_BYTES + 1)  # sparse: cheap to make
    report = build(docs, tmp_path / "index", FakeEmbedderFactory())
    reason = dict(report.failed)["huge.txt"]
    assert f"{limits.MAX_DOCUMENT_BYTES:,}" in reason and "limit" in reason, reason
    run = run_indexer(docs, tmp_path / "index2", timeout=60)
    assert run.code == 0 and "huge.txt" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["long.txt", "long.md", "long.html"])
def test_a_document_whose_text_is_over_the_limit_is_skipped_naming_the_limit(tmp_path, monkeypatch, name):
    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", 10_000)
    text = "題\n\n" + "周波数の国際協調について議論した。" * 1_000
    if name.endswith(".html"):
        text = f"<html><body><p>{text}</p></body></html>"
    reason, _ = _skipped(tmp_path, name, text)
    assert "10,000" in reason and "limit" in reason, reason
