"""Floods far beyond ``max_pending`` against the real Bolt app on the stand-in (HTTP and Socket
Mode), with an answerer held shut by a gate, so that exactly which questions are in flight is
known: every request is acknowledged at once, the first ``max_pending`` questions are answered,
every other asker is told the bot is busy (an ephemeral ack for /ask), nothing is answered
twice even when Slack retries, and the bot's threads do not grow with the flood."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from bot.slack.admission import WORKERS
from bot.slack.blocks import ACTION_POST_TO_CHANNEL
from bot.slack.labels import labels_for
from bot.slack.standin import StandIn
from bot.slack.standin import payloads as P
from tests.slack.conftest import make_settings, socket_bot_running
from tests.slack.fakes import FakeAnswerer, Switchable

MAX_PENDING = 8
FLOOD = 150  # questions beyond the first MAX_PENDING: 50 mentions, 50 DMs, 50 /ask
BUSY = labels_for("ja").busy
SLOW_DOWN = labels_for("ja").slow_down
NOTICE_THREADS = 1
SOCKET_WORKERS = 10  # the Socket Mode handler's pool, started as envelopes arrive


def _bot_threads() -> int:
    """Threads of this process except the test's own senders and watcher."""
    return sum(1 for t in threading.enumerate() if not t.name.startswith(("sender", "watcher")))


class ThreadWatch:
    """The peak thread count while the flood is handled (sampled every 5 ms)."""

    def __init__(self) -> None:
        self.baseline = _bot_threads()
        self.active_before = threading.active_count()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="watcher")
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _bot_threads())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Flood:
    """What was sent: ``first`` are admitted one at a time, ``rest`` arrive all at once."""

    prefix: str
    first: list[dict] = field(default_factory=list)
    rest: list[tuple[str, dict]] = field(default_factory=list)  # (kind, body)

    def __post_init__(self) -> None:
        p = self.prefix
        for i in range(MAX_PENDING):
            self.first.append(P.event_callback(P.message(f"最初{p}{i}", channel=f"D0{p}F{i:04d}",
                                                         user=f"U0{p}F{i:04d}")))
        for i in range(FLOOD):
            user = f"U0{p}R{i:04d}"
            if i % 3 == 0:  # a channel mention, with the message event Slack also sends for it
                mention = P.mention(f"殺到{p}{i}", channel=f"C0{p}R{i:04d}", user=user)
                self.rest.append(("mention", P.event_callback(mention)))
                sibling = P.message(mention["text"], channel=mention["channel"], channel_type="channel",
                                    user=user, ts=mention["ts"])
                self.rest.append(("sibling", P.event_callback(sibling)))
            elif i % 3 == 1:
                self.rest.append(("dm", P.event_callback(P.message(f"殺到{p}{i}", channel=f"D0{p}R{i:04d}",
                                                                   user=user))))
            else:
                self.rest.append(("ask", {"text": f"殺到{p}{i}", "channel": f"C0{p}A{i:04d}", "user": user}))

    @property
    def notified(self) -> set[str]:
        """Channels where a busy notice is expected (mentions and DMs of the flood)."""
        return {b["event"]["channel"] for kind, b in self.rest if kind in {"mention", "dm"}}

    @property
    def first_channels(self) -> set[str]:
        return {b["event"]["channel"] for b in self.first}


def _wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.01)


def _posts(slack: StandIn, prefix: str) -> list:
    return [c for c in slack.recorder.calls("chat.postMessage")
            if c.ok and c.args.get("channel", "")[2:].startswith(prefix)]


def _text(call) -> str:
    return json.dumps(call.args.get("blocks") or [], ensure_ascii=False) + str(call.args.get("text", ""))


