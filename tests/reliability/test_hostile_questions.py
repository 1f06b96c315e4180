"""Hostile questions through ``answer()`` (real model, shared index) and through the Slack app on
the stand-in: each gets a sensible reply or a polite request to rephrase, within Slack's limits,
and nothing in a question becomes an active mention, broadcast or link."""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.blocks import render_reply
from bot.slack.limits import block_texts
from bot.slack.questions import clean_question
from bot.slack.standin import BOT_USER_ID
from bot.slack.standin import payloads as P
from bot.slack.standin.validation import message_error
from tests.slack.fakes import reply_for

HOSTILE: dict[str, str] = {
    "empty": "",
    "whitespace": " \t\n\u3000 ",
    "only a mention": f"<@{BOT_USER_ID}>",
    "only another mention": "<@U123>",
    "only punctuation": "？？？！！。、",
    "40,000 Japanese characters": "国際戦略の重点分野は何ですか" * 2858,
    "40,000 ASCII characters": "what is the international strategy " * 1143,
    "40,000 without spaces": "a" * 40_000,
    "control characters": "国際\x00戦略\x07の\x1b[31m重点\x7fは？\x08",
    "NUL only": "\x00\x00\x00",
    "channel broadcast": "<!channel> 国際戦略の重点分野は？",
    "here and everyone": "<!here> <!everyone> @channel @here ＠everyone WCIT-12はどこ？",
    "user mention": "<@U123> WCIT-12はどこで開かれた？",
    "usergroup mention": "<!subteam^S123|@admins> 日米対話の成果は？",
    "link injection": "<https://evil.example|click here> 海底ケーブルについて",
    "raw html": "<script>alert(1)</script><img src=x onerror=alert(1)> 地デジ",
    "mrkdwn formatting": "*太字* _斜体_ ~取消~ `code` ```block``` > 引用 国際戦略",
    "entity tricks": "&lt;!channel&gt; &amp;lt;@U1&amp;gt; 国際戦略",
    "rtl override": "\u202eWCIT-12はどこで開かれた？\u202c",
    "bidi isolates": "\u2067ITU\u2069 \u200f国際電気通信連合\u200e とは？",
    "zero width": "W\u200bC\u200cI\u200dT\ufeff-12 と は ？",
    "emoji only": "🎌🇯🇵👍🏽👨‍👩‍👧",
    "emoji and question": "🇯🇵 日本方式（ISDB-T）を採用した国は？ 📡",
    "mixed scripts": "ISDB-T 日本方式 한국어 中文 العربية русский は何か国？",
    "full-width ascii": "ＷＣＩＴ－１２はどこで開かれた？",
    "regex metacharacters": "(((( [[[[ **** ++++ ???? \\\\ $^ .* 国際",
    "sql and shell": "'; DROP TABLE passages; -- $(rm -rf /) `id` 国際戦略",
    "many lines": "国際\n" * 5000,
    "lone surrogate": "国際\ud800戦略",
    "combining marks": "Z̵̧̛̖a̶̡͓l̷̨̛g̸̢̛o̵̧̕ 国際戦略",
    "english question": "Where was WCIT-12 held?",
}

ACTIVE = re.compile(r"<[!@#]|<(?:https?|mailto|ftp|javascript):", re.IGNORECASE)
_OWN_LINKS = re.compile(r"<(https?://[^|>]+)\|")


def _active_tokens(blocks_text: str, allowed_urls: set[str]) -> list[str]:
    """Active Slack tokens in rendered text, except the links to cited documents."""
    found = []
    for match in ACTIVE.finditer(blocks_text):
        link = _OWN_LINKS.match(blocks_text, match.start())
        if link and link.group(1) in allowed_urls:
            continue
        found.append(blocks_text[match.start(): match.start() + 40])
    return found


def _urls(reply) -> set[str]:
    return {c.url.replace("&", "&amp;") for c in reply.citations if c.url}


def _rendered_text(message) -> str:
    """What Slack renders as text: every text object of the blocks, and the fallback ``text``
    (shown in notifications). Button values are data, never rendered."""
    return "\n".join([*block_texts(message.blocks_list()), message.text])


def _payload_text(args: dict) -> str:
    return "\n".join([*block_texts(args.get("blocks") or []), str(args.get("text") or "")])




