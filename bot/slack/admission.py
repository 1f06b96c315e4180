"""Keeping a flood of questions from growing queues or threads: the bounded pieces of the bot.

* :class:`ListenerPool` is Bolt's listener executor (``App(listener_executor=...)``): at most
  ``workers`` threads, at most ``max_pending`` questions queued or being answered, and at most
  ``spare`` other listener tasks (button clicks, channel chatter, AI-panel events). A question
  is admitted on the request thread, before Bolt hands its listener to the pool
  (:meth:`ListenerPool.admit`); when the pool is full the caller answers "busy" instead.
* :class:`UserRate` allows each user at most ``per_minute`` questions in any 60 seconds.
* :class:`Notices` posts the short "busy" / "slow down" replies from one thread of its own, so
  that neither the acknowledgement nor the answers wait for them; when even its small queue is
  full, a notice becomes a log line.

Every structure here has a fixed upper size; none of them sleeps.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from logging import Logger, getLogger
from typing import Any, ParamSpec, TypeVar

from slack_sdk.errors import SlackApiError

__all__ = ["ListenerPool", "Notices", "PoolStats", "UserRate", "submit_then"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

WORKERS = 5  # Bolt's own default pool size; answering is CPU-bound, more threads would not help


@dataclass(frozen=True)
class PoolStats:
    questions: int  # queued or being answered now
    others: int  # other listener tasks queued or running now
    peak_questions: int
    admitted: int
    refused: int
    dropped: int  # other tasks refused because ``spare`` were already waiting


class ListenerPool(Executor):
    """Bolt's listener executor with bounded work: ``max_pending`` questions, ``spare`` others.

    Bolt calls :meth:`submit` on the thread that dispatches the request. A question is admitted
    on that same thread just before (:meth:`admit`, from a global middleware), which reserves a
    slot; the next :meth:`submit` on the thread takes the reservation, and the slot is free again
    when the task ends. A reservation that no submit took (the request matched no listener) is
    given back by :meth:`release_unclaimed`, which the app calls when dispatch returns.

    Work without a reservation counts against ``spare``; beyond it the task is not run and a
    cancelled future is returned (Bolt ignores the future; the request was acknowledged already).
    """

    def __init__(self, max_pending: int, *, workers: int = WORKERS, spare: int | None = None,
                 logger: Logger | None = None, name: str = "kotae-listener") -> None:
        if max_pending < 1 or workers < 1:
            raise ValueError("max_pending and workers must be at least 1")
        self.max_pending = max_pending
        self.workers = workers
        self.spare = max_pending if spare is None else spare
        self._logger = logger or getLogger("kotae.slack")
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._questions = 0
        self._others = 0
        self._peak = 0
        self._admitted = 0
        self._refused = 0
        self._dropped = 0

    # -- admission (request thread) ----------------------------------------------------------
    def admit(self) -> bool:
        """Reserve a slot for the question being dispatched on this thread; False when full."""
        if getattr(self._local, "reserved", False):
            return True  # already reserved on this thread and not yet used
        with self._lock:
            if self._questions >= self.max_pending:
                self._refused += 1
                return False
            self._questions += 1
            self._admitted += 1
            self._peak = max(self._peak, self._questions)
        self._local.reserved = True
        return True

    def release_unclaimed(self) -> None:
        """Give back this thread's reservation if no task took it."""
        if getattr(self._local, "reserved", False):
            self._local.reserved = False
            self._finished_question()

    # -- the Executor interface ----------------------------------------------------------------
    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        question = bool(getattr(self._local, "reserved", False))
        if question:
            self._local.reserved = False
            done = self._finished_question
        else:
            with self._lock:
                full = self._others >= self.spare
                if full:
                    self._dropped += 1
                    dropped_so_far = self._dropped
                else:
                    self._others += 1
            if full:
                if dropped_so_far % 100 == 1:  # the first, then every hundredth
                    self._logger.warning("slack: %d listener tasks other than questions already "
                                         "waiting; %d dropped so far (each was acknowledged)",
                                         self.spare, dropped_so_far)
                dropped: Future[_T] = Future()
                dropped.cancel()
                return dropped
            done = self._finished_other
        return submit_then(self._pool.submit, done, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    # -- bookkeeping ---------------------------------------------------------------------------
    def _finished_question(self) -> None:
        with self._lock:
            self._questions -= 1

    def _finished_other(self) -> None:
        with self._lock:
            self._others -= 1

    def stats(self) -> PoolStats:
        with self._lock:
            return PoolStats(self._questions, self._others, self._peak, self._admitted,
                             self._refused, self._dropped)


def submit_then(
    submit: Callable[[Callable[[], _T]], Future[_T]],
    done: Callable[[], None],
    fn: Callable[_P, _T],
    /,
    *args: _P.args,
    **kwargs: _P.kwargs,
) -> Future[_T]:
    """``submit(...)`` a task that runs ``fn(*args, **kwargs)`` and then ``done()``, however it
    ends; ``done()`` runs at once if the task cannot be submitted (the pool was shut down)."""

    def run() -> _T:
        try:
            return fn(*args, **kwargs)
        finally:
            done()

    try:
        return submit(run)
    except BaseException:
        done()  # the task will never run
        raise


class UserRate:
    """At most ``per_minute`` questions per user in any ``window`` seconds (0 = no limit).

    Remembers at most ``max_users`` users (the least recently active are forgotten first), each
    with at most ``per_minute`` timestamps: memory is bounded whatever the traffic.
    """

    def __init__(self, per_minute: int, *, window: float = 60.0, max_users: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._window = window
        self._max_users = max_users
        self._clock = clock
        self._asked: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, user: str) -> bool:
        """True (and the question counted) when ``user`` may ask now."""
        if self.per_minute <= 0:
            return True
        now = self._clock()
        since = now - self._window
        with self._lock:
            # Forget users whose last question left the window (least recently active first).
            while self._asked:
                oldest_user, stamps = next(iter(self._asked.items()))
                if stamps[-1] > since and len(self._asked) < self._max_users:
                    break
                del self._asked[oldest_user]
            stamps = self._asked.setdefault(user, deque(maxlen=self.per_minute))
            while stamps and stamps[0] <= since:
                stamps.popleft()
            if len(stamps) >= self.per_minute:
                return False
            stamps.append(now)
            self._asked.move_to_end(user)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._asked)


