"""Word, PowerPoint and Excel files: text, headings and places (slides, cells), read back.

The files here are written by the libraries' own writers, which lets each test set exactly the
structure it checks; files made by a real office suite are tested in ``tests/test_realdocs_mixed.py``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from knowledge.chunking import chunk_document
from knowledge.errors import EMPTY, UNREADABLE, UNSUPPORTED, DocumentError
from knowledge.passage import ChunkSettings
from knowledge.places import locate
from knowledge.reader import read_document
from knowledge.sources import SourceFile, discover


def source(folder: Path, name: str, data: bytes) -> SourceFile:
    path = folder / name
    path.write_bytes(data)
    st = path.stat()
    return SourceFile(path, name, st.st_size, st.st_mtime_ns)


def docx_bytes(build) -> bytes:
    from docx import Document

    document = Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_headings_from_styles_and_paragraphs_in_order(tmp_path):
    def build(d):
        d.core_properties.title = "運用手引き"
        d.add_heading("第1章 準備", level=1)
        d.add_paragraph("最初にパッケージを確認する。")
        d.add_heading("作業環境", level=2)
        d.add_paragraph("作業はchroot環境で行う。")
        table = d.add_table(rows=2, cols=2)
        for (r, c), text in {(0, 0): "項目", (0, 1): "値", (1, 0): "版", (1, 1): "12"}.items():
            table.cell(r, c).text = text
        d.add_heading("第2章 提出", level=1)
        d.add_paragraph("署名してからアップロードする。")

    doc = read_document(source(tmp_path, "guide.docx", docx_bytes(build)))
    assert doc.kind == "docx" and doc.title == "運用手引き"
    assert [(h.level, h.title) for h in doc.headings] == [(1, "第1章 準備"), (2, "作業環境"), (1, "第2章 提出")]
    assert all(doc.text[h.start : h.end] == h.title for h in doc.headings)
    assert "項目\t値\n\n版\t12" in doc.text
    assert doc.text.index("最初に") < doc.text.index("作業は") < doc.text.index("項目") < doc.text.index("署名")
    passages = chunk_document(doc, ChunkSettings(max_chars=60, overlap_chars=0))

    def section_of(text):
        return next(p.section for p in passages if text in p.text)

    assert section_of("作業はchroot環境で行う。") == ("第1章 準備", "作業環境")
    assert section_of("最初にパッケージを確認する。") == ("第1章 準備",)
    assert section_of("署名してからアップロードする。") == ("第2章 提出",)
    assert all(p.places == () for p in passages)  # a Word file has no pages to cite: its headings are the place


def test_docx_numbered_paragraphs_carry_the_number_word_shows(tmp_path):
    def build(d):
        for text in ("準備する", "ビルドする", "検査する"):
            d.add_paragraph(text, style="List Number")

    doc = read_document(source(tmp_path, "steps.docx", docx_bytes(build)))
    lines = [line for line in doc.text.split("\n") if line]
    assert lines == ["1. 準備する", "2. ビルドする", "3. 検査する"], lines


def pptx_bytes(slides: list[tuple[str | None, list[str]]]) -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    for title, lines in slides:
        layout = deck.slide_layouts[1 if title is not None else 6]
        slide = deck.slides.add_slide(layout)
        if title is not None:
            slide.shapes.title.text = title
            body = slide.placeholders[1].text_frame
        else:
            body = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(6), Inches(4)).text_frame
        body.text = lines[0]
        for line in lines[1:]:
            body.add_paragraph().text = line
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def test_pptx_slide_titles_are_headings_and_slides_are_places(tmp_path):
    data = pptx_bytes([
        ("概要", ["Debianは自由なOSである。", "多くの開発者が参加している。"]),
        (None, ["タイトルのないスライド。", "二行目の説明。"]),
        ("手順", ["ソースを取得する。", "パッケージを作る。"]),
    ])
    doc = read_document(source(tmp_path, "deck.pptx", data))
    assert doc.kind == "pptx"
    assert [h.title for h in doc.headings] == ["概要", "タイトルのないスライド。", "手順"]
    assert doc.place_names == ("1", "2", "3")
    truth = {"概要": 1, "Debianは": 1, "多くの": 1, "タイトルの": 2, "二行目": 2, "手順": 3, "ソース": 3, "パッケ": 3}
    seen = set()
    for p in chunk_document(doc, ChunkSettings(max_chars=40, overlap_chars=0)):
        for line in p.text.split("\n\n"):
            at = doc.text.index(line, p.start)
            slide = locate("pptx", p.places, at, at + len(line)).slide
            assert slide == next(v for k, v in truth.items() if line.startswith(k)), (line, slide)
            seen.add(slide)
    assert seen == {1, 2, 3}
    second = chunk_document(doc, ChunkSettings(max_chars=400, overlap_chars=0))
    assert [p.section for p in second] == [("概要",), ("タイトルのないスライド。",), ("手順",)]


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "予算"
    sheet.append(["項目", "金額", "備考"])
    sheet.append(["サーバー", 120000, "年額。"])
    sheet["B5"] = "離れたセルの値。"
    other = book.create_sheet("人員")
    other["C2"] = "担当者は二名。"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_sheets_are_headings_and_cells_are_places(tmp_path):
    doc = read_document(source(tmp_path, "book.xlsx", xlsx_bytes()))
    assert doc.kind == "xlsx"
    assert [h.title for h in doc.headings] == ["予算", "人員"]
    assert "項目\t金額\t備考\n\nサーバー\t120000\t年額。" in doc.text
    passages = chunk_document(doc)

    def where(text: str):
        p = next(p for p in passages if text in p.text)
        at = doc.text.index(text, p.start)
        return p, locate("xlsx", p.places, at, at + len(text))

    p, loc = where("年額。")
    assert (loc.sheet, loc.cells) == ("予算", "C2") and p.section == ("予算",)
    assert where("サーバー\t120000")[1].cells == "A2:B2"
    assert where("備考\n\nサーバー")[1].cells == "A1:C2"  # the box around every cell touched
    assert where("離れたセルの値。")[1].cells == "B5"
    p, loc = where("担当者は二名。")
    assert (loc.sheet, loc.cells, p.section) == ("人員", "C2", ("人員",))


@pytest.mark.parametrize(
    ("name", "data", "category", "words"),
    [
        ("cut.docx", None, UNREADABLE, "cannot be read as a Word"),
        ("old.xlsx", b"\xd0\xcf\x11\xe0" + bytes(600), UNREADABLE, "not a zip package"),
        ("notzip.pptx", "スライドではない".encode(), UNREADABLE, "not a zip package"),
        ("blank.docx", "blank", EMPTY, "holds no text"),
    ],
)
def test_broken_and_empty_office_files_are_refused_with_a_category(tmp_path, name, data, category, words):
    if data is None:
        data = docx_bytes(lambda d: d.add_paragraph("本文。"))[:2000]
    elif data == "blank":
        data = docx_bytes(lambda d: None)
    with pytest.raises(DocumentError) as info:
        read_document(source(tmp_path, name, data))
    assert info.value.category == category and words in info.value.reason


def test_a_zip_that_is_not_a_package_is_unreadable(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(DocumentError) as info:
        read_document(source(tmp_path, "fake.docx", out.getvalue()))
    assert info.value.category == UNREADABLE


def test_discover_lists_every_other_file_as_unsupported_with_what_to_do(tmp_path):
    for name in ("a.txt", "b.odt", "c.xls", "photo.png", "README"):
        (tmp_path / name).write_text("x")
    problems: list[DocumentError] = []
    found = discover(tmp_path, problems.append)
    assert [s.rel for s in found] == ["a.txt"]
    reasons = {p.path: p for p in problems}
    assert set(reasons) == {"b.odt", "c.xls", "photo.png", "README"}
    assert all(p.category == UNSUPPORTED for p in problems)
    assert "save it as .docx" in reasons["b.odt"].reason and "save it as .xlsx" in reasons["c.xls"].reason
