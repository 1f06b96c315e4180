"""Fixtures of the reliability suite: the Slack stand-in, HTTP and Socket Mode bots, and a
real AnswerService over a fake-model index (fast); the real model only via ``answer_service``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.slack.app import build_app
from bot.slack.serving import HttpServer
from bot.slack.standin import EventsSender, StandIn
from tests.slack.conftest import SIGNING_SECRET, HttpBot, make_settings
from tests.slack.fakes import FakeAnswerer, LogWatcher


@pytest.fixture
def logs() -> Iterator[LogWatcher]:
    """Every log line of every logger during the test (root handler at DEBUG)."""
    watcher = LogWatcher()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(watcher)
    root.setLevel(logging.DEBUG)
    slack_logger = logging.getLogger("kotae.slack")
    slack_previous = slack_logger.level
    slack_logger.setLevel(logging.DEBUG)
    yield watcher
    root.removeHandler(watcher)
    root.setLevel(previous)
    slack_logger.setLevel(slack_previous)


@pytest.fixture
def http_bot(slack: StandIn, tmp_path: Path) -> Iterator[Callable[..., HttpBot]]:
    """``http_bot(service=None, threads=8, **settings)`` → a running HTTP bot on 127.0.0.1."""
    servers: list[HttpServer] = []

    def start(service: Any = None, threads: int = 8, **changes: Any) -> HttpBot:
        service = service if service is not None else FakeAnswerer()
        settings = make_settings(slack, tmp_path, **changes)
        app = build_app(settings, service, mode="http", logger=logging.getLogger("kotae.slack"))
        server = HttpServer(app, host="127.0.0.1", port=0, threads=threads).start()
        servers.append(server)
        return HttpBot(app, server, EventsSender(server.url, SIGNING_SECRET), service, settings)

    yield start
    for server in servers:
        server.close()