def _check_outcome(slack: StandIn, flood: Flood, service: FakeAnswerer, watch: ThreadWatch) -> dict:
    """After the gate opened: the first MAX_PENDING answered, every other asker told once."""
    expected = flood.first_channels | flood.notified
    try:
        slack.recorder.wait_until(
            lambda calls: {c.args["channel"] for c in _posts(slack, flood.prefix)} >= expected, timeout=20)
    except TimeoutError:
        missing = expected - {c.args["channel"] for c in _posts(slack, flood.prefix)}
        raise AssertionError(f"{len(missing)} of {len(expected)} channels got no post: {sorted(missing)[:5]}") from None
    time.sleep(0.3)  # late duplicates, if any, would show up now
    watch.stop()
    posts = _posts(slack, flood.prefix)
    per_channel = Counter(c.args["channel"] for c in posts)
    assert set(per_channel.values()) == {1}, [k for k, v in per_channel.items() if v != 1][:5]
    answered = {c.args["channel"] for c in posts if "我が国の国際戦略" in _text(c)}
    told = {c.args["channel"] for c in posts if BUSY in _text(c)}
    assert answered == flood.first_channels
    assert told == flood.notified
    for call in posts:
        if call.args["channel"] in told and call.args["channel"].startswith(f"C0{flood.prefix}"):
            assert call.args["thread_ts"]  # a mention is told in its thread
    assert sorted(service.questions) == sorted(f"最初{flood.prefix}{i}" for i in range(MAX_PENDING))
    return {"answered": len(answered), "busy notices": len(told)}


# -- HTTP ------------------------------------------------------------------------------------------
def test_http_flood_beyond_max_pending_is_acknowledged_and_told_busy(http_bot, slack):
    service = FakeAnswerer()
    service.gate = threading.Event()  # no answer completes until the flood is over
    bot = http_bot(service, threads=8, max_pending=MAX_PENDING)
    pool = bot.app.pool
    flood = Flood("HF")
    watch = ThreadWatch()

    first = [bot.sender.event(body) for body in flood.first]  # admitted, one at a time

    def send(item: tuple[str, dict]):
        kind, body = item
        if kind == "ask":
            url = slack.response_url(f"flood-{body['user']}")
            return kind, bot.sender.form(P.slash_command(body["text"], url, channel=body["channel"],
                                                         user=body["user"]))
        return kind, bot.sender.event(body)

    started = time.monotonic()
    with ThreadPoolExecutor(25, thread_name_prefix="sender") as senders:
        rest = list(senders.map(send, flood.rest))
    flood_seconds = time.monotonic() - started
    # Slack retries some of them (as if our acks were late): acknowledged, never answered.
    with ThreadPoolExecutor(25, thread_name_prefix="sender") as senders:
        retries = list(senders.map(lambda b: bot.sender.event(b, retry_num=1),
                                   flood.first + [b for kind, b in flood.rest if kind != "ask"]))

    sent = first + [s for _, s in rest] + retries
    assert all(s.status == 200 for s in sent)
    elapsed = sorted(s.elapsed for s in sent)
    assert elapsed[-1] < 3, f"slowest acknowledgement {elapsed[-1]:.2f}s"
    for kind, s in rest:
        if kind == "ask":
            assert s.json() == {"response_type": "ephemeral", "text": BUSY}
    # While the gate is shut: exactly MAX_PENDING questions in flight, the workers hold WORKERS.
    assert pool.stats().questions == MAX_PENDING
    _wait_until(lambda: len(service.questions) == WORKERS)

    service.gate.set()
    figures = _check_outcome(slack, flood, service, watch)
    stats = pool.stats()
    assert stats.peak_questions == MAX_PENDING and stats.questions == 0
    assert stats.refused == sum(1 for kind, _ in flood.rest if kind in {"mention", "dm", "ask"})
    # The flood added at most the listener pool and the notice thread (waitress's exist already).
    assert watch.peak - watch.baseline <= WORKERS + NOTICE_THREADS, (watch.baseline, watch.peak)
    active_after = threading.active_count()
    assert active_after - watch.active_before <= WORKERS + NOTICE_THREADS

    # Slots are free again: the next question is answered.
    bot.sender.event(P.event_callback(P.message("その後", channel="D0HFAFTER1", user="U0HFAFTER1")))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "D0HFAFTER1")
    print(f"\nHTTP flood: {len(first) + len(rest)} requests ({len(flood.rest)} in {flood_seconds:.2f}s) "
          f"+ {len(retries)} retries; ack p50 {statistics.median(elapsed) * 1000:.0f} ms, "
          f"max {elapsed[-1] * 1000:.0f} ms; {figures['answered']} answered, {stats.refused} turned away "
          f"({figures['busy notices']} busy notices, {stats.refused - figures['busy notices']} /ask busy acks); "
          f"threads {watch.baseline} -> peak {watch.peak}; active_count {watch.active_before} -> {active_after}")


