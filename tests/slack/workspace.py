"""One way to drive the bot over either transport, so that each workspace behaviour is tested
over real HTTP (signed requests to waitress) and over Socket Mode (envelopes on a WebSocket)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.slack.standin import EventsSender, StandIn
from bot.slack.standin import payloads as P
from tests.slack.fakes import FakeAnswerer, Switchable


@dataclass
class Driver:
    """Sends what Slack sends, over ``transport`` ("http" or "socket"); waits for the ack."""

    transport: str
    slack: StandIn
    service: FakeAnswerer
    sender: EventsSender | None = None  # HTTP only
    switch: Switchable | None = None  # the running app's service, when it may be replaced

    def use(self, service: Any) -> None:
        """Answer with ``service`` from now on (e.g. the real AnswerService)."""
        assert self.switch is not None
        self.switch.target = service

    def event(self, event: dict[str, Any]) -> None:
        self._send(P.event_callback(event), "events_api")

    def command(self, question: str, response_url: str, **options: Any) -> dict[str, Any]:
        """``/ask question``; returns the acknowledgement's body."""
        fields = P.slash_command(question, response_url, **options)
        if self.sender is not None:
            sent = self.sender.form(fields)
            assert sent.status == 200, sent
            return dict(sent.json())
        ack = self.slack.wait_ack(self.slack.push(fields, kind="slash_commands"))
        return dict(ack.args.get("payload") or {})

    def click(self, payload: dict[str, Any]) -> None:
        if self.sender is not None:
            assert self.sender.form(P.form_of(payload)).status == 200
        else:
            self.slack.wait_ack(self.slack.push(payload, kind="interactive"))

    def _send(self, body: dict[str, Any], kind: str) -> None:
        if self.sender is not None:
            assert self.sender.event(body).status == 200
        else:
            self.slack.wait_ack(self.slack.push(body, kind=kind))
