"""split_sentences: unit cases and properties over arbitrary text."""

from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge import split_sentences


def sentences(text: str, **kwargs) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text, **kwargs)]


# -- unit cases -----------------------------------------------------------------------------


def test_japanese_terminators_end_sentences():
    assert sentences("今日は晴れ。明日は雨！本当？はい") == ["今日は晴れ。", "明日は雨！", "本当？", "はい"]


def test_a_quotation_keeps_its_inner_full_stops():
    text = "彼は「今日は晴れだ。明日は雨だ。」と言った。次の文です。"
    assert sentences(text) == ["彼は「今日は晴れだ。明日は雨だ。」と言った。", "次の文です。"]


def test_closing_bracket_after_terminator_stays_with_the_sentence():
    assert sentences("彼は言った。「行こう。」 次に来た。") == ["彼は言った。", "「行こう。」", "次に来た。"]
    assert sentences("『終わり。』「始まり。」") == ["『終わり。』", "「始まり。」"]


def test_parentheses_protect_their_content():
    text = "会議（第6回。東京で開催）が開かれた。次。"
    assert sentences(text) == ["会議（第6回。東京で開催）が開かれた。", "次。"]
    assert sentences("A test (see fig. 2. It is big.) ends here. Next one.") == [
        "A test (see fig. 2. It is big.) ends here.",
        "Next one.",
    ]


def test_an_unclosed_bracket_protects_nothing():
    text = "（閉じない括弧。" + "あ" * 300 + "。最後。"
    assert sentences(text)[0] == "（閉じない括弧。"


def test_a_bracket_closed_too_far_away_protects_nothing():
    far = "「" + "い。" * 150 + "」"
    assert len(sentences(far)) > 1


def test_slide_lines_wrapped_mid_sentence_are_joined():
    text = "スライドの文が\n途中で改行\nされている。次の文。"
    assert sentences(text) == ["スライドの文が\n途中で改行\nされている。", "次の文。"]


def test_a_line_ending_with_a_terminator_ends_the_sentence():
    assert sentences("一行目です。\n二行目です") == ["一行目です。", "二行目です"]


def test_blank_line_is_a_boundary_between_headings_and_text():
    assert sentences("見出しのような行\n\n本文が続く") == ["見出しのような行", "本文が続く"]
    assert sentences("今日は晴れた。\n\nにわか雨が降ったあと、虹が出ていた。") == [
        "今日は晴れた。",
        "にわか雨が降ったあと、虹が出ていた。",
    ]


def test_a_sentence_broken_by_one_blank_line_stays_whole():
    """PDF extraction leaves a blank line where a page or column breaks mid-sentence."""
    text = (
        "研究開発等の取組を強化すべく、総務省において、NICT\n\n"
        "に新たに恒久的な基金を設置し、関連予算を計上した。次の文。"
    )
    assert sentences(text) == [text[: text.index("次")], "次の文。"]
    # a wrapped prose line that stops mid-word, then kanji
    text = (
        "ITUは、サイバーセキュリティの領域に関し、その資源を、核となる権限及び専\n\n"
        "門的知識の範囲内で、特に技術及び開発の領域に集中する。"
    )
    assert sentences(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "総務省 国際戦略局 パンフレットの結果\n\n報道資料",  # the next line is short: a label
        "資料の目次\n\nまた、次の会合では新しい規則について議論することになった。",  # また opens a sentence
        "日本方式を採用した国と地域の一覧を示す\n\n" + "ブラジルは最初に採用した国である。",  # katakana start
        "第1章 国際戦略の推進について\n\nに新たに恒久的な基金を設置した経緯を説明する。",  # a heading line
        "これは一つの段落です。\n\n\nに続く行が二行あとにある場合は別の段落となる。",  # two blank lines
    ],
)
def test_blank_lines_that_do_not_run_on_stay_boundaries(text):
    assert len(sentences(text)) >= 2


