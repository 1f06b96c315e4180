"""The listeners: thin glue from a Slack request to ``answer()`` and back.

Which request asks what, and whether it may be answered here, is decided once, by the intake
methods of :class:`Asking` (``_event_intake``, ``_action_intake``, ``_ask_intro``): the
admission middleware uses that decision to queue or turn a question away, and each listener
acts on the same decision — answer, refuse, or hint — then sends the rendered message
(:mod:`bot.slack.blocks`). No listener catches errors: they all go to the one ``@app.error``
handler (:mod:`bot.slack.errors`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.knowledge_bases import KnowledgeBases, Route
from bot.reply import Reply
from bot.slack.admission import ListenerPool, Notices, UserRate
from bot.slack.answering import Answerer
from bot.slack.blocks import ACTION_POST_TO_CHANNEL, Rendered, render_notice, render_reply
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
from bot.slack.threads import earlier_questions, fetch_thread, kotae_answered
from knowledge.errors import KotaeError, NoKnowledgeBaseError

__all__ = ["Asked", "Asking", "Policy"]

PROGRESS_REACTION = "eyes"
# chat.postMessage answers for a channel Kotae is not a member of (private ones look missing).
_NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found"})


@dataclass(frozen=True)
class Policy:
    """The Slack settings every entry point honours."""

    channels: frozenset[str] | None = None  # allowlist; DMs with Kotae are always allowed
    mention_only: bool = True
    private: bool = False

    def allows(self, channel: str) -> bool:
        return self.channels is None or channel in self.channels or is_dm_channel(channel)


@dataclass(frozen=True)
class Asked:
    """What a request asks and what Kotae does with it (see :meth:`Asking.intake`)."""

    entry: str  # mention, dm, follow-up, ask, post-to-channel
    where: Where
    question: str
    certain: bool = True  # False: a thread reply that is a follow-up only if Kotae answered there
    response_url: str = ""
    action: str = "answer"  # "answer"; "refuse": not allowed here; "hint": no question in it

    @property
    def answers(self) -> bool:
        return self.action == "answer"


def _best_effort(logger: logging.Logger, what: str, call: Callable[[], Any]) -> None:
    """Cosmetic calls (reactions, status lines) must never cost the user their answer."""
    try:
        call()
    except SlackApiError as error:
        logger.info("slack: %s skipped (%s)", what, error.response.get("error"))


class Asking:
    """Answers questions and posts them; holds the collaborators the listeners share."""

    def __init__(self, service: Answerer | KnowledgeBases, policy: Policy, feedback: FeedbackLog,
                 seen: SeenKeys, logger: logging.Logger, *, pool: ListenerPool | None = None,
                 rate: UserRate | None = None, notices: Notices | None = None) -> None:
        # Which knowledge base may answer where is decided by self.bases alone (see route()).
        self.bases = service if isinstance(service, KnowledgeBases) else KnowledgeBases.single(service)
        self.policy = policy
        self.feedback = feedback
        self.seen = seen
        self.logger = logger
        self.pool = pool  # None: no admission control (the listeners used on their own)
        self.rate = rate if rate is not None else UserRate(0)
        self.notices = notices if notices is not None else Notices(logger=logger)
        self._reload_failure = ""
        self.team = ""  # the workspace, for log lines (set from each request's authorisation)

    # -- admission: on the request thread, before any listener is queued ----------------------
    def admit(self, body: dict[str, Any], context: Any, ack: Callable[..., BoltResponse],
              client: WebClient, next: Callable[[], Any]) -> BoltResponse | None:
        """Global middleware (after de-duplication): acknowledge what a queued listener would
        acknowledge late, and admit a question only while the user's rate and the listener
        pool allow; otherwise acknowledge it and say why, without queueing anything."""
        self.team = str(getattr(context, "team_id", None) or self.team)
        if body.get("type") == "block_actions":
            ack()  # a click is acknowledged at once, however long the listener waits in the pool
        ask_text, _ = self._ask_intro(body) if body.get("command") == "/ask" else ("", None)
        asked = self.intake(body, context.bot_user_id)
        if asked is None or not asked.answers:
            if ask_text:
                channel = str(body.get("channel_id") or "")
                if (body.get("text") or "").strip() and not self.policy.allows(channel):
                    self.logger.warning(json.dumps({"event": "turned_away", "reason": "channel not allowed",
                                                    "entry": "ask", "team": self.team, "channel": channel}))
                return ack(response_type="ephemeral", text=ask_text)  # empty or not allowed here
            return next()  # the listener refuses, hints or ignores it, without answering
        if asked.certain and not self.rate.allow(asked.where.user):
            return self._turn_away(asked, "rate", client, ack)
        if self.pool is not None and not self.pool.admit():
            return self._turn_away(asked, "busy", client, ack)
        if asked.entry == "ask":
            ack(response_type="ephemeral", text=ask_text)
        return next()

    def intake(self, body: dict[str, Any], bot: str | None) -> Asked | None:
        """What this request asks and what Kotae does with it; ``None`` for everything that
        is not a question at all (chatter, feedback clicks). The listeners act on the same
        decision, so what is admitted here is exactly what gets answered."""
        if body.get("type") == "event_callback":
            return self._event_intake(body.get("event") or {}, bot)
        if body.get("command") == "/ask":
            _, question = self._ask_intro(body)
            if question is None:
                return None  # acknowledged with the reason, by admit() or the listener
            channel = str(body.get("channel_id") or "")
            return Asked("ask", Where(channel, str(body.get("user_id") or ""), "", None, is_dm_channel(channel)),
                         question, response_url=str(body.get("response_url") or ""))
        if body.get("type") == "block_actions":
            action = (body.get("actions") or [{}])[0]
            return self._action_intake(body, action)
        return None

    def _action_intake(self, body: dict[str, Any], action: dict[str, Any]) -> Asked | None:
        """A click on "post to channel": the question it carries, if it may be posted there."""
        if action.get("action_id") != ACTION_POST_TO_CHANNEL or self.policy.private:
            return None
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        question = str(parse_feedback_value(action.get("value", "")).get("q", ""))
        if not question or self.route(channel) is None:
            return None  # the question is answered again from what the target channel may see
        user = (body.get("user") or {}).get("id", "")
        return Asked("post-to-channel", Where(channel, user, "", None, is_dm_channel(channel)), question,
                     response_url=str(body.get("response_url") or ""))

    def _event_intake(self, event: dict[str, Any], bot: str | None) -> Asked | None:
        """A mention, a DM or a thread reply: where it was asked, and whether Kotae answers it,
        refuses it (a channel that is not allowed) or hints (nothing but the mention)."""
        kind = event.get("type")
        if kind not in {"app_mention", "message"} or is_ignorable_message(event, bot):
            return None
        channel, text, ts = event.get("channel", ""), event.get("text", ""), event.get("ts", "")
        user, thread_ts = event.get("user", ""), event.get("thread_ts")
        if not ts:
            return None
        question = clean_question(text, bot)
        hint = "answer" if question else "hint"
        if kind == "app_mention":
            action = hint if self.route(channel) is not None else "refuse"
            where = Where(channel, user, ts, thread_ts or ts, is_dm_channel(channel))
            return Asked("mention", where, question, action=action)
        if is_dm_channel(channel, event.get("channel_type")):
            action = hint if self.route(channel, is_dm=True) is not None else "refuse"
            return Asked("dm", Where(channel, user, ts, thread_ts, True), question, action=action)
        # Mentions are answered as app_mention; other channel messages only as follow-ups in a
        # thread Kotae answered (checked by the listener), and only when mentions are not required.
        if mentions(text, bot) or not thread_ts or self.policy.mention_only or self.route(channel) is None:
            return None
        return Asked("follow-up", Where(channel, user, ts, thread_ts, False), question, certain=False, action=hint)

    def _turn_away(self, asked: Asked, reason: str, client: WebClient,
                   ack: Callable[..., BoltResponse]) -> BoltResponse:
        """Acknowledge a question that will not be answered, and tell the asker why: in the ack
        for /ask, else from the notice thread (a log line when that is full too). A thread reply
        that may not even be meant for Kotae only gets a log line."""
        labels = labels_for(guess_language(asked.question))
        text = labels.busy if reason == "busy" else labels.slow_down
        record: dict[str, Any] = {"event": "turned_away", "reason": reason, "entry": asked.entry,
                                  "team": self.team, "channel": asked.where.channel}
        if self.pool is not None:
            record["in_flight"] = self.pool.stats().questions
        self.logger.warning(json.dumps(record))
        if asked.entry == "ask":
            return ack(response_type="ephemeral", text=text)
        if asked.entry == "post-to-channel" and asked.response_url:
            url = asked.response_url
            self.notices.send(reason, lambda: WebhookClient(url).send(
                response_type="ephemeral", replace_original=False, text=text))
        elif asked.certain and self.seen.first_time(f"turned-away:{asked.where.channel}:{asked.where.ts}"):
            notice = render_notice(text)
            self.notices.send(reason, lambda: self.post(client, asked.where, notice))
        return BoltResponse(status=200, body="")

    # -- the one path every entry point takes -------------------------------------------------
    def route(self, channel: str, *, is_dm: bool | None = None) -> Route | None:
        """The knowledge base(s) a question asked in ``channel`` may be answered from; ``None``
        when the channel is not allowed or may see none. Every entry point asks this."""
        if not self.policy.allows(channel):
            return None
        return self.bases.route(channel, is_dm=is_dm_channel(channel) if is_dm is None else is_dm)

    def answer(self, question: str, entry: str, channel: str, context: tuple[str, ...] = ()) -> Reply:
        """``context``: the thread's earlier questions, which a follow-up is searched with."""
        started = time.monotonic()
        route = self.route(channel)
        if route is None:  # intake refuses these; never answer them from anywhere
            raise NoKnowledgeBaseError(f"no knowledge base may answer in channel {channel}")
        self._reload(route)
        base, reply = route.answer(question, context)
        top = max((p.score for p in reply.passages), default=None)
        self.logger.info(json.dumps({
            "event": "question", "entry": entry, "channel": channel, "knowledge_base": base.name,
            "latency_ms": round((time.monotonic() - started) * 1000),
            "answered": reply.answered, "top_score": None if top is None else round(top, 4),
            "quotes": len(reply.quotes), "language": reply.language, "context": len(context),
            "index_version": reply.index_version,
        }, ensure_ascii=False))
        return reply

    def _reload(self, route: Route) -> None:
        """Swap in a refreshed index; a damaged one is reported once and the loaded one kept."""
        for base in route.bases:
            try:
                base.service.reload_if_changed()
            except KotaeError as error:
                message = f"{base.name}: {error}"
                if message != self._reload_failure:
                    self._reload_failure = message
                    self.logger.error("slack: refreshed index of knowledge base %s not loaded, still serving "
                                      "the previous one: %s", base.name, error)

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

    def answer_message(self, client: WebClient, where: Where, question: str, entry: str,
                       bot: str | None = None) -> None:
        """Reaction while working, then the answer in the thread."""
        if not question:
            self.post(client, where, render_notice(labels_for("ja").empty_mention))
            return
        react: dict[str, Any] = {"channel": where.channel, "timestamp": where.ts, "name": PROGRESS_REACTION}
        _best_effort(self.logger, "reaction", lambda: client.reactions_add(**react))
        reply = self.answer(question, entry, where.channel, self.thread_context(client, where, bot))
        self.post(client, where, render_reply(reply))
        _best_effort(self.logger, "reaction removal", lambda: client.reactions_remove(**react))

    def refusal(self, channel: str, question: str) -> str:
        """Why a question cannot be answered here: a channel outside KOTAE_SLACK_CHANNELS, or one
        (or DMs) that may see no knowledge base of the channels file."""
        labels = labels_for(guess_language(question))
        if not self.policy.allows(channel):
            return labels.not_allowed
        return labels.no_documents_dm if is_dm_channel(channel) else labels.no_documents

    def thread_context(self, client: WebClient, where: Where, bot: str | None) -> tuple[str, ...]:
        """The questions asked earlier in the thread of a reply (none for a thread's first
        message); unreadable history costs the context, never the answer."""
        if not where.thread_ts or where.thread_ts == where.ts:
            return ()
        try:
            messages = fetch_thread(client, where.channel, where.thread_ts)
        except SlackApiError as error:
            self.logger.info("slack: thread history of %s not read (%s); answering the reply on its own",
                             where.channel, error.response.get("error"))
            return ()
        return earlier_questions(messages, where.ts, bot)

    def refuse(self, client: WebClient, where: Where, question: str) -> None:
        self.logger.warning(json.dumps({"event": "turned_away", "reason": "channel not allowed",
                                        "entry": "mention", "team": self.team, "channel": where.channel}))
        notice = render_notice(self.refusal(where.channel, question))
        _best_effort(self.logger, "refusal", lambda: client.chat_postEphemeral(
            channel=where.channel, user=where.user, text=notice.text, blocks=notice.blocks_list()))

    # -- listeners (Bolt injects arguments by name) --------------------------------------------
    def on_mention(self, event: dict[str, Any], client: WebClient, context: Any) -> None:
        asked = self._event_intake(event, context.bot_user_id)
        if asked is not None:
            self._act(client, asked, context.bot_user_id)

    def on_message(self, event: dict[str, Any], client: WebClient, context: Any) -> None:
        bot = context.bot_user_id
        asked = self._event_intake(event, bot)
        if asked is None:
            return
        if asked.entry == "follow-up" and not kotae_answered(
                fetch_thread(client, asked.where.channel, str(asked.where.thread_ts)), bot):
            return
        self._act(client, asked, bot)

    def _act(self, client: WebClient, asked: Asked, bot: str | None) -> None:
        """Refuse, or (once per message) answer or hint, as :meth:`intake` decided."""
        if asked.action == "refuse":
            self.refuse(client, asked.where, asked.question)
        elif self.claim(asked.where.channel, asked.where.ts):
            self.answer_message(client, asked.where, asked.question, asked.entry, bot)

    def _ask_intro(self, command: dict[str, Any]) -> tuple[str, str | None]:
        """What /ask acknowledges with, and the question to answer (``None``: nothing to answer)."""
        question = " ".join((command.get("text") or "").split())
        labels = labels_for(guess_language(question))
        if not question:
            return labels.empty_question, None
        if self.route(command.get("channel_id", "")) is None:
            return self.refusal(command.get("channel_id", ""), question), None
        return f"{labels.searching} _{trim(question, 200)}_", question

    def on_ask(self, ack: Callable[..., Any], command: dict[str, Any], respond: Callable[..., Any],
               client: WebClient) -> None:
        text, question = self._ask_intro(command)
        # In the app, admit() has acknowledged already with the same text (a second ack is
        # ignored); acknowledging here keeps the listener correct on its own.
        ack(response_type="ephemeral", text=text)
        if question is None:
            return
        channel = command.get("channel_id", "")
        reply = self.answer(question, "ask", channel)
        message = render_reply(reply, show_question=True, post_button=not self.policy.private)
        respond(response_type="ephemeral", replace_original=False, text=message.text,
                blocks=message.blocks_list())

    def on_post_to_channel(self, ack: Callable[..., Any], body: dict[str, Any],
                           action: dict[str, Any], respond: Callable[..., Any],
                           client: WebClient) -> None:
        ack()
        asked = self._action_intake(body, action)
        if asked is None:
            return
        # Two real clicks on one ephemeral answer differ in trigger id and response URL, but
        # come from the same message: that is what is posted once.
        shown = (body.get("container") or {}).get("message_ts") or action.get("value", "")
        key = f"post:{asked.where.channel}:{asked.where.user}:{shown}"
        if not self.seen.first_time(key):
            self.logger.info("slack: \"post to channel\" clicked again on message %s in %s: already "
                             "posted or being posted, not posted twice", shown, asked.where.channel)
            return
        try:
            self._post_answer(client, asked, respond, key)
        except BaseException:
            self.seen.forget(key)  # not posted: a later click may try again
            raise

    def _post_answer(self, client: WebClient, asked: Asked, respond: Callable[..., Any], key: str) -> None:
        """Post the answer for everyone; when Kotae is not in the channel, tell the asker how to
        invite it, in their language (and let the button be pressed again)."""
        channel = asked.where.channel
        reply = self.answer(asked.question, asked.entry, channel)
        message = render_reply(reply, asked_by=asked.where.user)
        try:
            client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks_list(),
                                    unfurl_links=False, unfurl_media=False)
        except SlackApiError as error:
            code = error.response.get("error")
            if code not in _NOT_A_MEMBER:
                raise
            self.logger.info(json.dumps({"event": "not_posted", "reason": code, "team": self.team,
                                         "channel": channel}))
            self.seen.forget(key)
            respond(response_type="ephemeral", replace_original=False,
                    text=labels_for(reply.language).invite_first)
            return
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
        route = self.bases.route("", is_dm=True)  # the panel is a DM: it sees what DMs may see
        if route is None:
            say(text=f"{ja.greeting}\n{en.greeting}\n\n{ja.no_documents_dm}\n{en.no_documents_dm}")
            return
        say(text=f"{ja.greeting}\n{en.greeting}")
        prompts = [p for p in route.suggested_questions(4) if p.strip()][:4]
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
        if self.route(channel, is_dm=True) is None:
            self.post(client, where, render_notice(self.refusal(channel, question)))
            return
        reply = self.answer(question, "assistant", channel,
                            self.thread_context(client, where, context.bot_user_id))
        self.post(client, where, render_reply(reply))  # posting clears the status line
