"""Payloads as Slack sends them (events, slash commands, button clicks), for tests and demos."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any

from bot.slack.standin.server import BOT_USER_ID, TEAM_ID

__all__ = [
    "assistant_thread_started",
    "block_action",
    "event_callback",
    "mention",
    "message",
    "slash_command",
]

_counter = itertools.count(1)


def _ts() -> str:
    return f"{int(time.time())}.{900000 + next(_counter):06d}"


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0KOTAE01",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:12].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def mention(text: str, *, channel: str = "C0GENERAL1", user: str = "U0ASKER01",
            ts: str | None = None, thread_ts: str | None = None) -> dict[str, Any]:
    """An ``app_mention`` event; ``text`` gets the bot mention in front."""
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}",
             "ts": ts or _ts(), "channel": channel, "event_ts": ts or _ts()}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(text: str, *, channel: str = "D0DIRECT01", channel_type: str = "im",
            user: str = "U0ASKER01", ts: str | None = None, thread_ts: str | None = None,
            **extra: Any) -> dict[str, Any]:
    """A ``message`` event (``channel_type`` im, channel or group); ``extra`` adds fields."""
    ts = ts or _ts()
    event = {"type": "message", "user": user, "text": text, "ts": ts, "channel": channel,
             "channel_type": channel_type, "event_ts": ts, **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def assistant_thread_started(*, channel: str = "D0DIRECT01", user: str = "U0ASKER01",
                             thread_ts: str | None = None) -> dict[str, Any]:
    thread_ts = thread_ts or _ts()
    return {"type": "assistant_thread_started", "event_ts": thread_ts,
            "assistant_thread": {"user_id": user, "channel_id": channel, "thread_ts": thread_ts,
                                 "context": {}}}


def slash_command(text: str, response_url: str, *, channel: str = "C0GENERAL1",
                  user: str = "U0ASKER01", command: str = "/ask") -> dict[str, str]:
    return {"token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": "kotae-test",
            "channel_id": channel, "channel_name": "general", "user_id": user,
            "user_name": "asker", "command": command, "text": text, "api_app_id": "A0KOTAE01",
            "response_url": response_url, "trigger_id": f"{uuid.uuid4().int % 10**12}.1.x"}


def block_action(action_id: str, value: str, response_url: str, *, channel: str = "C0GENERAL1",
                 user: str = "U0ASKER01", message_ts: str | None = None,
                 ephemeral: bool = False) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "kotae-test"},
        "user": {"id": user, "username": "asker", "team_id": TEAM_ID},
        "api_app_id": "A0KOTAE01",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": message_ts or _ts(), "channel_id": channel,
                      "is_ephemeral": ephemeral},
        "trigger_id": f"{uuid.uuid4().int % 10**12}.1.x",
        "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "kotae_actions", "value": value,
                     "type": "button", "action_ts": _ts()}],
    }
    if not ephemeral:
        payload["message"] = {"type": "message", "ts": payload["container"]["message_ts"],
                              "text": "", "user": BOT_USER_ID}
    return payload


def form_of(payload: dict[str, Any]) -> dict[str, str]:
    """Interactive payloads travel as ``payload=<json>`` form fields."""
    return {"payload": json.dumps(payload)}