@pytest.mark.parametrize(
    "marker", ["◆ ", "・", "● ", "■ ", "○", "※ ", "• ", "- ", "* ", "1. ", "(1) ", "（1）", "ア ", "① ", "【"]
)
def test_bullets_and_list_markers_start_a_new_sentence(marker):
    text = f"前の行は句点で終わらない\n{marker}項目の内容"
    assert sentences(text) == ["前の行は句点で終わらない", f"{marker}項目の内容"]


def test_a_heading_line_ends_its_own_sentence():
    text = "(ア) ミャンマー\nミャンマー政府は、改革を進めた。"
    assert sentences(text) == ["(ア) ミャンマー", "ミャンマー政府は、改革を進めた。"]


def test_a_paragraph_indent_starts_a_new_sentence():
    text = "総括\n この対話は行われた。"
    assert sentences(text) == ["総括", "この対話は行われた。"]


def test_decimals_and_abbreviations_do_not_split():
    text = "The rate was 3.5% in the U.S. this year. Next sentence! Ask? Yes."
    assert sentences(text) == [
        "The rate was 3.5% in the U.S. this year.",
        "Next sentence!",
        "Ask?",
        "Yes.",
    ]
    assert sentences("Dr. Smith arrived. Then Mr. Jones left.") == [
        "Dr. Smith arrived.",
        "Then Mr. Jones left.",
    ]


def test_ascii_punctuation_inside_japanese_words_does_not_split():
    text = "ワシントンD.C.にて開催。Yahoo!ニュースで見た。"
    assert sentences(text) == ["ワシントンD.C.にて開催。", "Yahoo!ニュースで見た。"]


def test_full_width_full_stop_is_a_terminator_but_not_a_decimal_point():
    assert sentences("値は２．５です．次の文") == ["値は２．５です．", "次の文"]
    assert sentences("１．はじめに\n２．おわりに") == ["１．はじめに", "２．おわりに"]


def test_crlf_line_breaks_are_handled():
    text = "一行目\r\n続き。\r\n\r\n次の段落。"
    assert sentences(text) == ["一行目\r\n続き。", "次の段落。"]


def test_offsets_are_absolute_and_respect_the_range():
    text = "前置き。対象の文。もう一つ。後ろ。"
    start = text.index("対象")
    end = text.index("後ろ")
    spans = split_sentences(text, start, end)
    assert [text[s:e] for s, e in spans] == ["対象の文。", "もう一つ。"]
    assert spans[0][0] == start


def test_whitespace_only_and_empty_ranges_give_no_spans():
    assert split_sentences("") == []
    assert split_sentences(" \n\u3000\xa0\t\n") == []
    assert split_sentences("abc", 1, 1) == []


def test_invalid_arguments_are_refused():
    with pytest.raises(ValueError, match="outside"):
        split_sentences("abc", 2, 1)
    with pytest.raises(ValueError, match="max_len"):
        split_sentences("abc", max_len=0)


def test_a_long_run_without_punctuation_is_cut_at_the_maximum():
    text = "あ" * 10_000
    t0 = time.perf_counter()
    spans = split_sentences(text, max_len=400)
    assert time.perf_counter() - t0 < 2
    assert [e - s for s, e in spans] == [400] * 25
    assert spans[0][0] == 0 and spans[-1][1] == 10_000


def test_long_sentences_are_cut_preferably_after_a_comma():
    text = "、".join(["いろはにほへと"] * 100) + "。"
    pieces = sentences(text, max_len=50)
    assert all(len(p) <= 50 for p in pieces)
    assert all(p.endswith("、") for p in pieces[:-1])
    assert "".join(pieces) == text


def test_long_english_is_cut_at_spaces():
    text = " ".join(["word"] * 300)
    pieces = sentences(text, max_len=42)
    assert all(len(p) <= 42 and p.split() == ["word"] * len(p.split()) for p in pieces)


