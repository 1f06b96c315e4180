"""What a real workspace does to the bot (issue #15), each over real HTTP and over Socket Mode:
double clicks, Slack's transient server errors, channels Kotae is not in, document text full
of mrkdwn characters, thread follow-ups, and what rejected requests leave in the logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.reply import Quote
from bot.slack.blocks import ACTION_POST_TO_CHANNEL
from bot.slack.standin import BOT_USER_ID, RESET, TEAM_ID, StandIn
from bot.slack.standin import payloads as P
from bot.slack.standin.validation import message_error
from tests.slack.conftest import make_settings, socket_bot_running
from tests.slack.fakes import FakeAnswerer, LogWatcher, Switchable, reply_for
from tests.slack.workspace import Driver


@pytest.fixture(scope="module")
def socket_service() -> Switchable:
    return Switchable(FakeAnswerer())


@pytest.fixture(scope="module")
def socket_app(standin: StandIn, socket_service: Switchable, tmp_path_factory):
    settings = make_settings(standin, tmp_path_factory.mktemp("workspace"))
    with socket_bot_running(standin, settings, socket_service) as app:
        yield app


@pytest.fixture(params=["http", "socket"])
def drive(request, slack: StandIn, http_bot, socket_service: Switchable) -> Driver:
    """A running bot over one transport, answering with a fresh :class:`FakeAnswerer`."""
    service = FakeAnswerer()
    if request.param == "http":
        switch = Switchable(service)
        bot = http_bot(switch)
        return Driver("http", slack, service, bot.sender, switch)
    request.getfixturevalue("socket_app")
    socket_service.target = service
    return Driver("socket", slack, service, None, socket_service)


@pytest.fixture
def all_logs() -> Iterator[LogWatcher]:
    """Every line any logger writes during the test, at DEBUG (the most a deployment could log)."""
    watcher = LogWatcher()
    root, ours = logging.getLogger(), logging.getLogger("kotae.slack")
    levels = root.level, ours.level
    root.addHandler(watcher)
    root.setLevel(logging.DEBUG)
    ours.setLevel(logging.DEBUG)
    yield watcher
    root.removeHandler(watcher)
    root.setLevel(levels[0])
    ours.setLevel(levels[1])


def _posts(slack: StandIn, channel: str, ok: bool | None = None) -> list[dict[str, Any]]:
    return [c.args for c in slack.recorder.calls("chat.postMessage")
            if c.args.get("channel") == channel and (ok is None or c.ok is ok)]


def _ask_and_get_button(drive: Driver, slack: StandIn, question: str, channel: str) -> str:
    """``/ask`` in ``channel``; the value of the ephemeral answer's "post to channel" button."""
    drive.command(question, slack.response_url(), channel=channel)
    answer = slack.recorder.wait_for("response_url", lambda c: "blocks" in c.args)[0].args
    button = answer["blocks"][-1]["elements"][-1]
    assert button["action_id"] == ACTION_POST_TO_CHANNEL
    return str(button["value"])


def _click(slack: StandIn, value: str, channel: str, shown_ts: str, key: str | None = None) -> dict[str, Any]:
    """A real click on the ephemeral message ``shown_ts``: its own trigger id and response URL."""
    return P.block_action(ACTION_POST_TO_CHANNEL, value, slack.response_url(key), channel=channel,
                          ephemeral=True, message_ts=shown_ts)


# -- 1. "Post to channel" clicked twice ----------------------------------------------------------
def test_post_to_channel_clicked_twice_posts_once(drive, slack, logs):
    channel = f"C0TWICE{drive.transport[:3].upper()}"
    value = _ask_and_get_button(drive, slack, "国際戦略の重点は？", channel)
    first, second = (_click(slack, value, channel, "1700000000.000777", key) for key in ("c1", "c2"))
    assert first["trigger_id"] != second["trigger_id"]
    assert first["actions"][0]["action_ts"] != second["actions"][0]["action_ts"]
    drive.click(first)
    drive.click(second)
    logs.wait_for("already posted")
    slack.recorder.wait_for("response_url", lambda c: c.args.get("delete_original") is True)
    assert len(_posts(slack, channel)) == 1
    # Another ephemeral answer (another /ask) can still be posted.
    drive.click(_click(slack, value, channel, "1700000000.000888"))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.args.get("channel") == channel, count=2)


