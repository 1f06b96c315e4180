"""Remembering what was already handled, so that Slack's retries never produce a second answer."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["SeenKeys"]


class SeenKeys:
    """A lock-protected set whose keys expire after ``ttl`` seconds.

    :meth:`first_time` is atomic: of several concurrent callers with the same key exactly one
    gets ``True``. Slack retries an event up to three times within about five minutes, so the
    default ``ttl`` of ten minutes covers them all.
    """

    def __init__(self, ttl: float = 600.0, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._max = max_keys
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        now = self._clock()
        with self._lock:
            while self._expiry:
                oldest, expires = next(iter(self._expiry.items()))
                if expires > now and len(self._expiry) < self._max:
                    break
                del self._expiry[oldest]
            if key in self._expiry:
                return False
            self._expiry[key] = now + self._ttl
            return True

    def forget(self, key: str) -> None:
        """Let ``key`` be handled again (the first attempt did not complete)."""
        with self._lock:
            self._expiry.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)