def test_cuts_do_not_split_combining_marks_or_emoji_sequences():
    cluster = "e\u0301\u0323"  # e + two combining marks
    family = "👨\u200d👩\u200d👧"
    text = (cluster * 40) + (family * 40) + ("🇯🇵" * 40)
    for max_len in (7, 10, 13):
        spans = split_sentences(text, max_len=max_len)
        for s, e in spans:
            assert e - s <= max_len
            if e < len(text):
                assert unicodedata.category(text[e]) != "Mn"
                assert text[e] != "\u200d" and text[e - 1] != "\u200d"
        # flags are pairs: every cut inside the flag run falls at an even distance
        flag_start = len(cluster) * 40 + len(family) * 40
        for s, _ in spans:
            if s > flag_start:
                assert (s - flag_start) % 2 == 0


def test_pathological_bracket_runs_stay_fast():
    text = "(" * 5000 + "]" * 5000 + "。" + "「" * 3000
    t0 = time.perf_counter()
    spans = split_sentences(text)
    assert time.perf_counter() - t0 < 2
    assert sum(e - s for s, e in spans) == len(text)


# -- properties -----------------------------------------------------------------------------

PIECES = [
    "あ", "い", "漢字", "日本語の文", "カタカナ", "ｼｽｺ", "２０１４年", "ICT", "word", " ", "  ",
    "\u3000", "\xa0", "\t", "\n", "\n\n", "\r\n", "\r", "。", "、", "！", "？", ".", "!", "?",
    "．", ",", "3.5", "U.S.", "「", "」", "『", "』", "（", "）", "(", ")", "【", "】", "😀",
    "👍🏽", "👨\u200d👩\u200d👧", "🇯🇵", "e\u0301", "\u0301", "❤\ufe0f", "\u200d", "・", "◆ ",
    "- ", "1. ", "(1) ", "（ア）", "ア ", "第8節 ", "# ", "…",
]  # fmt: skip
mixed_text = st.lists(st.sampled_from(PIECES), max_size=120).map("".join)
any_text = st.one_of(mixed_text, st.text(max_size=300))


def is_attached(ch: str) -> bool:
    """Characters that belong to the one before (a test-side oracle, not the module's)."""
    return unicodedata.category(ch) in ("Mn", "Mc", "Me") or ch in "\u200d\ufe0f" or (
        "\U0001f3fb" <= ch <= "\U0001f3ff"
    )


def check_spans(text: str, start: int, end: int, spans: list[tuple[int, int]], max_len: int):
    previous_end = start
    owner = [0] * len(text)
    for s, e in spans:
        assert previous_end <= s < e <= end
        assert e - s <= max_len
        assert not text[s].isspace() and not text[e - 1].isspace()
        for i in range(s, e):
            owner[i] += 1
        previous_end = e
    for i in range(start, end):
        if not text[i].isspace():
            assert owner[i] == 1, f"character {i} ({text[i]!r}) is not in exactly one span"


@settings(max_examples=150, deadline=1000)
@given(text=any_text, max_len=st.integers(min_value=10, max_value=120))
def test_spans_partition_the_non_whitespace_of_any_text(text, max_len):
    spans = split_sentences(text, max_len=max_len)
    check_spans(text, 0, len(text), spans, max_len)


@settings(max_examples=80, deadline=1000)
@given(text=mixed_text, data=st.data())
def test_spans_respect_any_sub_range(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    spans = split_sentences(text, start, end, max_len=60)
    check_spans(text, start, end, spans, 60)


@settings(max_examples=100, deadline=1000)
@given(text=mixed_text)
def test_sentence_ends_never_split_a_visible_character(text):
    # With clusters far shorter than max_len, no span may end right before a combining mark
    # or a joined emoji part (unless whitespace follows, which already separates them), and
    # none may start on one unless whitespace precedes it.
    for s, e in split_sentences(text, max_len=40):
        if e < len(text) and not text[e].isspace():
            assert not is_attached(text[e]) and text[e - 1] != "\u200d"
        if s > 0 and not text[s - 1].isspace():
            assert not is_attached(text[s]) and text[s - 1] != "\u200d"
