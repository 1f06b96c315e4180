"""The one error handler: log with context, apologise where the question was, leak nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.slack.blocks import render_notice
from bot.slack.feedback import parse_feedback_value
from bot.slack.labels import guess_language, labels_for
from bot.slack.questions import where_from_body

__all__ = ["make_error_handler"]

# After these, posting to the same place would fail again: do not try to apologise there.
_UNREACHABLE = frozenset({"channel_not_found", "not_in_channel", "is_archived",
                          "invalid_auth", "not_authed", "account_inactive", "token_revoked",
                          "missing_scope", "ratelimited"})


def _slack_error(error: Exception) -> str | None:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or "unknown")
    return None


def _question_text(body: dict[str, Any]) -> str:
    """The question, for the apology's language (a click carries it in the button's value)."""
    event = body.get("event") or {}
    actions = body.get("actions") or [{}]
    clicked = parse_feedback_value(str(actions[0].get("value") or "")).get("q") if actions else None
    return str(event.get("text") or body.get("text") or clicked or "")


def make_error_handler(private: bool, logger: logging.Logger) -> Callable[..., None]:
    def handle_error(error: Exception, body: dict[str, Any], client: WebClient, context: Any) -> None:
        where = where_from_body(body) if getattr(context, "authorize_result", None) else None
        code = _slack_error(error)
        event = body.get("event") or {}
        details = {
            "error_type": type(error).__name__,
            "slack_error": code,
            "event_type": event.get("type") or body.get("type") or body.get("command"),
            "event_id": body.get("event_id"),
            "channel": where.channel if where else None,
        }
        # slack_sdk errors carry the API response, never the token; the stack trace stays in
        # the log only.
        logger.error("slack: listener failed %s", details, exc_info=error)
        text = render_notice(labels_for(guess_language(_question_text(body))).apology)
        if getattr(context, "authorize_result", None) is None:
            return  # not a verified, authorised request: its body names no place we may post to
        response_url = body.get("response_url")
        try:
            if response_url:
                WebhookClient(response_url).send(response_type="ephemeral", text=text.text,
                                                  replace_original=False)
            elif where and code not in _UNREACHABLE:
                args: dict[str, Any] = {"channel": where.channel, "text": text.text, "blocks": text.blocks_list()}
                if where.thread_ts:
                    args["thread_ts"] = where.thread_ts
                if private and not where.is_dm and where.user:
                    client.chat_postEphemeral(user=where.user, **args)
                else:
                    client.chat_postMessage(**args)
        except SlackApiError as second:
            logger.warning("slack: apology not delivered (%s)", second.response.get("error"))

    return handle_error
