"""chunk_document: packing, overlap, headings, and properties over arbitrary text."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge import ChunkSettings, Document, Heading, chunk_document, text_document
from knowledge.errors import ConfigError

from .test_sentences import PIECES


def line_of(text: str, offset: int) -> int:
    return len(re.findall(r"\r\n|\r|\n", text[:offset])) + 1


def test_sentences_are_packed_up_to_max_chars():
    sentence = "これは十文字の文。"  # 9 characters
    doc = text_document(sentence * 20)
    ps = chunk_document(doc, ChunkSettings(max_chars=40, overlap_chars=0))
    assert [len(p.text) for p in ps] == [36] * 5
    assert "".join(p.text for p in ps) == doc.text


def test_overlap_repeats_whole_trailing_sentences():
    sentences = [f"文{i:02d}はここまで。" for i in range(12)]  # 9 characters each
    doc = text_document("".join(sentences))
    ps = chunk_document(doc, ChunkSettings(max_chars=40, overlap_chars=20))
    for a, b in pairwise(ps):
        shared = a.end - b.start
        assert shared == 18  # two whole sentences fit in 20 characters
        assert doc.text[b.start : a.end] in {"".join(sentences[i : i + 2]) for i in range(11)}
    assert ps[-1].end == len(doc.text)


def test_zero_overlap_gives_disjoint_passages():
    doc = text_document("短い文です。" * 50)
    ps = chunk_document(doc, ChunkSettings(max_chars=50, overlap_chars=0))
    assert all(a.end <= b.start for a, b in pairwise(ps))


def test_a_sentence_longer_than_max_is_cut():
    doc = text_document("あ" * 1000)
    ps = chunk_document(doc, ChunkSettings(max_chars=300, overlap_chars=50))
    assert [len(p.text) for p in ps] == [300, 300, 300, 100]


def test_passages_never_cross_a_heading_and_start_with_it():
    text = (
        "1 最初の節\n\n最初の節の本文です。短い。\n\n"
        "2 次の節\n\n(1) 小見出し\n\n小見出しの本文です。\n"
    )
    doc = text_document(text)
    assert [h.title for h in doc.headings] == ["1 最初の節", "2 次の節", "(1) 小見出し"]
    ps = chunk_document(doc, ChunkSettings(max_chars=400, overlap_chars=80))
    assert [p.text for p in ps] == [
        "1 最初の節\n\n最初の節の本文です。短い。",
        "(1) 小見出し\n\n小見出しの本文です。",  # "2 次の節" has no text of its own
    ]
    assert ps[0].section == ("1 最初の節",)
    assert ps[1].section == ("2 次の節", "(1) 小見出し")
    assert (ps[1].start_line, ps[1].end_line) == (7, 9)


def test_text_before_the_first_heading_has_an_empty_section():
    doc = text_document("前書きです。\n\n1 本題\n\n本文。")
    ps = chunk_document(doc)
    assert [(p.text, p.section) for p in ps] == [
        ("前書きです。", ()),
        ("1 本題\n\n本文。", ("1 本題",)),
    ]


def test_body_ranges_limit_what_is_chunked():
    text = "除外される部分。\n本文の部分。"
    doc = Document(
        path="x.md", title="x", text=text, sha256="0", encoding="utf-8", kind="markdown",
        body=((text.index("本文"), len(text)),),
    )  # fmt: skip
    assert [p.text for p in chunk_document(doc)] == ["本文の部分。"]


def test_line_numbers_follow_crlf_text():
    text = "一行目。\r\n二行目。\r\n\r\n四行目。"
    ps = chunk_document(text_document(text), ChunkSettings(max_chars=6, overlap_chars=0))
    assert [(p.text, p.start_line, p.end_line) for p in ps] == [
        ("一行目。", 1, 1),
        ("二行目。", 2, 2),
        ("四行目。", 4, 4),
    ]


def test_an_empty_or_blank_document_gives_no_passages():
    assert chunk_document(text_document(" \n\n\u3000")) == []


@pytest.mark.parametrize(
    "bad", [ChunkSettings(0, 0), ChunkSettings(100, 100), ChunkSettings(100, -1)]
)
def test_bad_settings_are_refused_with_the_setting_named(bad):
    with pytest.raises(ConfigError, match="KOTAE_CHUNK"):
        chunk_document(text_document("本文。"), bad)


# -- properties -----------------------------------------------------------------------------

OUTLINE = ["\n1 見出し\n", "\n(2) 小見出し\n", "\nア 項目\n", "\n第3節 節\n", "\n\n"]
doc_text = st.lists(st.sampled_from(PIECES + OUTLINE), max_size=150).map("".join)
chunk_settings = st.integers(min_value=8, max_value=200).flatmap(
    lambda m: st.builds(ChunkSettings, st.just(m), st.integers(min_value=0, max_value=m - 1))
)


@settings(max_examples=120, deadline=1500)
@given(text=doc_text, cs=chunk_settings)
def test_passages_are_exact_bounded_ordered_slices(text, cs):
    doc = text_document(text)
    ps = chunk_document(doc, cs)
    heading_starts = [h.start for h in doc.headings]
    covered = bytearray(len(text))
    for k, p in enumerate(ps):
        assert p.ordinal == k
        assert p.text == text[p.start : p.end] and p.text.strip() == p.text != ""
        assert len(p.text) <= cs.max_chars
        assert p.start_line == line_of(text, p.start)
        assert p.end_line == line_of(text, p.end - 1)
        assert p.section == doc.section_at(p.start)
        assert not any(p.start < h < p.end for h in heading_starts)
        covered[p.start : p.end] = b"\x01" * (p.end - p.start)
    for a, b in pairwise(ps):
        assert a.start < b.start and a.end < b.end
        assert max(0, a.end - b.start) <= cs.overlap_chars
    in_heading = {i for h in doc.headings for i in range(h.start, h.end)}
    for i, ch in enumerate(text):
        if not ch.isspace() and not covered[i]:
            assert i in in_heading, f"character {i} ({ch!r}) is in no passage"


@settings(max_examples=40, deadline=1500)
@given(text=st.text(max_size=400), max_chars=st.integers(min_value=1, max_value=50))
def test_any_unicode_text_chunks_within_bounds(text, max_chars):
    doc = Document(path="t", title="t", text=text, sha256="0", encoding="utf-8", kind="text",
                   headings=(Heading(1, text[:1], 0, min(1, len(text))),) if text else ())
    for p in chunk_document(doc, ChunkSettings(max_chars, max_chars // 2)):
        assert p.text == text[p.start : p.end]
        assert 0 < len(p.text) <= max_chars
