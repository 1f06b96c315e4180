"""The bounded pieces on their own (bot/slack/admission.py, the Socket Mode backlog): every
limit is reached deterministically, with gates instead of sleeps."""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from bot.slack.admission import ListenerPool, Notices, UserRate
from bot.slack.serving import _BoundedSocketModeClient
from tests.slack.fakes import LogWatcher


def _threads_named(prefix: str) -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith(prefix))


def _wait_until(condition, timeout: float = 5.0) -> None:
    """For states no event signals (a library thread picking a message from its queue)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.002)


@pytest.fixture
def pool():
    pools: list[ListenerPool] = []

    def make(max_pending: int, **options) -> ListenerPool:
        made = ListenerPool(max_pending, **options)
        pools.append(made)
        return made

    yield make
    for made in pools:
        made.shutdown(wait=True, cancel_futures=True)


def _admit_and_submit(pool: ListenerPool, task) -> Future | None:
    """What Bolt does on a request thread: admission (our middleware), then submit."""
    if not pool.admit():
        return None
    return pool.submit(task)


def test_questions_beyond_max_pending_are_refused_until_one_finishes(pool):
    listeners = pool(3, workers=2)
    gate = threading.Event()
    futures = [_admit_and_submit(listeners, gate.wait) for _ in range(3)]
    assert all(f is not None for f in futures)
    # 2 running (workers), 1 queued: the pool is full, whatever the workers are doing.
    assert listeners.admit() is False and listeners.admit() is False
    stats = listeners.stats()
    assert (stats.questions, stats.admitted, stats.refused, stats.peak_questions) == (3, 3, 2, 3)
    gate.set()
    for future in futures:
        assert future is not None
        future.result(5)
    assert listeners.stats().questions == 0
    again = _admit_and_submit(listeners, lambda: "answered")
    assert again is not None and again.result(5) == "answered"


def test_a_failing_question_frees_its_slot(pool):
    listeners = pool(1, workers=1)

    def boom() -> None:
        raise RuntimeError("listener failed")

    future = _admit_and_submit(listeners, boom)
    assert future is not None
    with pytest.raises(RuntimeError):
        future.result(5)
    assert listeners.stats().questions == 0 and listeners.admit() is True
    listeners.release_unclaimed()


def test_a_reservation_no_listener_took_is_given_back(pool):
    listeners = pool(1)
    assert listeners.admit() is True
    assert listeners.admit() is True  # the same request thread: still one slot
    assert listeners.stats().questions == 1
    listeners.release_unclaimed()  # dispatch ended without a listener
    assert listeners.stats().questions == 0
    listeners.release_unclaimed()  # idempotent
    assert listeners.stats().questions == 0


def test_a_reservation_belongs_to_the_thread_that_made_it(pool):
    listeners = pool(2, workers=1)
    gate = threading.Event()
    assert listeners.admit() is True
    # Another request thread submits without admission: that is "other" work, not this question.
    with ThreadPoolExecutor(1) as other:
        other.submit(listeners.submit, gate.wait).result(5)
    stats = listeners.stats()
    assert (stats.questions, stats.others) == (1, 1)
    listeners.submit(gate.wait)  # this thread's reservation is taken here
    assert listeners.stats().others == 1
    gate.set()
    listeners.shutdown(wait=True)
    stats = listeners.stats()
    assert (stats.questions, stats.others) == (0, 0)


def test_other_work_beyond_spare_is_dropped_not_queued(pool):
    listeners = pool(5, workers=1, spare=2)
    gate = threading.Event()
    ran: list[int] = []

    def task(n: int) -> None:
        gate.wait(5)
        ran.append(n)

    futures = [listeners.submit(task, n) for n in range(6)]
    assert [f.cancelled() for f in futures] == [False, False, True, True, True, True]
    assert listeners.stats().dropped == 4
    gate.set()
    for future in futures[:2]:
        future.result(5)
    assert sorted(ran) == [0, 1]
    # Questions keep their own budget: dropped chatter never takes a question's place.
    assert listeners.stats().others == 0 and listeners.admit() is True
    listeners.release_unclaimed()


def test_the_pool_never_has_more_threads_than_workers(pool):
    listeners = pool(200, workers=3, name="test-thread-cap")
    gate = threading.Event()
    futures = [_admit_and_submit(listeners, gate.wait) for _ in range(150)]
    assert all(f is not None for f in futures)
    assert _threads_named("test-thread-cap") == 3
    gate.set()
    for future in futures:
        assert future is not None
        future.result(5)


def test_user_rate_allows_per_minute_questions_per_user():
    now = [1000.0]
    rate = UserRate(3, clock=lambda: now[0])
    assert [rate.allow("U1") for _ in range(4)] == [True, True, True, False]
    assert rate.allow("U2") is True  # per user
    now[0] += 30
    assert rate.allow("U1") is False  # still three in the last minute (refusals do not count)
    now[0] += 30.5
    assert [rate.allow("U1") for _ in range(4)] == [True, True, True, False]


def test_user_rate_zero_means_no_limit_and_memory_is_bounded():
    assert all(UserRate(0).allow("U1") for _ in range(1000))
    now = [0.0]
    rate = UserRate(2, max_users=50, clock=lambda: now[0])
    for n in range(500):
        assert rate.allow(f"U{n}")
        assert len(rate) <= 50
    now[0] += 61  # everyone's minute is over: they are forgotten at the next question
    rate.allow("U-new")
    assert len(rate) == 1


def test_notices_beyond_capacity_become_log_lines():
    watcher = LogWatcher()
    logger = logging.getLogger("kotae.test.notices")
    logger.addHandler(watcher)
    notices = Notices(capacity=2, logger=logger)
    gate = threading.Event()
    sent: list[str] = []
    try:
        assert notices.send("busy", lambda: (gate.wait(5), sent.append("a"))) is True
        assert notices.send("busy", lambda: sent.append("b")) is True
        assert notices.send("busy", lambda: sent.append("c")) is False  # never queued
        watcher.wait_for("busy notice not sent")
        gate.set()
    finally:
        notices.shutdown(wait=True)
        logger.removeHandler(watcher)
    assert sent == ["a", "b"] and (notices.sent, notices.skipped) == (2, 1)


def test_socket_mode_backlog_drops_envelopes_but_keeps_control_messages():
    """One worker, held by the first envelope; the processor thread waits for it holding the
    second; the queue then fills to the backlog and further envelopes are left unacknowledged."""
    from slack_sdk import WebClient

    client = _BoundedSocketModeClient(app_token="xapp-1-A0KOTAE01-test-token",
                                      web_client=WebClient(base_url="http://127.0.0.1:9/"),
                                      concurrency=1, backlog=3)
    gate = threading.Event()
    started = threading.Event()
    seen: list[str] = []

    def listener(_client, request) -> None:
        seen.append(request.envelope_id)
        started.set()
        gate.wait(10)

    client.socket_mode_request_listeners.append(listener)
    envelope = lambda n: json.dumps({"envelope_id": f"e{n}", "type": "events_api",  # noqa: E731
                                     "payload": {"n": n}, "accepts_response_payload": False})
    try:
        client.enqueue_message(envelope(0))
        assert started.wait(5)
        client.enqueue_message(envelope(1))  # taken by the processor, which waits for the worker
        _wait_until(lambda: client.message_queue.qsize() == 0)
        for n in range(2, 7):
            client.enqueue_message(envelope(n))
        client.enqueue_message(json.dumps({"type": "hello"}))  # control messages are kept
        assert client.message_queue.qsize() == 4 and client.dropped == 2
    finally:
        gate.set()
        client.close()
    assert seen[:2] == ["e0", "e1"]


def test_the_bounds_are_settings_with_sane_defaults(tmp_path):
    from bot.settings import Settings
    from knowledge.errors import ConfigError

    env = {"KOTAE_DATA_DIR": str(tmp_path)}
    defaults = Settings.load(env=env)
    assert (defaults.max_pending, defaults.user_rate) == (100, 20)
    tuned = Settings.load(env={**env, "KOTAE_MAX_PENDING": "8", "KOTAE_USER_RATE": "0"})
    assert (tuned.max_pending, tuned.user_rate) == (8, 0)
    for name, value in (("KOTAE_MAX_PENDING", "0"), ("KOTAE_USER_RATE", "-1"), ("KOTAE_MAX_PENDING", "many")):
        with pytest.raises(ConfigError, match=name):
            Settings.load(env={**env, name: value})
