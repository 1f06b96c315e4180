"""Fixtures for the Slack layer: the stand-in (Slack's only fake), settings, running bots."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App

from bot.settings import Secret, Settings
from bot.slack.app import build_app
from bot.slack.serving import HttpServer, socket_mode_handler
from bot.slack.standin import EventsSender, StandIn
from tests.slack.fakes import FakeAnswerer, LogWatcher

BOT_TOKEN = "xoxb-0000000000-test-token"
APP_TOKEN = "xapp-1-A0KOTAE01-test-token"
SIGNING_SECRET = "0123456789abcdef0123456789abcdef"


def make_settings(standin: StandIn, data_dir: Path, **changes: Any) -> Settings:
    base = Settings(
        docs_dir=data_dir / "docs",
        index_dir=data_dir / "index",
        data_dir=data_dir,
        slack_bot_token=Secret(BOT_TOKEN),
        slack_app_token=Secret(APP_TOKEN),
        slack_signing_secret=Secret(SIGNING_SECRET),
        api_base_url=standin.api_url,
        feedback_path=data_dir / "feedback.jsonl",
        # Tests send many questions as one user (U0ASKER01); the per-user limit is tested on its
        # own (tests/reliability/test_slack_flood.py) with an explicit user_rate.
        user_rate=0,
    )
    return base.with_(**changes)


@contextmanager
def socket_bot_running(standin: StandIn, settings: Settings, service: Any) -> Iterator[App]:
    """A Bolt app over Socket Mode, connected to the stand-in until the block ends."""
    app = build_app(settings, service, mode="socket", logger=logging.getLogger("kotae.slack"))
    handler = socket_mode_handler(app, APP_TOKEN)
    handler.connect()
    standin.wait_connected()
    try:
        yield app
    finally:
        handler.close()


@pytest.fixture
def logs() -> Iterator[LogWatcher]:
    """Log lines of the Slack layer, waitable."""
    watcher = LogWatcher()
    logger = logging.getLogger("kotae.slack")
    logger.addHandler(watcher)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield watcher
    logger.removeHandler(watcher)
    logger.setLevel(previous)


@dataclass
class HttpBot:
    app: App
    server: HttpServer
    sender: EventsSender
    service: Any
    settings: Settings


@pytest.fixture
def http_bot(slack: StandIn, tmp_path: Path) -> Iterator[Callable[..., HttpBot]]:
    """A factory: ``http_bot(service=None, **settings)`` → a running HTTP bot on 127.0.0.1."""
    servers: list[HttpServer] = []

    def start(service: Any = None, **changes: Any) -> HttpBot:
        service = service if service is not None else FakeAnswerer()
        settings = make_settings(slack, tmp_path, **changes)
        app = build_app(settings, service, mode="http", logger=logging.getLogger("kotae.slack"))
        server = HttpServer(app, host="127.0.0.1", port=0).start()
        servers.append(server)
        return HttpBot(app, server, EventsSender(server.url, SIGNING_SECRET), service, settings)

    yield start
    for server in servers:
        server.close()