# -- 2. Slack's transient server errors and dropped connections -------------------------------------
@pytest.mark.parametrize("fault", [500, 503, RESET])
def test_transient_server_error_is_retried_and_the_answer_posted(drive, slack, fault):
    channel = f"C0TRANS{fault}"[:10]
    if fault == RESET:
        slack.fail("chat.postMessage", RESET)
    else:
        slack.fail("chat.postMessage", "server_error", status=int(fault))
    drive.event(P.mention("国際戦略の重点は？", channel=channel))
    posted = slack.recorder.wait_for("chat.postMessage", lambda c: c.ok, timeout=20)[0].args
    assert posted["channel"] == channel
    assert "我が国の国際戦略" in posted["text"] and "すみません" not in posted["text"]
    calls = slack.recorder.calls("chat.postMessage")
    assert [c.ok for c in calls] == [False, True]


def test_answer_that_truly_cannot_be_posted_gets_the_apology(drive, slack):
    slack.fail("chat.postMessage", "server_error", status=503, times=3)  # every retry fails too
    drive.event(P.mention("国際戦略の重点は？", channel="C0DOWN0001"))
    apology = slack.recorder.wait_for("chat.postMessage", lambda c: c.ok, timeout=30)[0].args
    assert "すみません" in apology["text"]
    assert [c.status for c in slack.recorder.calls("chat.postMessage")] == [503, 503, 503, 200]


# -- 4. Kotae is not in the channel ---------------------------------------------------------------
@pytest.mark.parametrize(("question", "expected", "not_expected"), [
    ("国際戦略の重点は？", "招待", "Sorry"),
    ("What is WCIT-12?", "invite", "すみません"),
])
def test_post_to_a_channel_kotae_is_not_in_says_invite_in_the_askers_language(
        drive, slack, question, expected, not_expected):
    channel = "C0OUTSIDE1"
    slack.outsider_channels.add(channel)
    value = _ask_and_get_button(drive, slack, question, channel)
    shown = f"1700000000.{len(question):06d}"  # the ephemeral answer, one per question
    drive.click(_click(slack, value, channel, shown, "outside"))
    hint = slack.recorder.wait_for(
        "response_url", lambda c: c.args["_key"] == "outside" and c.args.get("text"))[0].args
    assert "/invite @Kotae" in hint["text"] and expected in hint["text"]
    assert not_expected not in hint["text"] and "try again in a moment" not in hint["text"]
    assert hint["response_type"] == "ephemeral" and hint.get("replace_original") is False
    # Once invited, the same button posts.
    slack.outsider_channels.discard(channel)
    drive.click(_click(slack, value, channel, shown))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.ok and c.args.get("channel") == channel)


# -- 5. Document text full of mrkdwn characters ---------------------------------------------------
MARKUP = "*太字ではない* と _斜体ではない_、~取り消しではない~、`code` と ```三つ``` と 2*3*4 と snake_case_name。"
LATIN = "Rate *must* be ~5%~ for `x_y_z`; <!channel> & <@U0BOSS01> and @here > 3 < 4."


