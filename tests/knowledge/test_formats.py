"""Markdown, HTML and PDF: titles, headings, body ranges, source lines and pages."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter

from knowledge import ChunkSettings, DocMeta, DocumentError, chunk_document, read_document

from .minimal_pdf import build_pdf, encrypted
from .test_reading import read, source_for

# -- Markdown -------------------------------------------------------------------------------

MARKDOWN = """---
title: 前付けの題名
date: 2024-02-27
url: https://example.org/md
---
# 本文の大見出し

導入の文です。

## 背景

背景の説明です。
```text
# これはコードであって見出しではない
```

### 詳細 ###

詳細の説明です。C# も書ける。
"""


def test_markdown_front_matter_title_and_body(tmp_path):
    doc = read(tmp_path, "note.md", MARKDOWN.encode())
    assert doc.kind == "markdown"
    assert doc.text == MARKDOWN  # the raw file, front matter included
    assert doc.title == "前付けの題名"
    assert (doc.date, doc.url) == ("2024-02-27", "https://example.org/md")
    [(start, end)] = doc.body
    assert doc.text[start:].startswith("# 本文の大見出し") and end == len(MARKDOWN)
    ps = chunk_document(doc, ChunkSettings())
    assert all(p.start >= start for p in ps)
    assert not any("前付け" in p.text for p in ps)


def test_markdown_headings_skip_code_and_use_relative_levels(tmp_path):
    doc = read(tmp_path, "note.md", MARKDOWN.replace("# 本文の大見出し", "本文").encode())
    assert [(h.level, h.title) for h in doc.headings] == [(1, "背景"), (2, "詳細")]
    for h in doc.headings:
        assert doc.text[h.start : h.end] == h.title


def test_markdown_passages_carry_their_section_and_lines(tmp_path):
    doc = read(tmp_path, "note.md", MARKDOWN.encode())
    hit = next(p for p in chunk_document(doc) if "詳細の説明" in p.text)
    assert hit.section == ("本文の大見出し", "背景", "詳細")
    # the passage starts at the heading text (after the opening #s) and is one verbatim slice
    assert hit.text == "詳細 ###\n\n詳細の説明です。C# も書ける。"
    lines = MARKDOWN.split("\n")
    assert hit.start_line == lines.index("### 詳細 ###") + 1
    assert hit.end_line == lines.index("詳細の説明です。C# も書ける。") + 1


def test_markdown_title_falls_back_to_the_first_h1_then_the_file_name(tmp_path):
    assert read(tmp_path, "a.md", "## 小見出し\n\n# 大見出し\n\n本文。".encode()).title == "大見出し"
    assert read(tmp_path, "b.markdown", "## 小見出しだけ\n\n本文。".encode()).title == "b"
    meta = DocMeta(title="メタデータの題名")
    assert read(tmp_path, "c.md", MARKDOWN.encode(), meta).title == "メタデータの題名"


def test_markdown_with_only_front_matter_is_refused(tmp_path):
    with pytest.raises(DocumentError, match="no content"):
        read(tmp_path, "empty.md", b"---\ntitle: x\n---\n\n")


def test_a_leading_rule_that_is_not_yaml_stays_content(tmp_path):
    doc = read(tmp_path, "rule.md", "---\n- 項目\n- 項目\n---\n本文。".encode())
    assert doc.body == ((0, len(doc.text)),)


# -- HTML -----------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html>
<head>
  <meta charset="shift_jis">
  <title>  日米対話の
  結果 </title>
  <script>
    var x = "<p>見えない</p>";
  </script>
</head>
<body>
<nav><a href="/">総務省トップ</a></nav>
<h1>デジタルエコノミーに関する日米対話</h1>
<p>両国は、セキュアな5Gネットワークの
発展を確認した。</p>
<!-- 注釈
 複数行 -->
<h2>(1) AIガバナンス</h2>
<ul>
  <li>広島AIプロセスを前進させる。</li>
  <li>国際的な議論に<b>貢献</b>する。</li>
</ul>
<style>p { color: red; }
</style>
<p>最後の段落。<br>改行の後。</p>
</body>
</html>
"""


def html_doc(tmp_path, text=HTML, encoding="shift_jis"):
    return read(tmp_path, "page.html", text.encode(encoding))


def test_html_visible_text_title_and_headings(tmp_path):
    doc = html_doc(tmp_path)
    assert doc.kind == "html" and doc.encoding == "cp932"
    assert doc.title == "日米対話の 結果"
    assert "見えない" not in doc.text and "color" not in doc.text and "注釈" not in doc.text
    assert "両国は、セキュアな5Gネットワークの 発展を確認した。" in doc.text
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "デジタルエコノミーに関する日米対話"),
        (2, "(1) AIガバナンス"),
    ]
    for h in doc.headings:
        assert doc.text[h.start : h.end] == h.title