def test_a_user_over_the_rate_is_asked_to_slow_down(http_bot, slack):
    bot = http_bot(user_rate=3)
    for i in range(5):
        body = P.event_callback(P.message(f"連続{i}", channel=f"D0RATE{i:04d}", user="U0HASTY01"))
        assert bot.sender.event(body).status == 200
    url = slack.response_url("rate-ask")
    ask = bot.sender.form(P.slash_command("まだ？", url, channel="C0RATEASK1", user="U0HASTY01"))
    assert ask.json() == {"response_type": "ephemeral", "text": SLOW_DOWN}
    click = P.block_action(ACTION_POST_TO_CHANNEL, json.dumps({"q": "共有したい"}), slack.response_url("rate-click"),
                           channel="C0RATEASK1", user="U0HASTY01", ephemeral=True)
    assert bot.sender.form(P.form_of(click)).status == 200
    told = slack.recorder.wait_for("response_url", lambda c: c.args["_key"] == "rate-click")[0].args
    assert told["text"] == SLOW_DOWN and told["response_type"] == "ephemeral"
    other = bot.sender.event(P.event_callback(P.message("別の人", channel="D0RATEOTH1", user="U0CALM001")))
    assert other.status == 200
    calls = slack.recorder.wait_for("chat.postMessage",
                                    lambda c: c.args.get("channel", "").startswith("D0RATE"), count=6)
    by_channel = {c.args["channel"]: _text(c) for c in calls}
    assert all("我が国の国際戦略" in by_channel[f"D0RATE{i:04d}"] for i in range(3))
    assert all(SLOW_DOWN in by_channel[f"D0RATE{i:04d}"] for i in (3, 4))
    assert "我が国の国際戦略" in by_channel["D0RATEOTH1"]
    assert sorted(bot.service.questions) == sorted(["連続0", "連続1", "連続2", "別の人"])


# -- Socket Mode -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def socket_flood_bot(standin: StandIn, tmp_path_factory) -> Iterator[tuple[Switchable, object]]:
    service = Switchable(FakeAnswerer())
    settings = make_settings(standin, tmp_path_factory.mktemp("socket-flood"), max_pending=MAX_PENDING)
    with socket_bot_running(standin, settings, service) as app:
        yield service, app


def test_socket_mode_flood_beyond_max_pending_is_acknowledged_and_told_busy(socket_flood_bot, slack):
    switch, app = socket_flood_bot
    service = FakeAnswerer()
    service.gate = threading.Event()
    switch.target = service
    flood = Flood("SF")
    watch = ThreadWatch()

    def push(body: dict, **options) -> tuple[str, float]:
        return slack.push(body, **options), time.monotonic()

    first = []
    for body in flood.first:  # admitted, one at a time
        envelope, at = push(body)
        slack.wait_ack(envelope)
        first.append((envelope, at))

    def push_one(item: tuple[str, dict]) -> tuple[str, float]:
        kind, body = item
        if kind == "ask":
            url = slack.response_url(f"sflood-{body['user']}")
            return push(P.slash_command(body["text"], url, channel=body["channel"], user=body["user"]),
                        kind="slash_commands")
        return push(body)

    with ThreadPoolExecutor(8, thread_name_prefix="sender") as senders:
        rest = list(senders.map(push_one, flood.rest))
        retries = list(senders.map(lambda b: push(b, retry_attempt=1, retry_reason="timeout"),
                                   [b for kind, b in flood.rest if kind != "ask"]))
    acks = {}
    for envelope, at in first + rest + retries:
        acks[envelope] = slack.wait_ack(envelope, timeout=10).at - at
    slowest = max(acks.values())
    assert slowest < 3, f"slowest ack {slowest:.2f}s"
    by_envelope = {c.args["envelope_id"]: c.args for c in slack.recorder.calls("ack")}
    for (kind, _), (envelope, _) in zip(flood.rest, rest, strict=True):
        if kind == "ask":
            assert by_envelope[envelope]["payload"] == {"response_type": "ephemeral", "text": BUSY}
    assert app.pool.stats().questions == MAX_PENDING

    service.gate.set()
    figures = _check_outcome(slack, flood, service, watch)
    assert app.pool.stats().questions == 0
    assert watch.peak - watch.baseline <= WORKERS + NOTICE_THREADS + SOCKET_WORKERS, (watch.baseline, watch.peak)
    print(f"\nSocket Mode flood: {len(first) + len(rest)} envelopes + {len(retries)} retries; ack p50 "
          f"{statistics.median(acks.values()) * 1000:.0f} ms, max {slowest * 1000:.0f} ms; "
          f"{figures['answered']} answered, {figures['busy notices']} busy notices; "
          f"threads {watch.baseline} -> peak {watch.peak}")
