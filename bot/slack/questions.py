"""From Slack payloads to questions: pure functions, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Where", "clean_question", "is_ignorable_message", "mentions", "where_from_body"]

# Subtypes that are people writing a question; everything else (edits, deletions, joins,
# leaves, bot messages, channel topic changes...) is ignored.
_QUESTION_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})


@dataclass(frozen=True)
class Where:
    """Where a question was asked, and where its answer goes."""

    channel: str
    user: str
    ts: str  # the question's own message ts ("" for slash commands)
    thread_ts: str | None  # the thread to answer in (None: top level of a DM)
    is_dm: bool


def clean_question(text: str, bot_user_id: str | None) -> str:
    """The question without the bot's own mention(s) and surrounding whitespace."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text or "")
    return " ".join((text or "").split())


def mentions(text: str, bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and f"<@{bot_user_id}" in (text or "")


def is_ignorable_message(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Own messages, other bots, edits, deletions, joins and leaves: never answered."""
    return (
        event.get("subtype") not in _QUESTION_SUBTYPES
        or bool(event.get("bot_id"))
        or bool(event.get("bot_profile"))
        or event.get("user") in {None, "", bot_user_id, "USLACKBOT"}
        or bool(event.get("hidden"))
    )


def is_dm_channel(channel: str, channel_type: str | None = None) -> bool:
    return channel_type == "im" or channel.startswith("D")


def where_from_body(body: dict[str, Any]) -> Where | None:
    """Best guess of where a request came from (for the error handler's apology)."""
    event = body.get("event") or {}
    if event:
        thread = event.get("assistant_thread") or {}
        channel = event.get("channel") or thread.get("channel_id") or ""
        ts = event.get("ts") or ""
        thread_ts = event.get("thread_ts") or thread.get("thread_ts") or ts or None
        if not channel:
            return None
        return Where(channel, event.get("user") or thread.get("user_id") or "", ts, thread_ts,
                     is_dm_channel(channel, event.get("channel_type")))
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id") or ""
    user = body.get("user_id") or (body.get("user") or {}).get("id") or ""
    if channel:
        return Where(channel, user, "", None, is_dm_channel(channel))
    return None
