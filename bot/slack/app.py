"""Building the Bolt app: one factory, every collaborator passed in, nothing at import time."""

from __future__ import annotations

import logging
from typing import Any, Literal

from slack_bolt import App, Assistant, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (  # the package root does not export all three
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.knowledge_bases import KnowledgeBases
from bot.settings import Settings
from bot.slack.admission import ListenerPool, Notices, UserRate
from bot.slack.answering import Answerer
from bot.slack.blocks import ACTION_FEEDBACK_DOWN, ACTION_FEEDBACK_UP, ACTION_POST_TO_CHANNEL
from bot.slack.dedup import SeenKeys
from bot.slack.errors import make_error_handler
from bot.slack.feedback import FeedbackLog
from bot.slack.handlers import Asking, Policy

__all__ = ["KotaeApp", "build_app", "build_client"]

Mode = Literal["socket", "http"]


# Transient failures are retried, with exponential backoff and jitter (~0.5 s, ~1 s, plus up to
# 1 s each): a dropped connection or an HTTP 500/503 from Slack costs the asker a second or two,
# never their answer. Only when every attempt fails does the error handler apologise.
TRANSIENT_RETRIES = 2


def build_client(settings: Settings, logger: logging.Logger | None = None) -> WebClient:
    """The Web API client: bot token from settings; retries on 429 (honouring Retry-After), on
    HTTP 500/503 and on connection errors (resets, refused, DNS) with backoff."""
    options: dict[str, Any] = {}
    if settings.api_base_url:
        base = settings.api_base_url
        options["base_url"] = base if base.endswith("/") else base + "/"
    return WebClient(
        token=settings.require_bot_token(),
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=TRANSIENT_RETRIES),
                        ServerErrorRetryHandler(max_retry_count=TRANSIENT_RETRIES),
                        RateLimitErrorRetryHandler(max_retry_count=3)],
        logger=logger or logging.getLogger("kotae.slack.web"),
        **options,
    )


def _deduplicate(seen: SeenKeys, logger: logging.Logger) -> Any:
    def middleware(req: BoltRequest, body: dict[str, Any], next: Any) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id is None:
            return next()
        retry = int((req.headers.get("x-slack-retry-num") or ["0"])[0] or 0)
        if seen.first_time(f"event:{event_id}"):
            # A retry of an event this process never saw (e.g. after a restart) is answered:
            # the first delivery was lost. The first Socket Mode delivery has retry number 0.
            if retry > 0:
                logger.info("slack: handling retry %d of unseen event %s", retry, event_id)
            return next()
        logger.info("slack: duplicate event %s (retry %d) acknowledged, not answered",
                    event_id, retry)
        return BoltResponse(status=200, body="")

    return middleware


class KotaeApp(App):
    """Bolt's :class:`App` whose listeners run in a bounded :class:`ListenerPool`.

    A question slot reserved during dispatch (``Asking.admit``) for a request that then ran no
    listener is given back when dispatch returns, so a slot can never leak.
    """

    def __init__(self, *, pool: ListenerPool, **options: Any) -> None:
        super().__init__(listener_executor=pool, **options)
        self.pool = pool
        # For the HTTP server's own signature check (which logs no request bodies).
        verified = options.get("request_verification_enabled", True)
        self.signing_secret: str | None = options.get("signing_secret") if verified else None

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        try:
            return super().dispatch(req)
        finally:
            self.pool.release_unclaimed()


def build_app(
    settings: Settings,
    service: Answerer | KnowledgeBases,
    client: WebClient | None = None,
    *,
    mode: Mode = "socket",
    logger: logging.Logger | None = None,
    feedback: FeedbackLog | None = None,
    seen: SeenKeys | None = None,
) -> App:
    """A Bolt :class:`App` answering with ``service`` (one knowledge base), or from the
    :class:`KnowledgeBases` each channel may see.

    ``mode="http"`` checks request signatures with ``settings.slack_signing_secret`` (required);
    Socket Mode requests arrive authenticated over the WebSocket and need none.

    At most ``settings.max_pending`` questions are queued or being answered at once (the
    listener pool's bound); each user may ask ``settings.user_rate`` questions a minute.
    """
    logger = logger or logging.getLogger("kotae.slack")
    client = client or build_client(settings, logger)
    secret = settings.require_signing_secret() if mode == "http" else "socket-mode-unused"
    pool = ListenerPool(settings.max_pending, logger=logger)
    app = KotaeApp(
        pool=pool,
        name="kotae",
        client=client,
        signing_secret=secret,
        request_verification_enabled=mode == "http",
        logger=logger,
        process_before_response=False,
    )
    asking = Asking(
        service=service,
        policy=Policy(settings.slack_channels, settings.slack_mention_only, settings.slack_private),
        feedback=feedback or FeedbackLog(settings.feedback_path),
        seen=seen or SeenKeys(),
        logger=logger,
        pool=pool,
        rate=UserRate(settings.user_rate),
        notices=Notices(logger=logger),
    )
    app.use(_deduplicate(asking.seen, logger))
    app.use(asking.admit)  # before the Assistant middleware, which runs its listeners itself

    assistant = Assistant()
    assistant.thread_started(asking.on_thread_started)
    assistant.user_message(asking.on_assistant_message)
    app.use(assistant)

    app.event("app_mention")(asking.on_mention)
    app.event("message")(asking.on_message)
    app.command("/ask")(asking.on_ask)
    app.action(ACTION_POST_TO_CHANNEL)(asking.on_post_to_channel)
    app.action(ACTION_FEEDBACK_UP)(asking.on_feedback)
    app.action(ACTION_FEEDBACK_DOWN)(asking.on_feedback)
    app.error(make_error_handler(settings.slack_private, logger))
    return app
