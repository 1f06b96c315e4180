"""End to end over HTTP: the real App under waitress on 127.0.0.1, signed requests, the stand-in
as Slack's Web API. Listeners run after the ack, so tests wait on recorded calls."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.slack.blocks import ACTION_FEEDBACK_UP, ACTION_POST_TO_CHANNEL
from bot.slack.standin import payloads as P
from bot.slack.standin.validation import message_error
from tests.slack.fakes import FakeAnswerer, in_channel


def _posts_in(slack, channel):
    return [c for c in slack.recorder.calls("chat.postMessage") if c.args.get("channel") == channel]


def test_url_verification_answers_the_challenge(http_bot):
    bot = http_bot()
    sent = bot.sender.event({"type": "url_verification", "challenge": "c-123", "token": "t"})
    assert sent.status == 200 and sent.json() == {"challenge": "c-123"}


def test_bad_signature_and_stale_timestamp_are_rejected(http_bot, slack):
    bot = http_bot()
    body = P.event_callback(P.mention("国際戦略は？", channel="C0REJECT01"))
    forged = bot.sender.event(body, signature="v0=" + "0" * 64)
    stale = bot.sender.event(body, timestamp=int(time.time()) - 6 * 60)
    assert (forged.status, stale.status) == (401, 401)
    ok = bot.sender.event(P.event_callback(P.mention("確認", channel="C0REJECT01")))
    assert ok.status == 200
    slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == "C0REJECT01")
    assert bot.service.questions == ["確認"]  # the rejected ones never reached answer()


def test_mention_gets_a_threaded_answer_with_its_citations(http_bot, slack):
    bot = http_bot()
    event = P.mention("国際戦略の重点は？", channel="C0MENTION1")
    sent = bot.sender.event(P.event_callback(event))
    assert sent.status == 200 and sent.elapsed < 3
    post = slack.recorder.wait_for("chat.postMessage")[0].args
    assert post["channel"] == "C0MENTION1" and post["thread_ts"] == event["ts"]
    assert post["unfurl_links"] is False
    assert message_error(post) is None
    text = json.dumps(post["blocks"], ensure_ascii=False)
    assert "情報通信白書 2013 › 第1章 › 国際戦略 · 12–14行" in text
    assert "我が国の国際戦略は" in text
    # Progress: 👀 on the question, removed after the answer.
    slack.recorder.wait_for("reactions.remove", in_channel("C0MENTION1"))
    add = slack.recorder.calls("reactions.add")[0].args
    assert add["name"] == "eyes" and add["timestamp"] == event["ts"]
    assert slack.recorder.calls("reactions.add")[0].at < slack.recorder.calls("chat.postMessage")[0].at


def test_mention_and_its_message_event_are_answered_once(http_bot, slack):
    bot = http_bot()
    mention = P.mention("一度だけ？", channel="C0ONCE0001")
    message = P.message(mention["text"], channel="C0ONCE0001", channel_type="channel",
                        ts=mention["ts"])
    for body in (P.event_callback(message), P.event_callback(mention)):
        assert bot.sender.event(body).status == 200
    slack.recorder.wait_for("reactions.remove", in_channel("C0ONCE0001"))
    assert len(_posts_in(slack, "C0ONCE0001")) == 1 and bot.service.questions == ["一度だけ？"]


def test_retries_and_concurrent_duplicates_are_answered_once(http_bot, slack):
    service = FakeAnswerer()
    service.gate = threading.Event()  # hold the first answer so duplicates overlap with it
    bot = http_bot(service)
    body = P.event_callback(P.mention("重複？", channel="C0DUPLIC01"))
    with ThreadPoolExecutor(8) as pool:
        sent = list(pool.map(lambda n: bot.sender.event(body, retry_num=n or None), range(8)))
    assert all(s.status == 200 and s.elapsed < 3 for s in sent)
    service.gate.set()
    slack.recorder.wait_for("reactions.remove", in_channel("C0DUPLIC01"))
    # A later retry (Slack's ~1 min and ~5 min ones) is still recognised.
    assert bot.sender.event(body, retry_num=3).status == 200
    assert len(_posts_in(slack, "C0DUPLIC01")) == 1 and service.questions == ["重複？"]


def test_acknowledges_within_three_seconds_even_when_answering_is_slow(http_bot, slack):
    service = FakeAnswerer()
    service.gate = threading.Event()
    bot = http_bot(service)
    sent = bot.sender.event(P.event_callback(P.mention("遅い？", channel="C0SLOW0001")))
    assert sent.status == 200 and sent.elapsed < 1
    slack.recorder.wait_for("reactions.add")  # progress is visible before the answer
    assert not slack.recorder.calls("chat.postMessage")
    service.gate.set()
    slack.recorder.wait_for("chat.postMessage")


def test_dm_is_answered_in_the_dm(http_bot, slack):
    bot = http_bot()
    bot.sender.event(P.event_callback(P.message("What is WCIT-12?", channel="D0DMHTTP01")))
    post = slack.recorder.wait_for("chat.postMessage")[0].args
    assert post["channel"] == "D0DMHTTP01" and "thread_ts" not in post
    assert "*Sources*" in json.dumps(post["blocks"])


def test_own_bot_edit_join_and_leave_messages_are_ignored(http_bot, slack):
    bot = http_bot()
    ignored = [
        P.message("mine", user="U0KOTAEBOT"),
        P.message("other bot", bot_id="B0OTHER001", subtype="bot_message"),
        P.message("edited", subtype="message_changed"),
        P.message("joined", subtype="channel_join", channel_type="channel", channel="C0IGNORE01"),
        P.message("left", subtype="channel_leave", channel_type="channel", channel="C0IGNORE01"),
        P.message("plain channel chatter", channel_type="channel", channel="C0IGNORE01"),
    ]
    for event in ignored:
        assert bot.sender.event(P.event_callback(event)).status == 200
    bot.sender.event(P.event_callback(P.message("marker", channel="D0MARKER01")))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == "D0MARKER01")
    assert bot.service.questions == ["marker"]


def test_thread_follow_up_needs_a_mention_in_channels(http_bot, slack):
    bot = http_bot()  # mention_only=True (the default)
    root = slack.add_message("C0THREAD01", "<@U0KOTAEBOT> 最初の質問")
    slack.add_message("C0THREAD01", "answer", thread_ts=root, bot=True)
    follow = P.message("続きの質問（メンションなし）", channel="C0THREAD01", channel_type="channel",
                       thread_ts=root)
    bot.sender.event(P.event_callback(follow))
    mention = P.mention("続きの質問", channel="C0THREAD01", thread_ts=root)
    bot.sender.event(P.event_callback(mention))
    post = slack.recorder.wait_for("chat.postMessage")[0].args
    assert post["thread_ts"] == root
    assert bot.service.questions == ["続きの質問"]


def test_thread_follow_up_without_mention_when_allowed(http_bot, slack):
    bot = http_bot(slack_mention_only=False)
    root = slack.add_message("C0THREAD02", "<@U0KOTAEBOT> 最初の質問")
    slack.add_message("C0THREAD02", "answer", thread_ts=root, bot=True)
    other = slack.add_message("C0THREAD02", "a thread Kotae never answered")
    for thread in (other, root):
        event = P.message("続きは？", channel="C0THREAD02", channel_type="channel", thread_ts=thread)
        bot.sender.event(P.event_callback(event))
    post = slack.recorder.wait_for("chat.postMessage")[0].args
    slack.recorder.wait_for("reactions.remove", in_channel("C0THREAD02"))
    assert post["thread_ts"] == root and len(_posts_in(slack, "C0THREAD02")) == 1


def test_ask_is_ephemeral_then_posted_to_the_channel(http_bot, slack):
    bot = http_bot()
    url = slack.response_url("ask-1")
    sent = bot.sender.form(P.slash_command("国際戦略の重点は？", url, channel="C0ASKCMD01"))
    assert sent.status == 200 and sent.json()["response_type"] == "ephemeral"
    answer = slack.recorder.wait_for("response_url")[0].args
    assert answer["response_type"] == "ephemeral" and message_error(answer) is None
    assert not slack.recorder.calls("chat.postMessage")  # nothing public yet
    button = answer["blocks"][-1]["elements"][-1]
    assert button["action_id"] == ACTION_POST_TO_CHANNEL
    click = P.block_action(ACTION_POST_TO_CHANNEL, button["value"], slack.response_url("ask-2"),
                           channel="C0ASKCMD01", ephemeral=True)
    assert bot.sender.form(P.form_of(click)).status == 200
    post = slack.recorder.wait_for("chat.postMessage")[0].args
    assert post["channel"] == "C0ASKCMD01" and "<@U0ASKER01>" in json.dumps(post["blocks"])
    deleted = slack.recorder.wait_for("response_url", lambda c: c.args["_key"] == "ask-2")[0]
    assert deleted.args.get("delete_original") is True


def test_channel_allowlist_and_private_answers_are_honoured(http_bot, slack):
    bot = http_bot(slack_channels=frozenset({"C0ALLOWED1"}), slack_private=True)
    bot.sender.event(P.event_callback(P.mention("だめ？", channel="C0FORBID01")))
    refusal = slack.recorder.wait_for("chat.postEphemeral")[0].args
    assert refusal["channel"] == "C0FORBID01" and "回答できません" in refusal["text"]
    url = slack.response_url("forbidden")
    assert "回答できません" in bot.sender.form(P.slash_command("だめ？", url,
                                                            channel="C0FORBID01")).json()["text"]
    bot.sender.event(P.event_callback(P.mention("いい？", channel="C0ALLOWED1")))
    private = slack.recorder.wait_for("chat.postEphemeral", count=2)[1].args
    assert private["channel"] == "C0ALLOWED1" and private["user"] == "U0ASKER01"
    url = slack.response_url("private-ask")
    bot.sender.form(P.slash_command("いい？", url, channel="C0ALLOWED1"))
    answer = slack.recorder.wait_for("response_url")[0].args
    assert ACTION_POST_TO_CHANNEL not in json.dumps(answer["blocks"])  # private: no post button
    assert not slack.recorder.calls("chat.postMessage")
    assert bot.service.questions == ["いい？", "いい？"]


def test_rate_limited_post_is_retried_after_retry_after(http_bot, slack):
    bot = http_bot()
    slack.fail("chat.postMessage", status=429, retry_after=1)
    bot.sender.event(P.event_callback(P.mention("429?", channel="C0RATELIM1")))
    calls = slack.recorder.wait_for("chat.postMessage", count=2, timeout=15)
    assert calls[0].status == 429 and calls[1].ok
    assert calls[1].at - calls[0].at >= 1.0


def test_slack_error_gets_an_apology_and_the_bot_keeps_working(http_bot, slack, logs):
    bot = http_bot()
    slack.fail("chat.postMessage", "msg_too_long")
    bot.sender.event(P.event_callback(P.mention("壊れる？", channel="C0ERROR001")))
    apology = slack.recorder.wait_for("chat.postMessage", lambda c: c.ok)[0].args
    assert apology["channel"] == "C0ERROR001" and "すみません" in apology["text"]
    assert "Traceback" not in apology["text"] and "msg_too_long" not in apology["text"]
    bot.sender.event(P.event_callback(P.mention("次は？", channel="C0ERROR001")))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.ok, count=2)
    line = logs.wait_for("listener failed")
    assert "msg_too_long" in line and "C0ERROR001" in line


def test_unreachable_channel_is_logged_without_an_apology_loop(http_bot, slack, logs):
    bot = http_bot()
    slack.unknown_channels.add("C0GONE0001")
    bot.sender.event(P.event_callback(P.mention("どこ？", channel="C0GONE0001")))
    line = logs.wait_for("listener failed")
    assert "channel_not_found" in line and "C0GONE0001" in line and "xoxb" not in line
    assert all(not c.ok for c in slack.recorder.calls("chat.postMessage"))
    assert len(slack.recorder.calls("chat.postMessage")) == 1


def test_internal_errors_never_reach_slack(http_bot, slack):
    service = FakeAnswerer()
    service.fail_with = RuntimeError("/secret/path/index.npy corrupt; token xoxb-0000000000-test")
    bot = http_bot(service)
    bot.sender.event(P.event_callback(P.mention("内部エラー？", channel="C0INTERN01")))
    apology = slack.recorder.wait_for("chat.postMessage")[0].args
    dumped = json.dumps(apology, ensure_ascii=False)
    assert "すみません" in dumped and "/secret" not in dumped and "xoxb" not in dumped


def test_feedback_click_is_recorded_append_only(http_bot, slack):
    bot = http_bot()
    bot.sender.event(P.event_callback(P.mention("評価？", channel="C0FEEDBK01")))
    post = slack.recorder.wait_for("chat.postMessage")[0]
    buttons = post.args["blocks"][-1]["elements"]
    up = next(b for b in buttons if b["action_id"] == ACTION_FEEDBACK_UP)
    for user in ("U0VOTER001", "U0VOTER002"):
        click = P.block_action(ACTION_FEEDBACK_UP, up["value"], slack.response_url(user),
                               channel="C0FEEDBK01", user=user, message_ts="1700000000.000100")
        assert bot.sender.form(P.form_of(click)).status == 200
    slack.recorder.wait_for("response_url", count=2)
    path = bot.settings.feedback_path
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [e["user"] for e in lines] == ["U0VOTER001", "U0VOTER002"]
    assert lines[0]["vote"] == "up" and lines[0]["question"] == "評価？"
    assert lines[0]["channel"] == "C0FEEDBK01" and lines[0]["answer_id"]
    assert lines[0]["sources"][0].startswith("whitepaper-2013")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_index_refreshed_while_serving_is_used_without_failing_requests(http_bot, slack):
    service = FakeAnswerer()
    bot = http_bot(service)
    bot.sender.event(P.event_callback(P.mention("前？", channel="C0RELOAD01")))
    first = slack.recorder.wait_for("chat.postMessage")[0].args
    service.publish("v2")
    bot.sender.event(P.event_callback(P.mention("後？", channel="C0RELOAD01")))
    second = slack.recorder.wait_for("chat.postMessage", count=2)[1].args
    assert "索引 v1" in json.dumps(first["blocks"], ensure_ascii=False)
    assert "索引 v2" in json.dumps(second["blocks"], ensure_ascii=False)
    assert service.reloads == 2 and all(c.ok for c in slack.recorder.calls())


def test_one_structured_log_line_per_question(http_bot, slack, logs):
    bot = http_bot()
    bot.sender.event(P.event_callback(P.mention("ログ？", channel="C0LOGLINE1")))
    line = json.loads(logs.wait_for('"event": "question"'))
    assert line["channel"] == "C0LOGLINE1" and line["entry"] == "mention"
    assert line["answered"] is True and line["top_score"] == 0.9 and line["latency_ms"] >= 0
    assert "xoxb" not in "".join(logs.lines)


@pytest.mark.model
def test_mention_with_real_retrieval_over_the_sample_corpus(http_bot, slack, answer_service):
    bot = http_bot(answer_service)
    question = "日米インターネットエコノミー政策協力対話では何が確認されましたか？"
    expected = answer_service.answer(question)
    bot.sender.event(P.event_callback(P.mention(question, channel="C0REALHTTP")))
    post = slack.recorder.wait_for("chat.postMessage", timeout=60)[0].args
    assert message_error(post) is None
    text = json.dumps(post["blocks"], ensure_ascii=False)
    for citation in expected.citations:
        assert f"*[{citation.n}]*" in text
        assert citation.source in text or citation.title[:20] in text


@pytest.mark.model
def test_ask_with_real_retrieval_over_the_sample_corpus(http_bot, slack, answer_service):
    bot = http_bot(answer_service)
    question = "What was discussed at the Japan-US digital economy dialogue?"
    expected = answer_service.answer(question)
    bot.sender.form(P.slash_command(question, slack.response_url("real-ask"), channel="C0REALASK1"))
    answer = slack.recorder.wait_for("response_url", timeout=60)[0].args
    assert message_error(answer) is None and answer["response_type"] == "ephemeral"
    text = json.dumps(answer["blocks"], ensure_ascii=False)
    assert ("*Sources*" if expected.answered else "*Closest documents*") in text
    assert all(f"*[{c.n}]*" in text for c in expected.citations[:3])