@pytest.mark.model
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_question_through_answer(answer_service, name):
    question = HOSTILE[name]
    started = time.monotonic()
    reply = answer_service.answer(question)
    assert time.monotonic() - started < 10, "a hostile question must not stall the bot"
    if name in {"empty", "whitespace", "only a mention", "only another mention", "only punctuation", "NUL only",
                "emoji only"}:
        assert not reply.answered and not reply.quotes, name
        assert reply.lead  # a polite request to rephrase
    for quote in reply.quotes:  # whatever is quoted is verbatim from a document
        cited = next(c for c in reply.citations if c.n == quote.citation)
        assert not cited.source.startswith("/")
    for variant in (render_reply(reply), render_reply(reply, show_question=True, post_button=True)):
        payload = {"text": variant.text, "blocks": variant.blocks_list()}
        assert message_error(payload) is None, name
        assert _active_tokens(_rendered_text(variant), _urls(reply)) == [], name
        assert "\u202e" not in _rendered_text(variant) or name == "rtl override"


@pytest.mark.model
def test_hostile_questions_through_slack(http_bot, slack, answer_service):
    bot = http_bot(answer_service)
    sent = {}
    for n, (name, question) in enumerate(HOSTILE.items()):
        if name == "lone surrogate":
            continue  # JSON from Slack cannot carry one
        channel = f"C0HOST{n:04d}"
        sent[channel] = name
        assert bot.sender.event(P.event_callback(P.mention(question, channel=channel))).status == 200
    posts = slack.recorder.wait_for("chat.postMessage", lambda c: c.args.get("channel", "").startswith("C0HOST"),
                                    count=len(sent), timeout=60)
    by_channel: dict[str, list] = {}
    for call in posts:
        by_channel.setdefault(call.args["channel"], []).append(call)
    assert set(by_channel) == set(sent)
    for channel, calls in by_channel.items():
        assert len(calls) == 1, sent[channel]
        args = calls[0].args
        assert calls[0].ok and message_error(args) is None, sent[channel]
        text = _payload_text(args)
        assert "問題が発生しました" not in text, f"apology for {sent[channel]}"
        links = set(re.findall(r"<(https?://[^|>]+)\|", text))
        assert _active_tokens(text, links) == [], sent[channel]
    print(f"\nhostile questions tried: {len(HOSTILE)} through answer(), {len(sent)} through Slack")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_question_in_slash_ask_echo_is_inert(http_bot, slack, name):
    """/ask echoes the question ("searching…" and show_question): the echo must stay inert."""
    if name == "lone surrogate":
        pytest.skip("a form body from Slack cannot carry a lone surrogate")
    bot = http_bot()
    url = slack.response_url(f"hostile-{abs(hash(name))}")
    sent = bot.sender.form(P.slash_command(HOSTILE[name], url, channel="C0HOSTASK1"))
    assert sent.status == 200
    ack_text = _payload_text(json.loads(sent.body)) if sent.body.startswith("{") else sent.body
    assert _active_tokens(ack_text, set()) == [], ack_text[:200]
    if clean_question(HOSTILE[name], None):
        answer = slack.recorder.wait_for("response_url", lambda c: c.args["_key"] == url.rsplit("/", 1)[1])[0]
        text = _payload_text(answer.args)
        assert message_error(answer.args) is None
        links = {"https://www.soumu.go.jp/press?id=1&amp;lang=en"}
        assert _active_tokens(text, links) == [], text[:300]


PIECES = [*"<>!@#&|^:/.-_ ahcnelrvyoUtps1", "channel", "here", "everyone", "http://", "<@U1>", "<!", "\u202e",
          "＠", "\u2060", "&amp;", "&lt;", "国際"]
SLACKISH = st.lists(st.sampled_from(PIECES), max_size=40).map("".join) | st.text(max_size=60)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=SLACKISH)
def test_no_question_renders_an_active_token(question):
    """Property: whatever the question, the /ask rendering (which shows it) holds no active token."""
    reply = reply_for(question)
    for message in (render_reply(reply, show_question=True, post_button=True), render_reply(reply)):
        text = _rendered_text(message)
        assert _active_tokens(text, _urls(reply)) == [], text
        assert not re.search(r"(?<![\w\u2060])[@＠](channel|here|everyone)\b", text.replace("\u2060", "")) or \
            "\u2060" in text
