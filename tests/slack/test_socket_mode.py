"""End to end over Socket Mode: the built-in SocketModeHandler on a real WebSocket to the
stand-in. One connection for the whole module (closing one takes ~3 s)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.slack.standin import StandIn
from bot.slack.standin import payloads as P
from bot.slack.standin.validation import message_error
from tests.slack.conftest import make_settings, socket_bot_running
from tests.slack.fakes import FakeAnswerer, Switchable, in_channel


@pytest.fixture(scope="module")
def service() -> Switchable:
    return Switchable(FakeAnswerer())


@pytest.fixture(scope="module")
def connected(standin: StandIn, service: Switchable, tmp_path_factory):
    with socket_bot_running(standin, make_settings(standin, tmp_path_factory.mktemp("socket")), service) as app:
        yield app


@pytest.fixture
def fake(service: Switchable, connected, slack) -> FakeAnswerer:
    service.target = FakeAnswerer()
    return service.target


def _push_and_ack(slack: StandIn, body: dict, **options) -> float:
    started = time.monotonic()
    envelope = slack.push(body, **options)
    return slack.wait_ack(envelope).at - started


def test_first_delivery_with_retry_number_zero_is_answered(fake, slack):
    # Bolt >= 1.29 turns retry_attempt 0 into x-slack-retry-num: "0" on the first delivery.
    elapsed = _push_and_ack(slack, P.event_callback(P.message("最初？", channel="D0SOCKDM01")),
                            retry_attempt=0)
    assert elapsed < 3
    post = slack.recorder.wait_for("chat.postMessage")[0].args
    assert post["channel"] == "D0SOCKDM01" and message_error(post) is None
    assert fake.questions == ["最初？"]


def test_mention_is_answered_in_a_thread(fake, slack):
    event = P.mention("国際戦略の重点は？", channel="C0SOCKMEN1")
    _push_and_ack(slack, P.event_callback(event))
    post = slack.recorder.wait_for("chat.postMessage")[0].args
    assert post["thread_ts"] == event["ts"]
    assert "情報通信白書 2013" in json.dumps(post["blocks"], ensure_ascii=False)


def test_duplicate_and_retried_envelopes_are_answered_once(fake, slack):
    fake.gate = threading.Event()
    body = P.event_callback(P.mention("重複？", channel="C0SOCKDUP1"))
    with ThreadPoolExecutor(6) as pool:
        envelopes = list(pool.map(lambda n: slack.push(body, retry_attempt=n % 4,
                                                       retry_reason="timeout" if n else ""),
                                  range(6)))
    acks = [slack.wait_ack(e) for e in envelopes]  # every delivery is acknowledged
    assert len(acks) == 6
    fake.gate.set()
    slack.recorder.wait_for("reactions.remove", in_channel("C0SOCKDUP1"))
    assert len(slack.recorder.calls("chat.postMessage")) == 1 and fake.questions == ["重複？"]


def test_ask_over_socket_mode_acks_with_payload_then_answers_ephemerally(fake, slack):
    url = slack.response_url("sock-ask")
    envelope = slack.push(P.slash_command("WCIT-12とは？", url, channel="C0SOCKASK1"),
                          kind="slash_commands")
    ack = slack.wait_ack(envelope)
    assert ack.args["payload"]["response_type"] == "ephemeral"
    answer = slack.recorder.wait_for("response_url")[0].args
    assert answer["response_type"] == "ephemeral" and message_error(answer) is None
    assert not slack.recorder.calls("chat.postMessage")


def test_assistant_thread_greets_with_suggested_prompts(fake, slack):
    started = P.assistant_thread_started(channel="D0ASSIST01")
    _push_and_ack(slack, P.event_callback(started))
    prompts = slack.recorder.wait_for("assistant.threads.setSuggestedPrompts")[0].args
    greeting = slack.recorder.wait_for("chat.postMessage")[0].args
    assert greeting["thread_ts"] == started["assistant_thread"]["thread_ts"]
    assert "Kotae" in greeting["text"]
    titles = [p["title"] for p in prompts["prompts"]]
    assert titles == fake.suggested_questions(4) and len(titles) == 4
    assert prompts["thread_ts"] == started["assistant_thread"]["thread_ts"]


def test_assistant_message_shows_status_before_the_answer_and_sets_a_title(fake, slack):
    thread = "1700000000.000200"
    event = P.message("日米デジタル経済対話の成果は？", channel="D0ASSIST02", thread_ts=thread)
    _push_and_ack(slack, P.event_callback(event))
    answer = slack.recorder.wait_for("chat.postMessage")[0]
    status = slack.recorder.calls("assistant.threads.setStatus")[0]
    title = slack.recorder.wait_for("assistant.threads.setTitle")[0]
    assert status.at < answer.at and status.args["status"] == "文書を検索しています…"
    assert status.args["thread_ts"] == thread and answer.args["thread_ts"] == thread
    assert title.args["title"].startswith("日米デジタル経済対話")
    assert fake.questions == ["日米デジタル経済対話の成果は？"]


def test_assistant_status_failure_does_not_cost_the_answer(fake, slack):
    slack.fail("assistant.threads.setStatus", "invalid_thread")
    event = P.message("状態が失敗しても？", channel="D0ASSIST03", thread_ts="1700000000.000300")
    _push_and_ack(slack, P.event_callback(event))
    post = slack.recorder.wait_for("chat.postMessage")[0].args
    assert "すみません" not in post["text"]


def test_rate_limited_then_success_over_socket_mode(fake, slack):
    slack.fail("chat.postMessage", status=429, retry_after=1)
    _push_and_ack(slack, P.event_callback(P.message("429?", channel="D0SOCK4290")))
    calls = slack.recorder.wait_for("chat.postMessage", count=2, timeout=15)
    assert [c.status for c in calls] == [429, 200] and calls[1].at - calls[0].at >= 1.0


@pytest.mark.model
def test_assistant_and_dm_with_real_retrieval(service, connected, slack, answer_service):
    service.target = answer_service
    question = "世界国際電気通信会議（WCIT-12）では何が議論されましたか？"
    expected = answer_service.answer(question)
    event = P.message(question, channel="D0SOCKREAL", thread_ts="1700000000.000400")
    slack.push(P.event_callback(event))
    post = slack.recorder.wait_for("chat.postMessage", timeout=60)[0].args
    assert message_error(post) is None
    text = json.dumps(post["blocks"], ensure_ascii=False)
    assert all(f"*[{c.n}]*" in text for c in expected.citations)
    assert slack.recorder.calls("assistant.threads.setStatus")