def _rich_text_quotes(blocks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [element["elements"] for block in blocks if block["type"] == "rich_text"
            for element in block["elements"] if element["type"] == "rich_text_quote"]


def test_quotes_show_the_documents_characters_verbatim(drive, slack):
    quotes = (Quote(MARKUP, 1), Quote(LATIN, 2))
    drive.service.replies["記号だらけ？"] = reply_for("記号だらけ？", quotes=quotes)
    drive.event(P.mention("記号だらけ？", channel="C0VERBATIM"))
    post = slack.recorder.wait_for("chat.postMessage")[0].args
    assert message_error(post) is None
    shown = _rich_text_quotes(post["blocks"])
    assert len(shown) == 2
    for elements, quote in zip(shown, quotes, strict=True):
        # Rich text elements are literal (never parsed as mrkdwn), so the quote is the document's
        # text; only an invisible word joiner keeps "@here" from notifying anyone.
        assert {e["type"] for e in elements} == {"text"}  # no user or broadcast element
        body = elements[0]["text"].replace("\u2060", "")
        assert body == quote.text and "style" not in elements[0]
        assert elements[-1]["text"].strip() == f"[{quote.citation}]"
    assert "@\u2060here" in shown[1][0]["text"]
    sections = " ".join(b["text"]["text"] for b in post["blocks"] if b["type"] == "section")
    assert "太字ではない" not in sections and "snake_case" not in sections
    assert "太字ではない" in post["text"]  # the notification fallback still carries the quote


# -- 6. Thread follow-ups keep the subject ----------------------------------------------------------
def _follow_up(drive: Driver, slack: StandIn, channel: str, follow_up: str) -> dict[str, Any]:
    """A thread about WCIT-12 that Kotae answered, then ``follow_up`` (mentioning Kotae) in it."""
    root = slack.add_message(channel, f"<@{BOT_USER_ID}> WCIT-12とは何ですか？")
    slack.add_message(channel, "WCIT-12は世界国際電気通信会議です。", thread_ts=root, bot=True)
    ts = slack.add_message(channel, f"<@{BOT_USER_ID}> {follow_up}", thread_ts=root)
    drive.event(P.mention(follow_up, channel=channel, ts=ts, thread_ts=root))
    post = slack.recorder.wait_for("chat.postMessage", lambda c: c.args.get("channel") == channel,
                                   timeout=120)[0].args
    assert post["thread_ts"] == root and message_error(post) is None
    histories = slack.recorder.calls("conversations.replies")
    assert any(c.args.get("channel") == channel and c.args.get("ts") == root for c in histories)
    return post


@pytest.mark.model
def test_thread_follow_ups_are_answered_with_the_threads_question(drive, slack, answer_service):
    drive.use(answer_service)
    # On its own, 「それはいつ？」 has no subject: "not in the documents". In the thread, it is
    # answered from WCIT-12's documents, with the year, as 「WCIT-12はいつ開催されましたか？」 is.
    post = _follow_up(drive, slack, f"C0WHEN{drive.transport[:2].upper()}", "それはいつ？")
    quotes = " ".join(e["text"] for q in _rich_text_quotes(post["blocks"]) for e in q)
    sources = json.dumps(post["blocks"], ensure_ascii=False)
    assert "WCIT" in quotes and "2012年" in quotes, quotes
    assert "wcit12-internet-governance-slides-2013.txt" in sources
    # 「開催日程は？」 alone first quotes 2013's meetings; in the thread, WCIT-12's dates.
    post = _follow_up(drive, slack, f"C0DATE{drive.transport[:2].upper()}", "開催日程は？")
    first = _rich_text_quotes(post["blocks"])[0][0]["text"]
    assert "2012年12月3日～14日" in first, first


def test_thread_history_that_cannot_be_read_still_gets_an_answer(drive, slack):
    channel = "C0NOHIST01"
    root = slack.add_message(channel, f"<@{BOT_USER_ID}> 国際戦略とは？")
    slack.fail("conversations.replies", "missing_scope")
    drive.event(P.mention("重点は？", channel=channel, thread_ts=root))
    post = slack.recorder.wait_for("chat.postMessage")[0].args
    assert post["thread_ts"] == root and "すみません" not in post["text"]


def test_thread_follow_up_passes_the_earlier_questions_to_the_answerer(drive, slack):
    channel = "C0CONTEXT1"
    root = slack.add_message(channel, f"<@{BOT_USER_ID}> WCIT-12とは？")
    slack.add_message(channel, "答え", thread_ts=root, bot=True)
    slack.add_message(channel, "どこで開かれた？", thread_ts=root, user="U0OTHER001")
    ts = slack.add_message(channel, f"<@{BOT_USER_ID}> それはいつ？", thread_ts=root)
    later = slack.add_message(channel, "この後の発言", thread_ts=root)  # after the question: unused
    assert later > ts
    drive.event(P.mention("それはいつ？", channel=channel, ts=ts, thread_ts=root))
    slack.recorder.wait_for("chat.postMessage")
    assert drive.service.contexts == [("WCIT-12とは？", "どこで開かれた？")]


# -- 7. What rejected requests leave in the logs -----------------------------------------------------
SECRET_QUESTION = "社外秘の買収計画はいつ公表？"


def _assert_nothing_private(lines: list[str], response_url: str) -> None:
    for line in lines:
        assert SECRET_QUESTION not in line and "社外秘" not in line, line
        assert response_url not in line, line


def test_forged_and_stale_requests_are_logged_without_bodies_or_urls(http_bot, slack, all_logs):
    bot = http_bot()
    url = slack.response_url("must-not-leak")
    fields = P.slash_command(SECRET_QUESTION, url, channel="C0FORGED01")
    assert bot.sender.form(fields, signature="v0=" + "0" * 64).status == 401
    event = P.event_callback(P.mention(SECRET_QUESTION, channel="C0FORGED02"))
    assert bot.sender.event(event, timestamp=1_600_000_000).status == 401
    forged = json.loads(all_logs.wait_for('"reason": "bad signature"'))
    stale = json.loads(all_logs.wait_for('"reason": "stale timestamp"'))
    assert (forged["team"], forged["channel"]) == (TEAM_ID, "C0FORGED01")
    assert (stale["team"], stale["channel"]) == (TEAM_ID, "C0FORGED02")
    assert forged["event"] == stale["event"] == "rejected"
    _assert_nothing_private(all_logs.lines, url)
    assert bot.service.questions == []


@pytest.mark.parametrize("transport", ["http", "socket"])
def test_turned_away_requests_are_logged_without_bodies_or_urls(transport, http_bot, tmp_path, all_logs):
    with StandIn() as own:  # its own stand-in: one Socket Mode connection, its own settings
        settings = make_settings(own, tmp_path, slack_channels=frozenset({"C0ALLOWED9"}), user_rate=1)
        service = FakeAnswerer()
        if transport == "http":
            from bot.slack.app import build_app
            from bot.slack.serving import HttpServer
            from bot.slack.standin import EventsSender
            from tests.slack.conftest import SIGNING_SECRET

            app = build_app(settings, service, mode="http", logger=logging.getLogger("kotae.slack"))
            server = HttpServer(app, host="127.0.0.1", port=0).start()
            try:
                _turn_away_three(Driver("http", own, service, EventsSender(server.url, SIGNING_SECRET)),
                                 own, all_logs)
            finally:
                server.close()
        else:
            with socket_bot_running(own, settings, service):
                _turn_away_three(Driver("socket", own, service), own, all_logs)


def _turn_away_three(drive: Driver, slack: StandIn, logs: LogWatcher) -> None:
    urls = [slack.response_url(f"private-{n}") for n in range(3)]
    drive.command("最初の質問です", urls[0], channel="C0ALLOWED9")
    slack.recorder.wait_for("response_url", lambda c: c.args["_key"] == "private-0")
    drive.command(SECRET_QUESTION, urls[1], channel="C0ALLOWED9")  # over the user's rate
    drive.command(SECRET_QUESTION, urls[2], channel="C0FORBID09")  # a channel not allowed
    drive.event(P.mention(SECRET_QUESTION, channel="C0FORBID08"))
    rate = json.loads(logs.wait_for('"reason": "rate"'))
    refused = [json.loads(line) for line in logs.lines if '"reason": "channel not allowed"' in line]
    if not refused:
        refused = [json.loads(logs.wait_for('"reason": "channel not allowed"'))]
    logs.wait_for('"channel": "C0FORBID08"')
    assert (rate["team"], rate["channel"], rate["event"]) == (TEAM_ID, "C0ALLOWED9", "turned_away")
    assert refused[0]["team"] == TEAM_ID and refused[0]["channel"].startswith("C0FORBID")
    for url in urls[1:]:  # the turned-away ones
        _assert_nothing_private(logs.lines, url)
