"""Rendering a Reply for Slack: escaping, mention neutralising, limits (pure functions)."""

from __future__ import annotations

import json
import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.reply import Citation, Quote
from bot.slack import limits
from bot.slack.blocks import (
    ACTION_FEEDBACK_DOWN,
    ACTION_FEEDBACK_UP,
    ACTION_POST_TO_CHANNEL,
    render_reply,
)
from bot.slack.mrkdwn import ELLIPSIS, escape, link, trim
from bot.slack.standin.validation import message_error
from tests.slack.fakes import PRESS, WHITEPAPER, reply_for

# A link we produce ourselves: <http(s)://...|label>. Anything else starting with "<" is active.
_OUR_LINK = re.compile(r"<https?://[^\s<>|]+\|[^<>]*>")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)

# Text that tries everything: Slack control sequences, mentions, entities, CJK, combining marks.
_nasty = st.lists(
    st.one_of(
        st.sampled_from(["<!channel>", "<!here>", "<!everyone>", "<@U12345>", "<!subteam^S1>",
                         "@channel", "@here", "@everyone", "＠here", "&amp;", "&", "<", ">", "|",
                         "<https://evil.example|click>", "。", "．", "\n", "e\u0301", "👍🏽",
                         "👨\u200d👩\u200d👧", "国際戦略", " ", "*", "`", "~", "_"]),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=60,
).map("".join)


def _texts(message) -> list[str]:
    """The texts Slack parses as mrkdwn (every block text but rich text, and the fallback)."""
    mrkdwn = [b for b in message.blocks if b["type"] != "rich_text"]
    return [*limits.block_texts(mrkdwn), message.text]


def _quotes(message) -> list[tuple[str, str]]:
    """Each rich-text quote as (its literal text, its citation mark)."""
    found = []
    for block in message.blocks:
        if block["type"] == "rich_text":
            assert [e["type"] for e in block["elements"]] == ["rich_text_quote"]
            leaves = block["elements"][0]["elements"]
            assert [leaf["type"] for leaf in leaves] == ["text", "text"]  # never a mention element
            assert leaves[1]["style"] == {"bold": True} and "style" not in leaves[0]
            found.append((leaves[0]["text"], leaves[1]["text"].strip()))
    return found


def _assert_harmless(text: str) -> None:
    assert "<" not in _OUR_LINK.sub("", text), text
    assert not _BROADCAST.search(text), text


def _assert_harmless_quotes(message) -> None:
    """Rich text is never parsed ("<!channel>" stays text); bare broadcasts still get the
    invisible word joiner."""
    for text, _ in _quotes(message):
        assert not _BROADCAST.search(text), text


# -- mrkdwn ------------------------------------------------------------------------------------
def test_escape_turns_control_sequences_into_text():
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert "@\u2060here" in escape("ping @here now")
    assert escape("mail me at a@b.example") == "mail me at a@b.example"


def test_trim_prefers_a_sentence_boundary_and_marks_the_cut():
    text = "最初の文です。二番目の文はとても長いです。" * 20
    out = trim(text, 50)
    assert len(out) <= 50 and out.endswith("。" + ELLIPSIS)
    assert trim("short", 50) == "short"


def test_trim_never_separates_a_character_from_its_marks():
    text = "e\u0301" * 100
    for limit in range(2, 60):
        out = trim(text, limit)
        assert len(out) <= limit
        body = out.removesuffix(ELLIPSIS)
        assert not body or not unicodedata.combining(body[0])
        assert body == "e\u0301" * (len(body) // 2)


def test_trim_counts_escaped_length_and_never_cuts_an_entity():
    out = trim("&" * 100, 23)
    assert len(out) <= 23 and out == "&amp;" * 4 + ELLIPSIS


def test_link_only_for_http_and_cannot_be_broken_out_of():
    assert link("javascript:alert(1)", "t") == "t"
    out = link("https://x.example/a|b>c<d e", "label")
    assert out.startswith("<https://") and out.count("<") == 1 and out.count(">") == 1
    assert _OUR_LINK.fullmatch(out)


@given(_nasty, st.integers(min_value=0, max_value=500))
@settings(max_examples=300, deadline=None)
def test_trim_property_bounded_and_harmless(text, limit):
    out = trim(text, limit)
    assert len(out) <= max(limit, 0)
    _assert_harmless(out)
    if len(escape(text)) <= limit:
        assert out == escape(text)


# -- Block Kit ---------------------------------------------------------------------------------
def test_answer_layout_lead_quotes_sources_footer_feedback():
    message = render_reply(reply_for("国際戦略の重点は？"))
    kinds = [b["type"] for b in message.blocks]
    assert kinds == ["section", "rich_text", "rich_text", "divider", "section", "context", "actions"]
    assert _quotes(message)[0] == ("我が国の国際戦略は、ICT分野の国際競争力の強化を目指す。", "[1]")
    assert _quotes(message)[1][1] == "[2]"
    sources = message.blocks[4]["text"]["text"]
    assert sources.startswith("*出典*")
    assert "*[1]* 情報通信白書 2013 › 第1章 › 国際戦略 · 12–14行" in sources
    assert "`whitepaper-2013-international-strategy.txt`" in sources
    # A URL becomes a link (with & escaped as Slack requires), page shown.
    assert "<https://www.soumu.go.jp/press?id=1&amp;lang=en|Japan-US Digital Economy Dialogue>" in sources
    assert "2ページ" in sources
    assert "索引 v1" in message.blocks[5]["elements"][0]["text"]
    actions = [e["action_id"] for e in message.blocks[6]["elements"]]
    assert actions == [ACTION_FEEDBACK_UP, ACTION_FEEDBACK_DOWN]
    value = json.loads(message.blocks[6]["elements"][0]["value"])
    assert value["q"] == "国際戦略の重点は？" and value["a"] == message.answer_id
    assert message.text.startswith("文書には次のようにあります。")
    assert message_error({"blocks": message.blocks_list(), "text": message.text}) is None


def test_short_quotes_are_all_shown():
    quotes = tuple(Quote(t, 1) for t in ("短い。", "OK.", "<!channel> 重要です。"))
    message = render_reply(reply_for("短い？", quotes=quotes))
    assert _quotes(message) == [("短い。", "[1]"), ("OK.", "[1]"), ("<!channel> 重要です。", "[1]")]


def test_quotes_keep_markup_characters_and_entities_literally():
    text = "*a* _b_ ~c~ `d` ```e``` &amp; <b> a&b 2*3*4 @here"
    message = render_reply(reply_for("記号？", quotes=(Quote(text, 1),)))
    assert _quotes(message) == [(text.replace("@here", "@\u2060here"), "[1]")]
    assert message_error({"blocks": message.blocks_list(), "text": message.text}) is None


def test_english_reply_gets_english_labels():
    message = render_reply(reply_for("What is the strategy?"))
    sources = message.blocks[4]["text"]["text"]
    assert sources.startswith("*Sources*") and "lines 12–14" in sources and "p. 2" in sources
    assert message.blocks[6]["elements"][0]["text"]["text"] == "👍 Helpful"


def test_not_answered_is_short_and_offers_the_closest_sources():
    reply = reply_for("量子コンピュータの予算は？", answered=False,
                      citations=tuple(Citation(i, f"文書{i}", f"d{i}.txt", (), 1, 2)
                                      for i in range(1, 7)))
    message = render_reply(reply)
    kinds = [b["type"] for b in message.blocks]
    assert kinds == ["section", "section", "context", "actions"]
    closest = message.blocks[1]["text"]["text"]
    assert closest.startswith("*近い資料*") and "文書3" in closest and "文書4" not in closest
    assert message.text == "文書には該当する記述がありません。"


def test_ask_variant_shows_the_question_and_a_post_button():
    message = render_reply(reply_for("Who <!here> signed?"), show_question=True, post_button=True)
    assert message.blocks[0]["type"] == "context"
    assert "Who &lt;!here&gt; signed?" in message.blocks[0]["elements"][0]["text"]
    last = message.blocks[-1]["elements"][-1]
    assert last["action_id"] == ACTION_POST_TO_CHANNEL
    assert json.loads(last["value"]) == {"q": "Who <!here> signed?"}


def test_document_quoting_channel_broadcast_is_rendered_harmless():
    quote = Quote("緊急連絡は <!channel> と <@U0BOSS> へ。@here も。<!subteam^S0ALL|@all>", 1)
    reply = reply_for("緊急連絡は？", quotes=(quote,),
                      citations=(Citation(1, "<!everyone> 手順", "x.txt", ("@channel",), 1, 1),))
    message = render_reply(reply)
    for text in _texts(message):
        _assert_harmless(text)
    _assert_harmless_quotes(message)
    assert "<@U0BOSS>" in _quotes(message)[0][0]  # literal text in rich text: no mention


def test_quotes_beyond_every_limit_still_make_a_valid_message():
    giant = "これはとても長い文です。" * 600  # 7,200 chars each
    quotes = tuple(Quote(giant, (i % 2) + 1) for i in range(80))
    message = render_reply(reply_for("長い？", quotes=quotes))
    assert message_error({"blocks": message.blocks_list(), "text": message.text}) is None
    assert len(message.blocks) <= limits.MAX_BLOCKS
    assert sum(map(len, limits.block_texts(message.blocks))) <= limits.MAX_TOTAL_TEXT
    quoted = _quotes(message)
    assert quoted and all(text.endswith("。" + ELLIPSIS) for text, _ in quoted)
    assert message.blocks[-1]["type"] == "actions"  # feedback survives


_citation = st.builds(
    Citation, n=st.integers(1, 99), title=_nasty, source=_nasty,
    section=st.lists(_nasty, max_size=4).map(tuple), start_line=st.integers(0, 10**6),
    end_line=st.integers(0, 10**6), page=st.none() | st.integers(0, 10**4),
    url=st.none() | st.sampled_from(["https://example.com/a?b=1&c=<2>", "http://x.example/|y",
                                     "ftp://no.example", "https://ok.example/"]),
)


@given(
    question=_nasty,
    lead=_nasty,
    quotes=st.lists(st.tuples(_nasty, st.integers(1, 60)), max_size=70),
    citations=st.lists(_citation, max_size=40),
    answered=st.booleans(),
    language=st.sampled_from(["ja", "en"]),
    version=_nasty,
    ask=st.booleans(),
    repeat=st.integers(1, 40),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_reply_renders_within_limits_and_harmless(question, lead, quotes, citations, answered,
                                                      language, version, ask, repeat):
    from bot.reply import Reply

    reply = Reply(question=question * repeat, language=language, answered=answered, lead=lead,
                  quotes=tuple(Quote(t * repeat, n) for t, n in quotes),
                  citations=tuple(citations), passages=(), index_version=version)
    message = render_reply(reply, show_question=ask, post_button=ask,
                           asked_by="U0ASKER01" if ask else None)
    assert message_error({"blocks": message.blocks_list(), "text": message.text}) is None
    assert len(message.text) <= limits.MAX_FALLBACK_TEXT
    for text in _texts(message):
        if text.startswith(("Answer to <@U0ASKER01>", "<@U0ASKER01>")):
            text = text.replace("<@U0ASKER01>", "")
        _assert_harmless(text)
    _assert_harmless_quotes(message)


def test_citation_marks_match_the_quotes():
    message = render_reply(reply_for("x?", citations=(WHITEPAPER, PRESS)))
    assert [mark for _, mark in _quotes(message)] == ["[1]", "[2]"]


def test_the_stand_in_checks_rich_text_as_slack_does():
    def quote(*leaves) -> dict:
        return {"text": "x", "blocks": [{"type": "rich_text", "elements": [
            {"type": "rich_text_quote", "elements": list(leaves)}]}]}

    assert message_error(quote({"type": "text", "text": "a*b*", "style": {"bold": True}})) is None
    assert message_error(quote({"type": "broadcast", "range": "channel"})) is None
    for bad in ({"type": "text", "text": ""}, {"type": "text", "text": "a", "style": {"blink": True}},
                {"type": "mrkdwn", "text": "a"}, {"type": "broadcast", "range": "all"}):
        assert message_error(quote(bad)) == "invalid_blocks", bad
    assert message_error(quote()) == "invalid_blocks"
    assert message_error({"text": "x", "blocks": [{"type": "rich_text", "elements": []}]}) == "invalid_blocks"
    too_long = quote({"type": "text", "text": "字" * 12_001})
    assert message_error(too_long) == "msg_blocks_too_long"  # rich text counts toward the total


def test_sources_name_the_slide_and_the_cells_of_a_quote():
    from bot.slack.blocks import source_entry
    from bot.slack.labels import labels_for

    deck = Citation(1, "説明会", "deck.pptx", ("概要",), 3, 4, slide=5, end_slide=6)
    book = Citation(2, "予算", "book.xlsx", ("R&D <2024>",), 8, 8, sheet="R&D <2024>", cells="B3:D4")
    assert "スライド5–6" in source_entry(deck, labels_for("ja"))
    assert "slides 5–6" in source_entry(deck, labels_for("en"))
    entry = source_entry(book, labels_for("en"))
    assert "sheet R&amp;D &lt;2024&gt;, B3:D4" in entry and "<2024>" not in entry
