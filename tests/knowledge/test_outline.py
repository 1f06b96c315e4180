"""The plain-text outline heading detector."""

from __future__ import annotations

import pytest

from knowledge import text_document
from knowledge.outline import is_outline_heading


@pytest.mark.parametrize(
    "line",
    [
        "第8節 国際戦略の推進",
        "第2章",
        "1 国際政策における重点推進課題",
        "１　全角の番号",
        "(1) ICT 海外展開の推進",
        "(1)インターネットガバナンスに関する日米協調",
        "（2）全角括弧",
        "ア 地上デジタルテレビ放送日本方式（ISDB-T）の普及促進",
        "キ G8",
        "(ア) ミャンマー",
        "（イ）国連総会第二委員会・経済社会理事会（ECOSOC）",
        "   (ウ) 字下げされた見出し   ",
    ],
)
def test_outline_headings_are_recognised(line):
    assert is_outline_heading(line)


@pytest.mark.parametrize(
    "line",
    [
        "1 本文の段落が番号で始まることもある。",  # a sentence
        "ア 項目の説明が続く場合、",  # ends with a comma
        "アジア太平洋経済協力（APEC）は、成長を目的とする。",  # a word starting with ア
        "2012年（平成24年）12月には",  # a number that is a year
        "2014   CSTD年次総会（Enhanced Cooperation)",  # four digits: a table row
        "1,600名",
        "11",  # a page number
        "(1)",  # a marker without a title
        "ITU（本部：スイス（ジュネーブ）。193か国が加盟）は",  # contains 。
        "(1) " + "長" * 90,  # too long
        "",
    ],
)
def test_body_lines_are_not_headings(line):
    assert not is_outline_heading(line)


def test_levels_are_relative_to_the_markers_a_document_uses():
    doc = text_document("(1) 上位\n\n本文。\n\nア 下位\n\n本文。\n\n(2) 次\n\n本文。")
    assert [(h.level, h.title) for h in doc.headings] == [(1, "(1) 上位"), (2, "ア 下位"), (1, "(2) 次")]
    assert doc.section_at(doc.text.rindex("本文")) == ("(2) 次",)
