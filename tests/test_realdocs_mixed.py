"""A folder of real documents nobody here wrote: Debian's Japanese manuals (HTML, typeset PDF),
Office files LibreOffice made from them, a scanned PDF, a broken file, files of other types.

Every file must be indexed or listed with its reason; every place a citation names must hold
the quoted text, checked against an independent reading of that place: ``pdftotext -f N -l N``
for a PDF page, python-pptx for a slide, openpyxl for cells, python-docx for a heading's
paragraphs. Structural checks run over whole manuals with the deterministic fake embedder; the
real model answers ``kotae ask --json`` over a small subset.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from bot.cli import main
from embeddings import open_index, refresh_index
from knowledge.errors import EMPTY, NO_TEXT_LAYER, UNREADABLE, UNSUPPORTED
from knowledge.passage import ChunkSettings
from knowledge.places import locate
from tests.fakes import FakeEmbedderFactory
from tests.officedocs import OfficeFiles, excerpt_pdf, office_files
from tests.realdocs import require, require_program


def squash(text: str) -> str:
    """What two extractors of the same place agree on: NFKC, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> OfficeFiles:
    return office_files(tmp_path_factory.getbasetemp())


def pdf_page_texts(pdf: Path) -> list[str]:
    """The text of every page as poppler reads it (``pdftotext -f N -l N``), squashed."""
    pdftotext = require_program("pdftotext", "poppler-utils")
    out = subprocess.run([pdftotext, "-layout", "-enc", "UTF-8", str(pdf), "-"], check=True,
                         capture_output=True, timeout=600).stdout.decode("utf-8")
    return [squash(page) for page in out.split("\f")]


def pdftotext_page(pdf: Path, page: int) -> str:
    pdftotext = require_program("pdftotext", "poppler-utils")
    out = subprocess.run([pdftotext, "-f", str(page), "-l", str(page), "-enc", "UTF-8", str(pdf), "-"],
                         check=True, capture_output=True, timeout=120).stdout.decode("utf-8")
    return squash(out)


# -- the whole mixed folder, fake embedder --------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, office):
    guide = require("maint-guide-ja")
    assert guide.pdf is not None
    docs = tmp_path_factory.mktemp("mixed") / "docs"
    shutil.copytree(office.folder, docs)
    (docs / "maint-guide").mkdir()
    for page in guide.html_pages():
        shutil.copy(page, docs / "maint-guide" / page.name)
    shutil.copy(guide.pdf, docs / "maint-guide.ja.pdf")
    shutil.copy(guide.html_dir / "debian.css", docs / "maint-guide" / "debian.css")
    edu = require("debian-edu-doc-ja").html_dir / "debian-edu-bookworm-manual.epub"
    if edu.exists():
        shutil.copy(edu, docs / "debian-edu-bookworm-manual.epub")
    (docs / "empty.txt").write_text("", encoding="utf-8")
    index = docs.parent / "index"
    factory = FakeEmbedderFactory()
    report = refresh_index(docs, index, model="fake:v1", chunking=ChunkSettings(), progress=False,
                           embedder_factory=factory)
    return docs, index, factory, report


def test_every_file_of_a_mixed_real_folder_is_indexed_or_listed_with_its_reason(mixed, office):
    docs, index, _factory, report = mixed
    files = {p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.is_file()}
    indexed = set(open_index(index).documents)
    skipped = {s.path: s for s in report.skipped}
    assert indexed | set(skipped) == files and not indexed & set(skipped)
    kinds = {open_index(index).documents[rel].kind for rel in indexed}
    assert {"html", "pdf", "docx", "pptx", "xlsx"} <= kinds
    assert skipped["scanned.pdf"].category == NO_TEXT_LAYER
    assert "no text layer: 2 pages" in skipped["scanned.pdf"].reason
    assert skipped["broken.docx"].category == UNREADABLE
    assert skipped["upload.ja.odt"].category == UNSUPPORTED and ".docx" in skipped["upload.ja.odt"].reason
    assert skipped["maint-guide/debian.css"].category == UNSUPPORTED
    assert skipped["empty.txt"].category == EMPTY


def test_the_same_skipped_files_again_are_no_news(mixed):
    docs, index, factory, report = mixed
    again = refresh_index(docs, index, model="fake:v1", chunking=ChunkSettings(), progress=False,
                          embedder_factory=factory)
    assert again.nothing_changed and again.version == report.version
    assert [s.path for s in again.skipped] == [s.path for s in report.skipped]


