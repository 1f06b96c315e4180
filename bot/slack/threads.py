"""A thread's history (``conversations.replies``): did Kotae answer there, and what was asked
before the message being answered? Pure functions over the messages, plus the one fetch."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.slack.questions import clean_question, is_ignorable_message

__all__ = ["CONTEXT_QUESTIONS", "earlier_questions", "fetch_thread", "kotae_answered"]

# How many earlier questions of a thread a follow-up is searched with: 「それはいつ？」 after
# 「WCIT-12とは？」 needs one; a third question (「どこで？」) needs the two before it.
CONTEXT_QUESTIONS = 2
_HISTORY_LIMIT = 200  # messages read from a thread (the root and the first replies)

Message = dict[str, Any]


def fetch_thread(client: WebClient, channel: str, thread_ts: str) -> list[Message]:
    """The thread's messages, root first (raises ``SlackApiError`` as the client does)."""
    replies = client.conversations_replies(channel=channel, ts=thread_ts, limit=_HISTORY_LIMIT)
    messages = replies.get("messages") or []
    return [m for m in messages if isinstance(m, dict)]


def kotae_answered(messages: list[Message], bot: str | None) -> bool:
    return bool(bot) and any(m.get("user") == bot for m in messages)


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, fraction = str(ts).partition(".")
    try:
        return int(seconds), int(fraction or 0)
    except ValueError:
        return (0, 0)


def earlier_questions(messages: list[Message], before_ts: str, bot: str | None,
                      limit: int = CONTEXT_QUESTIONS) -> tuple[str, ...]:
    """What people wrote in the thread before ``before_ts`` (Kotae's mention removed; bots,
    edits and joins left out), oldest first, at most the last ``limit``."""
    before = _ts_key(before_ts)
    asked = [clean_question(str(m.get("text") or ""), bot) for m in messages
             if not is_ignorable_message(m, bot) and _ts_key(str(m.get("ts") or "")) < before]
    return tuple(q for q in asked if q)[-limit:] if limit > 0 else ()
