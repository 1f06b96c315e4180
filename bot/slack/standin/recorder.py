"""What the stand-in saw: Web API calls and Socket Mode acks, with waiting by condition."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Call", "Recorder"]


@dataclass(frozen=True)
class Call:
    """One request the stand-in answered. ``method`` is a Web API method name, ``ack`` for a
    Socket Mode acknowledgement, or ``response_url`` for a POST to a response URL."""

    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    ok: bool = True
    error: str | None = None
    status: int = 200


class Recorder:
    """A thread-safe list of calls; tests wait on it with :meth:`wait_for`, never by sleeping."""

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._cond = threading.Condition()

    def record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def clear(self) -> None:
        with self._cond:
            self._calls.clear()

    def wait_for(
        self,
        method: str,
        where: Callable[[Call], bool] = lambda c: True,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[Call]:
        """Block until ``count`` matching calls exist; return them. Raises ``TimeoutError``."""
        deadline = time.monotonic() + timeout

        def matching() -> list[Call]:
            return [c for c in self._calls if c.method == method and where(c)]

        with self._cond:
            while len(found := matching()) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = sorted({c.method for c in self._calls})
                    raise TimeoutError(
                        f"waited {timeout}s for {count} {method} call(s), got {len(found)}; "
                        f"methods seen: {seen}"
                    )
                self._cond.wait(remaining)
            return found

    def wait_until(self, predicate: Callable[[list[Call]], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(list(self._calls)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout}s")
                self._cond.wait(remaining)
