"""Sending signed Events API requests to a running HTTP endpoint, as Slack does."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

__all__ = ["EventsSender", "Sent"]


@dataclass(frozen=True)
class Sent:
    status: int
    body: str
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body)


class EventsSender:
    """Posts to ``url`` with ``x-slack-signature`` and ``x-slack-request-timestamp`` headers."""

    def __init__(self, url: str, signing_secret: str, timeout: float = 10.0) -> None:
        self.url = url
        self._verifier = SignatureVerifier(signing_secret)
        self.timeout = timeout

    def event(self, body: dict[str, Any], **options: Any) -> Sent:
        return self.raw(json.dumps(body), "application/json", **options)

    def form(self, fields: dict[str, str], **options: Any) -> Sent:
        return self.raw(urlencode(fields), "application/x-www-form-urlencoded", **options)

    def raw(self, body: str, content_type: str, *, retry_num: int | None = None,
            retry_reason: str = "http_timeout", timestamp: int | None = None,
            signature: str | None = None) -> Sent:
        """Send ``body``; ``timestamp``/``signature`` override the correct ones (for attacks)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signed = self._verifier.generate_signature(timestamp=stamp, body=body) or ""
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or signed,
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        request = urllib.request.Request(self.url, data=body.encode(), headers=headers, method="POST")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Sent(response.status, response.read().decode(), time.monotonic() - started)
        except urllib.error.HTTPError as error:
            return Sent(error.code, error.read().decode(), time.monotonic() - started)
