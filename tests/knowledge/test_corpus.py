"""The bundled MIC corpus: every passage is a verbatim slice at the right lines."""

from __future__ import annotations

import re
from functools import cache
from itertools import pairwise

import pytest

from knowledge import (
    ChunkSettings,
    Document,
    Passage,
    bundled_corpus_dir,
    chunk_document,
    discover,
    load_documents,
    load_metadata,
    split_sentences,
)
from knowledge.errors import UNSUPPORTED

CORPUS = bundled_corpus_dir()
FILES = sorted(p.name for p in CORPUS.glob("*.txt"))
SETTINGS = (ChunkSettings(), ChunkSettings(max_chars=150, overlap_chars=40), ChunkSettings(1000, 0))


@cache
def documents() -> dict[str, Document]:
    problems: list[object] = []
    docs = {d.path: d for d in load_documents(CORPUS, on_problem=problems.append)}
    assert [(p.path, p.category) for p in problems] == [("NOTICE", UNSUPPORTED)]
    return docs


@cache
def passages(name: str, settings: ChunkSettings) -> list[Passage]:
    return chunk_document(documents()[name], settings)


def file_line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in re.finditer(r"\r\n|\r|\n", text))]


def test_the_corpus_has_five_documents_and_nothing_else_is_discovered():
    assert len(FILES) == 5
    assert [s.rel for s in discover(CORPUS)] == FILES  # NOTICE and the YAML are not indexed


@pytest.mark.parametrize("name", FILES)
def test_text_is_exactly_the_decoded_file(name):
    doc = documents()[name]
    assert doc.text == (CORPUS / name).read_bytes().decode("utf-8")
    assert doc.encoding == "utf-8"
    assert doc.kind == "text"


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: f"{s.max_chars}-{s.overlap_chars}")
@pytest.mark.parametrize("name", FILES)
def test_passages_are_verbatim_slices_at_the_right_lines(name, settings):
    doc = documents()[name]
    source = (CORPUS / name).read_bytes().decode("utf-8")
    lines = re.split(r"\r\n|\r|\n", source)
    starts = file_line_starts(source)
    ps = passages(name, settings)
    assert ps, "every corpus document yields passages"
    for p in ps:
        assert p.text == doc.text[p.start : p.end] == source[p.start : p.end]
        assert p.text == p.text.strip() and p.text
        assert len(p.text) <= settings.max_chars
        assert p.doc_path == name
        # start_line is the line of the first character, end_line that of the last
        assert starts[p.start_line - 1] <= p.start < (
            starts[p.start_line] if p.start_line < len(starts) else len(source) + 1
        )
        assert starts[p.end_line - 1] <= p.end - 1
        assert p.text in "\n".join(lines[p.start_line - 1 : p.end_line])
        assert p.page is None and p.end_page is None
        assert p.section == doc.section_at(p.start)


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: f"{s.max_chars}-{s.overlap_chars}")
@pytest.mark.parametrize("name", FILES)
def test_passages_are_ordered_and_overlap_at_most_as_configured(name, settings):
    ps = passages(name, settings)
    assert [p.ordinal for p in ps] == list(range(len(ps)))
    for a, b in pairwise(ps):
        assert a.start < b.start and a.end < b.end
        assert max(0, a.end - b.start) <= settings.overlap_chars


@pytest.mark.parametrize("name", FILES)
def test_passages_cover_all_text_except_empty_section_headings(name):
    doc = documents()[name]
    covered = bytearray(len(doc.text))
    for p in passages(name, ChunkSettings()):
        covered[p.start : p.end] = b"\x01" * (p.end - p.start)
    heading_chars = {i for h in doc.headings for i in range(h.start, h.end)}
    missing = [
        i for i, ch in enumerate(doc.text) if not covered[i] and not ch.isspace()
    ]
    assert all(i in heading_chars for i in missing)


@pytest.mark.parametrize("name", FILES)
def test_sentence_spans_cover_every_non_whitespace_character_once(name):
    text = documents()[name].text
    spans = split_sentences(text)
    owner = [0] * len(text)
    for s, e in spans:
        assert 0 <= s < e <= len(text) and e - s <= 400
        assert not text[s].isspace() and not text[e - 1].isspace()
        for i in range(s, e):
            owner[i] += 1
    assert all(owner[i] == 1 for i, ch in enumerate(text) if not ch.isspace())


def test_titles_dates_and_attribution_come_from_the_metadata_file():
    meta = load_metadata(CORPUS)
    assert set(meta) == set(FILES)
    for name, doc in documents().items():
        assert doc.title == meta[name].title
        assert doc.date == meta[name].date
        assert doc.meta == {"attribution": "出典：総務省ウェブサイト"}


def test_whitepaper_passage_about_myanmar_has_the_full_heading_path():
    name = "whitepaper-2013-international-strategy.txt"
    hits = [p for p in passages(name, ChunkSettings()) if "ミャンマー政府は" in p.text]
    assert hits
    assert hits[0].section == (
        "第8節 国際戦略の推進",
        "1 国際政策における重点推進課題",
        "(1) ICT 海外展開の推進",
        "イ ASEAN諸国へのICTプロジェクトの展開",
        "(ア) ミャンマー",
    )
    assert hits[0].text.startswith("(ア) ミャンマー\n")  # the heading opens its section


def test_whitepaper_headings_use_five_levels_in_order():
    doc = documents()["whitepaper-2013-international-strategy.txt"]
    by_title = {h.title: h.level for h in doc.headings}
    assert by_title["第8節 国際戦略の推進"] == 1
    assert by_title["2 国際的な枠組における取組"] == 2
    assert by_title["(2) 二国間関係における国際政策の展開"] == 3
    assert by_title["キ G8"] == 4
    assert by_title["（イ）国連総会第二委員会・経済社会理事会（ECOSOC）"] == 5
    assert len(doc.headings) == 41
    for h in doc.headings:
        assert doc.text[h.start : h.end] == h.title


def test_press_release_sections_are_numbered_items():
    name = "press-2014-09-19-japan-us-internet-economy-dialogue.txt"
    doc = documents()[name]
    assert [h.title for h in doc.headings if h.level == 1] == [
        "1 第6回局長級会合の主な成果",
        "2 今後の予定",
    ]
    hit = next(p for p in passages(name, ChunkSettings()) if "スマートフォンアプリ" in p.text)
    assert hit.section == ("1 第6回局長級会合の主な成果", "(2)パーソナルデータの利活用とプライバシー保護")


@pytest.mark.parametrize(
    "name", ["wcit12-internet-governance-slides-2013.txt", "global-strategy-bureau-pamphlet-2023.txt"]
)
def test_slides_and_pamphlet_get_no_invented_headings(name):
    assert documents()[name].headings == ()
    assert all(p.section == () for p in passages(name, ChunkSettings()))


def test_slide_lines_wrapped_mid_sentence_are_one_sentence():
    text = documents()["wcit12-internet-governance-slides-2013.txt"].text
    sentences = [text[s:e] for s, e in split_sentences(text)]
    wrapped = (
        "◆ 1990年、国際電気通信連合（ITU）において、国際電話業務に関する一般原則、接続料金の計\n"
        "算・精算方法等を定めた国際電気通信規則（ITR）が発効。"
    )
    assert wrapped in sentences
    assert "・電気通信に関する国連の専門機関。" in sentences