def test_html_lines_map_to_source_lines(tmp_path):
    doc = html_doc(tmp_path)
    source_lines = HTML.split("\n")
    for snippet in ["デジタルエコノミー", "両国は", "発展を確認", "広島AI", "国際的な議論", "最後の段落", "改行の後"]:
        offset = doc.text.index(snippet)
        line = doc.line_at(offset)
        assert snippet in source_lines[line - 1], (snippet, line)


def test_html_passages_have_sections_and_source_lines(tmp_path):
    doc = html_doc(tmp_path)
    hit = next(p for p in chunk_document(doc) if "広島AI" in p.text)
    assert hit.section == ("デジタルエコノミーに関する日米対話", "(1) AIガバナンス")
    assert hit.text.startswith("(1) AIガバナンス")
    lines = HTML.split("\n")
    assert hit.start_line == lines.index("<h2>(1) AIガバナンス</h2>") + 1
    assert hit.end_line == lines.index("<p>最後の段落。<br>改行の後。</p>") + 1


def test_html_title_falls_back_to_first_h1_and_detects_euc_without_declaration(tmp_path):
    page = "<html><body><h2>副題</h2><h1>主題です</h1><p>本文はここにある。</p></body></html>"
    doc = html_doc(tmp_path, page, "euc_jp")
    assert doc.title == "主題です" and doc.encoding == "euc_jp"


def test_html_ruby_readings_are_left_out(tmp_path):
    page = "<p><ruby>総務省<rp>（</rp><rt>そうむしょう</rt><rp>）</rp></ruby>の発表。</p>"
    assert html_doc(tmp_path, page, "utf-8").text == "総務省の発表。"


def test_html_pre_keeps_its_layout(tmp_path):
    doc = html_doc(tmp_path, "<p>前</p>\n<pre>\n  一行目\n    二行目\n</pre>", "utf-8")
    assert "  一行目\n    二行目" in doc.text
    assert doc.line_at(doc.text.index("二行目")) == 4


def test_html_without_visible_text_is_refused(tmp_path):
    with pytest.raises(DocumentError, match="no visible text"):
        html_doc(tmp_path, "<html><head><title>題</title></head><body> </body></html>", "utf-8")


# -- PDF ------------------------------------------------------------------------------------

PAGES = [
    "Kotae reads PDF files. Each page is extracted.\nThe first page ends here.",
    "The second page talks about passages. It has two sentences.",
    "The third page closes the document.",
]


def test_pdf_text_pages_and_title(tmp_path):
    doc = read(tmp_path, "report.pdf", build_pdf(PAGES, title="Annual Report"))
    assert doc.kind == "pdf" and doc.title == "Annual Report"
    assert len(doc.page_starts) == 3 and doc.page_starts[0] == 0
    for k, page in enumerate(PAGES, start=1):
        first_line = page.split("\n")[0]
        assert doc.page_at(doc.text.index(first_line)) == k


def test_pdf_page_numbers_survive_into_passages(tmp_path):
    doc = read(tmp_path, "report.pdf", build_pdf(PAGES))
    assert doc.title == "report"  # no /Title: the file name
    ps = chunk_document(doc, ChunkSettings(max_chars=60, overlap_chars=0))
    pages_seen = set()
    for p in ps:
        assert p.text == doc.text[p.start : p.end]
        expected = next(k for k, page in enumerate(PAGES, 1) if p.text.split("\n")[0] in page)
        assert p.page == expected and p.end_page == expected
        assert p.start_line == doc.text.count("\n", 0, p.start) + 1
        pages_seen.add(p.page)
    assert pages_seen == {1, 2, 3}
    whole = chunk_document(doc, ChunkSettings(max_chars=1000, overlap_chars=0))
    assert [(p.page, p.end_page) for p in whole] == [(1, 3)]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (encrypted(build_pdf(PAGES)), "encrypted"),
        (build_pdf(PAGES)[:300], "damaged"),
        (b"%PDF-1.4\n" + bytes(range(256)) * 4, "damaged"),
        ("これはPDFではない。".encode(), "not a PDF"),
        (build_pdf([""]), "no text layer: 1 page"),
    ],
    ids=["encrypted", "truncated", "garbage", "not-pdf", "no-text"],
)
def test_unreadable_pdfs_are_refused_with_a_reason(tmp_path, data, reason):
    with pytest.raises(DocumentError) as info:
        read(tmp_path, "docs/bad.pdf", data)
    assert info.value.path == "docs/bad.pdf"
    assert reason in info.value.reason


def test_pdf_with_an_empty_user_password_is_read(tmp_path):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(build_pdf(PAGES))))
    writer.encrypt("", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    src = source_for(tmp_path, "open.pdf", out.getvalue())
    assert "second page" in read_document(src).text
