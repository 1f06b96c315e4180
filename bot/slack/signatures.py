"""Refusing unsigned or replayed HTTP requests before Bolt sees them, with a log line that helps
debugging and carries nothing an attacker or a log reader could use.

Bolt's own check logs a refused request's whole body: the question, and for ``/ask`` the
``response_url``, which lets anyone holding it post into the channel for 30 minutes. Here the
log line says why (no timestamp, stale timestamp, bad signature) and where the request claims
to come from (team, channel), and nothing else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

__all__ = ["MAX_AGE", "claimed_place", "rejection"]

MAX_AGE = 5 * 60  # seconds: Slack's own rule for a signature's timestamp


def rejection(secret: str, body: bytes, timestamp: str | None, signature: str | None,
              now: Callable[[], float] = time.time) -> str | None:
    """Why a request must be refused (``None``: it is signed by Slack, and fresh)."""
    if not timestamp or not timestamp.strip().isdigit():
        return "no timestamp"
    if abs(now() - int(timestamp)) > MAX_AGE:
        return "stale timestamp"
    verifier = SignatureVerifier(secret, clock=_Clock(now))
    if not signature or not verifier.is_valid(body, timestamp, signature):
        return "bad signature"
    return None


class _Clock(Clock):
    """slack_sdk's verifier asks a clock object for the time."""

    def __init__(self, now: Callable[[], float]) -> None:
        super().__init__()
        self._now = now

    def now(self) -> float:
        return self._now()


def claimed_place(body: bytes, content_type: str) -> tuple[str, str]:
    """The team and channel an (unverified) request names, for the log; ``""`` when absent."""
    data = _parsed(body, content_type)
    team = data.get("team_id") or _inner(data, "team", "id")
    channel = (data.get("channel_id") or _inner(data, "event", "channel") or _inner(data, "channel", "id")
               or _inner(data, "container", "channel_id"))
    return _plain(team), _plain(channel)


def _inner(data: dict[str, Any], key: str, field: str) -> Any:
    inner = data.get(key)
    return inner.get(field) if isinstance(inner, dict) else None


def _parsed(body: bytes, content_type: str) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
        if "json" in content_type:
            data = json.loads(text)
        else:
            form = {k: v[0] for k, v in parse_qs(text).items() if v}
            data = json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, KeyError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _plain(value: Any) -> str:
    """An id as Slack writes them (letters and digits), else nothing: never free text."""
    text = str(value or "")
    return text if text.isalnum() and text.isascii() and len(text) <= 24 else ""
