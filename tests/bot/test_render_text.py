from bot.render_text import render_text, reply_to_json
from bot.reply import Citation, Quote, Reply, RetrievedPassage

CITE = Citation(1, "白書", "wp.txt", ("第8節 国際戦略の推進", "1 重点課題"), 12, 13, None, "https://example.org/wp")
PASSAGE = RetrievedPassage("wp.txt", "白書", CITE.section, 10, 14, "本文。\n合計14か国が採用。", 1.7)


def _reply(answered=True):
    quotes = (Quote("合計14か国が採用。", 1),) if answered else ()
    return Reply(
        "何か国？", "ja", answered, "「白書」には次のように書かれています。", quotes, (CITE,), (PASSAGE,), "v1"
    )


def test_text_rendering_shows_quotes_with_their_numbers_and_sources():
    text = render_text(_reply())
    assert "[1] 合計14か国が採用。" in text
    assert "出典:" in text
    assert "白書 › 第8節 国際戦略の推進 › 1 重点課題 — wp.txt:12-13 <https://example.org/wp>" in text


def test_unanswered_rendering_lists_closest_passages():
    text = render_text(Reply("?", "en", False, "The documents don't answer this.", (), (CITE,), (), "v1"))
    assert "Closest passages:" in text and "Sources" not in text


def test_json_object_has_the_documented_fields():
    obj = reply_to_json(_reply())
    assert obj["answered"] is True
    assert obj["quotes"] == [{"text": "合計14か国が採用。", "citation": 1}]
    assert obj["citations"][0] == {
        "n": 1,
        "title": "白書",
        "source": "wp.txt",
        "section": "第8節 国際戦略の推進 › 1 重点課題",
        "start_line": 12,
        "end_line": 13,
        "page": None,
        "end_page": None,
        "slide": None,
        "end_slide": None,
        "sheet": None,
        "cells": None,
        "url": "https://example.org/wp",
    }
    assert obj["passages"][0]["text"] == PASSAGE.text
    assert set(obj["passages"][0]) == {
        "source", "title", "section", "start_line", "end_line", "page", "end_page", "slide", "end_slide", "sheet",
        "cells", "text", "score",
    }


def test_wrapping_counts_wide_characters_and_keeps_every_character():
    from bot.render_text import wrap_cells

    text = "日本方式（ISDB-T）の普及に取り組んでおり、" * 6 + " and then some English words to wrap nicely"
    lines = wrap_cells(text, 40)
    assert all(sum(2 if ord(c) > 0x2E80 else 1 for c in line) <= 40 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_places_of_pdf_slides_and_sheets_are_named_in_both_languages():
    from dataclasses import replace

    from bot.render_text import describe_citation

    pdf = replace(CITE, source="r.pdf", page=3, end_page=4, url=None)
    assert describe_citation(pdf, "en").endswith("r.pdf:12-13 (pp. 3–4)")
    assert describe_citation(replace(pdf, end_page=3), "ja").endswith("r.pdf:12-13（3ページ）")
    deck = replace(CITE, source="d.pptx", slide=5, end_slide=5, url=None)
    assert describe_citation(deck, "en").endswith("(slide 5)")
    assert describe_citation(deck, "ja").endswith("（スライド5）")
    book = replace(CITE, source="b.xlsx", sheet="予算", cells="B3:D4", url=None)
    assert describe_citation(book, "en").endswith("(sheet 予算, B3:D4)")
    assert describe_citation(book, "ja").endswith("（シート「予算」B3:D4）")
    assert reply_to_json(replace(_reply(), citations=(book,)))["citations"][0]["cells"] == "B3:D4"