def test_index_json_lists_every_skipped_file_with_its_category(mixed, capsys):
    docs, index, factory, report = mixed
    cli_index = docs.parent / "cli-index"
    shutil.copytree(index, cli_index, symlinks=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("embeddings.refresh.DefaultEmbedderFactory", lambda **_: factory)
        mp.setattr("embeddings.embedder_id", factory.embedder_id)
        code = main(["index", str(docs), "--index", str(cli_index), "--model", "fake:v1", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    data = json.loads(out.out)
    assert data["nothing_changed"] is True
    assert {(s["path"], s["category"]) for s in data["skipped"]} == {(s.path, s.category) for s in report.skipped}
    assert "Index is up to date" in out.err and "Not indexed:" in out.err
    assert "  no text layer: 1 (scanned.pdf)" in out.err


def test_pdf_citations_name_the_page_of_every_sentence_of_a_real_typeset_manual(mixed):
    """Every sentence of the 69-page maint-guide PDF, cited as its own page, is on that page as
    poppler reads it — the check that found quotes cited one page early."""
    docs, index, _, _ = mixed
    pdf = docs / "maint-guide.ja.pdf"
    pages = pdf_page_texts(pdf)
    idx = open_index(index)
    first, count = idx.documents["maint-guide.ja.pdf"].passages
    checked: dict[int, int] = {}
    wrong = []
    unmatched = 0
    for row in range(first, first + count):
        passage = idx.passages[row]
        for start, end, _ in idx.passages.sentences(row):
            text = squash(passage.text[start - passage.start : end - passage.start])
            if len(text) < 8:
                continue  # too short to tell pages apart
            where = locate("pdf", passage.places, start, end)
            assert where.page is not None and where.end_page is not None
            cited = "".join(pages[where.page - 1 : where.end_page])
            if text in cited:
                checked[where.page] = checked.get(where.page, 0) + 1
            elif any(text in page for page in pages):
                wrong.append((where.page, text[:40]))
            else:
                unmatched += 1  # the two extractors disagree on some glyph: not a page question
    assert not wrong, wrong[:5]
    with_text = {k + 1 for k, page in enumerate(pages) if len(page) > 40}
    # A page laid out as a table (the title page's revision history) is read in another order by
    # the two extractors; every other page has sentences found on it, cited as it.
    assert len(with_text) > 60 and len(with_text - set(checked)) <= 2, sorted(with_text - set(checked))
    assert unmatched <= 0.05 * sum(checked.values())


def test_slides_and_cells_hold_the_text_cited_from_them(mixed, office):
    from openpyxl import load_workbook
    from pptx import Presentation

    _docs, index, _, _ = mixed
    idx = open_index(index)
    deck = Presentation(str(office.pptx))
    slide_texts = [squash(" ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame))
                   for slide in deck.slides]
    book = load_workbook(office.xlsx, data_only=True)
    for rel, kind in (("slides.pptx", "pptx"), ("apa.ja.xlsx", "xlsx")):
        first, count = idx.documents[rel].passages
        assert count > 0
        for row in range(first, first + count):
            passage = idx.passages[row]
            for start, end, _ in idx.passages.sentences(row):
                text = passage.text[start - passage.start : end - passage.start]
                where = locate(kind, passage.places, start, end)
                if kind == "pptx":
                    assert where.slide is not None
                    cited = "".join(slide_texts[where.slide - 1 : where.end_slide])
                    assert squash(text) in cited, (where, text)
                elif where.cells is not None:
                    assert squash(text) in cell_values(book[where.sheet], where.cells), (where, text)


def cell_values(sheet, cells: str) -> str:
    """The values of the cells of range ``cells`` (row by row), squashed, as openpyxl reads them."""
    block = sheet[cells]
    rows = block if isinstance(block, tuple) else ((block,),)
    return squash("".join(str(c.value) for row in rows for c in (row if isinstance(row, tuple) else (row,))
                          if c.value is not None))


def docx_sections(path: Path) -> dict[str, str]:
    """Heading path (``"a › b"``) → the squashed text under it, as python-docx reads the file."""
    from docx import Document

    found: dict[str, str] = {}
    trail: list[tuple[int, str]] = []
    for p in Document(str(path)).paragraphs:
        name = (p.style.name if p.style is not None else "") or ""
        m = re.fullmatch(r"Heading (\d)", name)
        if m and p.text.strip():
            level = int(m.group(1))
            while trail and trail[-1][0] >= level:
                trail.pop()
            trail.append((level, p.text.strip()))
        key = " › ".join(t for _, t in trail)
        found[key] = found.get(key, "") + squash(p.text)
    return found


def test_docx_headings_follow_the_word_styles_libreoffice_wrote(mixed, office):
    from docx import Document

    _docs, index, _, _ = mixed
    idx = open_index(index)
    word = Document(str(office.docx))
    headings = [p.text.strip() for p in word.paragraphs
                if p.style is not None and (p.style.name or "").lower().startswith(("heading", "title"))]
    assert len(headings) >= 3
    first, count = idx.documents["upload.ja.docx"].passages
    sections = {idx.passages[row].section for row in range(first, first + count)}
    used = {title for section in sections for title in section}
    assert used and used <= set(headings)
    assert any(len(section) >= 2 for section in sections)  # nested: chapter › section


# -- the real model, a small subset, through `kotae ask --json` --------------------------------------


@pytest.fixture(scope="module")
def answered(tmp_path_factory, office):
    reference = require("debian-reference-ja")
    assert reference.pdf is not None
    docs = tmp_path_factory.mktemp("askdocs") / "docs"
    docs.mkdir()
    for f in (office.docx, office.pptx, office.xlsx, office.scanned, office.broken):
        shutil.copy(f, docs / f.name)
    excerpt_pdf(reference.pdf, 60, 63, docs / "reference-p60-63.pdf")
    index = docs.parent / "index"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["index", str(docs), "--index", str(index), "--json"]) == 0
    return docs, index, json.loads(out.getvalue())


def ask(docs: Path, index: Path, question: str) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["ask", "--docs", str(docs), "--index", str(index), "--json", question]) == 0
    return json.loads(out.getvalue())


def quotes_from(reply: dict, source: str) -> list[tuple[str, dict]]:
    cites = {c["n"]: c for c in reply["citations"]}
    return [(q["text"], cites[q["citation"]]) for q in reply["quotes"] if cites[q["citation"]]["source"] == source]


@pytest.mark.model
@pytest.mark.timeout(2400)  # the first one builds the index with the real model (minutes on a busy machine)
def test_real_model_index_lists_the_scanned_and_the_broken_file(answered):
    _, _, report = answered
    assert {(s["path"], s["category"]) for s in report["skipped"]} == {
        ("scanned.pdf", NO_TEXT_LAYER), ("broken.docx", UNREADABLE)}


@pytest.mark.model
@pytest.mark.timeout(2400)  # the first one builds the index with the real model (minutes on a busy machine)
def test_quotes_from_every_page_of_a_real_pdf_cite_that_page(answered):
    docs, index, _ = answered
    pdf = docs / "reference-p60-63.pdf"
    seen = set()
    for page in range(1, 5):
        text = pdftotext_page(pdf, page)
        # ask with a stretch of the page's own words: the answer should quote from that page
        words = re.findall(r"[一-龥ぁ-んァ-ヶー]{6,}", subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-enc", "UTF-8", str(pdf), "-"],
            check=True, capture_output=True).stdout.decode("utf-8"))
        assert words, f"page {page} has no Japanese text"
        reply = ask(docs, index, max(words, key=len) + "とは？")
        for quote, cite in quotes_from(reply, "reference-p60-63.pdf"):
            pages = range(cite["page"], cite["end_page"] + 1)
            cited = "".join(pdftotext_page(pdf, p) for p in pages)
            # pypdf and poppler order a page's header and margin numbers differently, so the quote
            # is compared piece by piece (its runs of non-space characters), each on the cited page
            pieces = [squash(w) for w in quote.split() if len(squash(w)) >= 4]
            assert pieces and all(w in cited for w in pieces), (cite["page"], quote)
            seen.update(pages)
        assert text
    assert len(seen) >= 3, seen


@pytest.mark.model
@pytest.mark.timeout(2400)  # the first one builds the index with the real model (minutes on a busy machine)
def test_quotes_from_slides_cells_and_word_headings_are_where_cited(answered, office):
    from openpyxl import load_workbook
    from pptx import Presentation

    docs, index, _ = answered
    deck = Presentation(str(docs / "slides.pptx"))
    slide_texts = [squash(" ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame))
                   for slide in deck.slides]
    book = load_workbook(docs / "apa.ja.xlsx", data_only=True)
    cells = [(ws.title, c) for ws in book.worksheets for line in ws.iter_rows() for c in line
             if isinstance(c.value, str) and len(c.value) > 12]
    asked = {
        "slides.pptx": max(slide_texts[1].split("。"), key=len)[:30] + "とは？",
        "apa.ja.xlsx": cells[len(cells) // 2][1].value[:30] + "とは？",
        "upload.ja.docx": "パッケージをアーカイブにアップロードするには？",
    }
    for source, question in asked.items():
        found = quotes_from(ask(docs, index, question), source)
        assert found, f"no quote from {source} for {question!r}"
        for quote, cite in found:
            if source == "slides.pptx":
                assert cite["slide"] is not None
                assert squash(quote) in "".join(slide_texts[cite["slide"] - 1 : cite["end_slide"]])
            elif source == "apa.ja.xlsx":
                assert cite["sheet"] in book.sheetnames and cite["cells"]
                assert squash(quote) in cell_values(book[cite["sheet"]], cite["cells"]), (cite, quote)
            else:
                assert cite["page"] is None and cite["slide"] is None
                assert squash(quote) in docx_sections(docs / "upload.ja.docx")[cite["section"]], (cite, quote)