class Notices:
    """Sends short replies from one thread of its own, at most ``capacity`` waiting.

    :meth:`send` never blocks: when ``capacity`` notices are already waiting (Slack is slow or
    rate-limiting us), the notice is logged instead of sent.
    """

    def __init__(self, capacity: int = 100, logger: Logger | None = None) -> None:
        self.capacity = capacity
        self._logger = logger or getLogger("kotae.slack")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kotae-notice")
        self._waiting = 0
        self._lock = threading.Lock()
        self.sent = 0
        self.skipped = 0

    def send(self, what: str, call: Callable[[], Any]) -> bool:
        with self._lock:
            if self._waiting >= self.capacity:
                self.skipped += 1
                full = True
            else:
                self._waiting += 1
                full = False
        if full:
            self._logger.warning("slack: %s notice not sent (%d notices already waiting)",
                                 what, self.capacity)
            return False

        def run() -> None:
            try:
                call()
                with self._lock:
                    self.sent += 1
            except Exception as error:  # a notice is a courtesy: log it, never raise
                detail = error.response.get("error") if isinstance(error, SlackApiError) else None
                self._logger.warning("slack: %s notice not delivered (%s)", what,
                                     detail or type(error).__name__)
            finally:
                with self._lock:
                    self._waiting -= 1

        try:
            self._pool.submit(run)
        except RuntimeError:  # shut down
            with self._lock:
                self._waiting -= 1
            return False
        return True

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)
