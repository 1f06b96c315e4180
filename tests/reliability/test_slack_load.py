"""Retry storms and bursts against the real Bolt app on the stand-in, with a fast fake answerer:
every event delivered four times (original + three retries, some concurrently, over HTTP and
Socket Mode) is answered exactly once; 50 questions within a second are all answered, with 429s
honoured, and the bot's threads stay bounded."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.slack.standin import StandIn
from bot.slack.standin import payloads as P
from tests.slack.conftest import make_settings, socket_bot_running
from tests.slack.fakes import FakeAnswerer

EVENTS = 200
DELIVERIES = 4  # the original and Slack's three retries


def _events(prefix: str, n: int) -> list[dict]:
    """Half DMs, half channel mentions (which Slack also sends as a message event)."""
    bodies = []
    for i in range(n):
        if i % 2:
            event = P.message(f"質問{prefix}{i}", channel=f"D0{prefix}{i:05d}")
        else:
            event = P.mention(f"質問{prefix}{i}", channel=f"C0{prefix}{i:05d}")
        bodies.append(P.event_callback(event))
    return bodies


def _schedule(bodies: list[dict], seed: int) -> list[list[tuple[dict, int]]]:
    """Waves of deliveries: the original and retry 1 of an event together (concurrent), retries
    2 and 3 in later waves, mixed with other events' originals."""
    rng = random.Random(seed)
    waves: list[list[tuple[dict, int]]] = [[] for _ in range(DELIVERIES + 2)]
    for k, body in enumerate(bodies):
        start = k % 3
        waves[start] += [(body, 0), (body, 1)]
        waves[start + 1 + rng.randint(0, 1)].append((body, 2))
        waves[start + 2 + rng.randint(0, 1)].append((body, 3))
    for wave in waves:
        rng.shuffle(wave)
    return waves


def _answers_per_event(slack: StandIn, prefix: str) -> Counter:
    pattern = re.compile(rf"[CD]0{prefix}\d{{5}}")
    posts = [c for c in slack.recorder.calls("chat.postMessage")
             if c.ok and pattern.fullmatch(c.args.get("channel", ""))]
    return Counter(c.args["channel"] for c in posts)


def test_http_retry_storm_is_answered_once_per_event(http_bot, slack):
    service = FakeAnswerer()
    # Acks are faster than answers, so up to all 200 events may be in flight at once: room for
    # all of them, as this test is about duplicates (the bound has its own tests).
    bot = http_bot(service, threads=8, max_pending=EVENTS)
    bodies = _events("HT", EVENTS)
    sent = Counter()
    with ThreadPoolExecutor(16) as pool:
        for wave in _schedule(bodies, 1):
            results = list(pool.map(
                lambda item: bot.sender.event(item[0], retry_num=item[1] or None), wave))
            assert all(r.status == 200 for r in results)
            sent["deliveries"] += len(wave)
    slack.recorder.wait_until(lambda calls: len(_answers_per_event(slack, "HT")) == EVENTS, timeout=120)
    time.sleep(0.3)  # late duplicates would show up now
    answers = _answers_per_event(slack, "HT")
    assert sent["deliveries"] == EVENTS * DELIVERIES
    assert set(answers.values()) == {1}, [k for k, v in answers.items() if v != 1][:5]
    assert len(service.questions) == EVENTS
    print(f"\nHTTP retry storm: {sent['deliveries']} deliveries of {EVENTS} events -> {sum(answers.values())} answers")


@pytest.fixture(scope="module")
def socket_bot(standin: StandIn, tmp_path_factory):
    service = FakeAnswerer()
    # All 200 events arrive within about a second (Socket Mode acks do not wait for answers):
    # room for all of them, as this test is about duplicates (the bound has its own tests).
    settings = make_settings(standin, tmp_path_factory.mktemp("socket-load"), max_pending=EVENTS)
    with socket_bot_running(standin, settings, service):
        yield service


def test_socket_mode_retry_storm_is_answered_once_per_event(socket_bot, slack):
    bodies = _events("SK", EVENTS)
    envelopes = []
    with ThreadPoolExecutor(8) as pool:
        for wave in _schedule(bodies, 2):
            envelopes += list(pool.map(
                lambda item: slack.push(item[0], retry_attempt=item[1], retry_reason="timeout" if item[1] else ""),
                wave))
    for envelope in envelopes:
        slack.wait_ack(envelope, timeout=60)  # every delivery is acknowledged
    slack.recorder.wait_until(lambda calls: len(_answers_per_event(slack, "SK")) == EVENTS, timeout=120)
    time.sleep(0.3)
    answers = _answers_per_event(slack, "SK")
    assert len(envelopes) == EVENTS * DELIVERIES
    assert set(answers.values()) == {1}
    assert len([q for q in socket_bot.questions if q.startswith("質問SK")]) == EVENTS
    print(f"\nSocket Mode retry storm: {len(envelopes)} deliveries of {EVENTS} events -> "
          f"{sum(answers.values())} answers")


def test_burst_of_50_questions_with_rate_limits_is_all_answered(http_bot, slack):
    service = FakeAnswerer()
    bot = http_bot(service, threads=8)
    def bot_threads() -> int:  # every thread of this process except the test's own senders
        return sum(1 for t in threading.enumerate() if not t.name.startswith(("sender", "watcher")))

    baseline = bot_threads()
    slack.fail("chat.postMessage", status=429, retry_after=1, times=8)  # Slack says: slow down
    peak = [baseline]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], bot_threads())
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, name="watcher")
    watcher.start()
    started = time.monotonic()
    with ThreadPoolExecutor(25, thread_name_prefix="sender") as pool:
        bodies = [P.event_callback(P.message(f"急ぎ{i}", channel=f"D0BURST{i:03d}")) for i in range(50)]
        results = list(pool.map(bot.sender.event, bodies))
    burst = time.monotonic() - started
    assert all(r.status == 200 and r.elapsed < 3 for r in results)
    slack.recorder.wait_until(
        lambda calls: len({c.args["channel"] for c in calls if c.method == "chat.postMessage" and c.ok
                           and c.args.get("channel", "").startswith("D0BURST")}) == 50, timeout=30)
    stop.set()
    watcher.join()
    limited = [c for c in slack.recorder.calls("chat.postMessage") if c.status == 429]
    assert len(limited) == 8
    for call in limited:  # each rate-limited post was sent again, no sooner than Retry-After
        retry = next(c for c in slack.recorder.calls("chat.postMessage")
                     if c.ok and c.args["channel"] == call.args["channel"])
        assert retry.at - call.at >= 0.95
    assert burst < 1.5, f"50 events took {burst:.2f}s to acknowledge"
    # waitress's 8 threads exist already; Bolt's listener pool adds at most 5: not one per event
    assert peak[0] - baseline <= 8, (baseline, peak[0])
    print(f"\nburst: 50 events acknowledged in {burst:.2f}s; bot threads {baseline} -> peak {peak[0]}")
    assert len(service.questions) == 50
