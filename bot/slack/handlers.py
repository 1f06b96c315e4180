"""The listeners: thin glue from a Slack request to ``answer()`` and back.

Each listener parses its payload (:mod:`bot.slack.questions`), asks the :class:`Asking`
helper to answer, and sends the rendered message (:mod:`bot.slack.blocks`). No listener catches
errors: they all go to the one ``@app.error`` handler (:mod:`bot.slack.errors`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.reply import Reply
from bot.slack.answering import Answerer
from bot.slack.blocks import Rendered, render_notice, render_reply
from bot.slack.dedup import SeenKeys
from bot.slack.feedback import FeedbackEntry, FeedbackLog, now_utc, parse_feedback_value
from bot.slack.labels import guess_language, labels_for
from bot.slack.mrkdwn import trim
from bot.slack.questions import (
    Where,
    clean_question,
    is_dm_channel,
    is_ignorable_message,
    mentions,
)
from knowledge.errors import KotaeError

__all__ = ["Asking", "Policy"]

PROGRESS_REACTION = "eyes"


@dataclass(frozen=True)
class Policy:
    """The Slack settings every entry point honours."""

    channels: frozenset[str] | None = None  # allowlist; DMs with Kotae are always allowed
    mention_only: bool = True
    private: bool = False

    def allows(self, channel: str) -> bool:
        return self.channels is None or channel in self.channels or is_dm_channel(channel)


def _best_effort(logger: logging.Logger, what: str, call: Callable[[], Any]) -> None:
    """Cosmetic calls (reactions, status lines) must never cost the user their answer."""
    try:
        call()
    except SlackApiError as error:
        logger.info("slack: %s skipped (%s)", what, error.response.get("error"))


class Asking:
    """Answers questions and posts them; holds the collaborators the listeners share."""

    def __init__(self, service: Answerer, policy: Policy, feedback: FeedbackLog,
                 seen: SeenKeys, logger: logging.Logger) -> None:
        self.service = service
        self.policy = policy
        self.feedback = feedback
        self.seen = seen
        self.logger = logger
        self._reload_failure = ""

    # -- the one path every entry point takes -------------------------------------------------
    def answer(self, question: str, entry: str, channel: str) -> Reply:
        started = time.monotonic()
        self._reload()
        reply = self.service.answer(question)
        top = max((p.score for p in reply.passages), default=None)
        self.logger.info(json.dumps({
            "event": "question", "entry": entry, "channel": channel,
            "latency_ms": round((time.monotonic() - started) * 1000),
            "answered": reply.answered, "top_score": None if top is None else round(top, 4),
            "quotes": len(reply.quotes), "language": reply.language,
            "index_version": reply.index_version,
        }, ensure_ascii=False))
        return reply

    def _reload(self) -> None:
        """Swap in a refreshed index; a damaged one is reported once and the loaded one kept."""
        try:
            self.service.reload_if_changed()
        except KotaeError as error:
            message = str(error)
            if message != self._reload_failure:
                self._reload_failure = message
                self.logger.error("slack: refreshed index not loaded, still serving the previous one: %s", message)

    def claim(self, channel: str, ts: str) -> bool:
        """True once per message: Slack sends both app_mention and message for a mention."""
        return self.seen.first_time(f"message:{channel}:{ts}")

    def post(self, client: WebClient, where: Where, message: Rendered) -> None:
        common: dict[str, Any] = {"channel": where.channel, "text": message.text, "blocks": message.blocks_list()}
        if where.thread_ts:
            common["thread_ts"] = where.thread_ts
        if self.policy.private and not where.is_dm:
            client.chat_postEphemeral(user=where.user, **common)
        else:
            client.chat_postMessage(unfurl_links=False, unfurl_media=False, **common)

    def answer_message(self, client: WebClient, where: Where, question: str, entry: str) -> None:
        """Reaction while working, then the answer in the thread."""
        if not question:
            self.post(client, where, render_notice(labels_for("ja").empty_mention))
            return
        react: dict[str, Any] = {"channel": where.channel, "timestamp": where.ts, "name": PROGRESS_REACTION}
        _best_effort(self.logger, "reaction", lambda: client.reactions_add(**react))
        reply = self.answer(question, entry, where.channel)
        self.post(client, where, render_reply(reply))
        _best_effort(self.logger, "reaction removal", lambda: client.reactions_remove(**react))

    def refuse(self, client: WebClient, where: Where, question: str) -> None:
        notice = render_notice(labels_for(guess_language(question)).not_allowed)
        _best_effort(self.logger, "refusal", lambda: client.chat_postEphemeral(
            channel=where.channel, user=where.user, text=notice.text, blocks=notice.blocks_list()))

    # -- listeners (Bolt injects arguments by name) --------------------------------------------
    def on_mention(self, event: dict[str, Any], client: WebClient, context: Any) -> None:
        bot = context.bot_user_id
        if is_ignorable_message(event, bot):
            return
        where = Where(event["channel"], event.get("user", ""), event["ts"],
                      event.get("thread_ts") or event["ts"], is_dm_channel(event["channel"]))
        question = clean_question(event.get("text", ""), bot)
        if not self.policy.allows(where.channel):
            self.refuse(client, where, question)
            return
        if self.claim(where.channel, where.ts):
            self.answer_message(client, where, question, "mention")

    def on_message(self, event: dict[str, Any], client: WebClient, context: Any) -> None:
        bot = context.bot_user_id
        if is_ignorable_message(event, bot):
            return
        channel = event.get("channel", "")
        text = event.get("text", "")
        dm = is_dm_channel(channel, event.get("channel_type"))
        thread_ts = event.get("thread_ts")
        if not dm:
            # Mentions are answered by on_mention; other channel messages only as follow-ups
            # in a thread Kotae answered, and only when mentions are not required.
            if mentions(text, bot) or not thread_ts or self.policy.mention_only:
                return
            if not self.policy.allows(channel) or not self._answered_in(client, channel, thread_ts, bot):
                return
        where = Where(channel, event.get("user", ""), event["ts"], thread_ts, dm)
        if self.claim(channel, event["ts"]):
            entry = "dm" if dm else "follow-up"
            self.answer_message(client, where, clean_question(text, bot), entry)

    def _answered_in(self, client: WebClient, channel: str, thread_ts: str, bot: str | None) -> bool:
        replies = client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
        messages: list[dict[str, Any]] = replies.get("messages") or []
        return any(m.get("user") == bot for m in messages)

    def on_ask(self, ack: Callable[..., Any], command: dict[str, Any], respond: Callable[..., Any],
               client: WebClient) -> None:
        question = " ".join((command.get("text") or "").split())
        labels = labels_for(guess_language(question))
        channel = command.get("channel_id", "")
        if not question:
            ack(response_type="ephemeral", text=labels.empty_question)
            return
        if not self.policy.allows(channel):
            ack(response_type="ephemeral", text=labels.not_allowed)
            return
        ack(response_type="ephemeral", text=f"{labels.searching} _{trim(question, 200)}_")
        reply = self.answer(question, "ask", channel)
        message = render_reply(reply, show_question=True, post_button=not self.policy.private)
        respond(response_type="ephemeral", replace_original=False, text=message.text,
                blocks=message.blocks_list())

    def on_post_to_channel(self, ack: Callable[..., Any], body: dict[str, Any],
                           action: dict[str, Any], respond: Callable[..., Any],
                           client: WebClient) -> None:
        ack()
        channel = (body.get("channel") or {}).get("id") or body["container"].get("channel_id", "")
        user = body["user"]["id"]
        question = parse_feedback_value(action.get("value", "")).get("q", "")
        if self.policy.private or not question or not self.policy.allows(channel):
            return
        reply = self.answer(question, "post-to-channel", channel)
        message = render_reply(reply, asked_by=user)
        client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks_list(),
                                unfurl_links=False, unfurl_media=False)
        respond(delete_original=True)

    def on_feedback(self, ack: Callable[..., Any], body: dict[str, Any], action: dict[str, Any],
                    respond: Callable[..., Any]) -> None:
        ack()
        data = parse_feedback_value(action.get("value", ""))
        container = body.get("container") or {}
        self.feedback.record(FeedbackEntry(
            time=now_utc(),
            vote="up" if action.get("action_id", "").endswith("_up") else "down",
            user=body["user"]["id"],
            channel=container.get("channel_id") or (body.get("channel") or {}).get("id", ""),
            message_ts=container.get("message_ts", ""),
            answer_id=str(data.get("a", "")),
            question=str(data.get("q", "")),
            index_version=str(data.get("v", "")),
            sources=tuple(str(s) for s in data.get("s", [])),
        ))
        language = guess_language(str(data.get("q", "")))
        respond(response_type="ephemeral", replace_original=False,
                text=labels_for(language).thanks)

    # -- the AI-app panel (slack_bolt.Assistant) ------------------------------------------------
    def on_thread_started(self, say: Callable[..., Any],
                          set_suggested_prompts: Callable[..., Any]) -> None:
        ja, en = labels_for("ja"), labels_for("en")
        say(text=f"{ja.greeting}\n{en.greeting}")
        prompts = [p for p in self.service.suggested_questions(4) if p.strip()][:4]
        if prompts:
            title = labels_for(guess_language(prompts[0])).prompts_title
            set_suggested_prompts(prompts=[p[:150] for p in prompts], title=title)

    def on_assistant_message(self, payload: dict[str, Any], client: WebClient,
                             set_status: Callable[..., Any], set_title: Callable[..., Any],
                             context: Any) -> None:
        if is_ignorable_message(payload, context.bot_user_id):
            return
        channel, ts = payload["channel"], payload["ts"]
        if not self.claim(channel, ts):
            return
        question = clean_question(payload.get("text", ""), context.bot_user_id)
        labels = labels_for(guess_language(question))
        _best_effort(self.logger, "title", lambda: set_title(question[:60] or labels.question))
        _best_effort(self.logger, "status", lambda: set_status(labels.searching))
        where = Where(channel, payload.get("user", ""), ts, payload.get("thread_ts") or ts, True)
        if not question:
            self.post(client, where, render_notice(labels.empty_question))
            return
        reply = self.answer(question, "assistant", channel)
        self.post(client, where, render_reply(reply))  # posting clears the status line
