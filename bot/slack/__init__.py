"""Kotae in Slack: rendering (pure), the Bolt app factory, serving, and a local stand-in."""

from bot.slack.answering import Answerer
from bot.slack.app import build_app, build_client
from bot.slack.blocks import Rendered, render_notice, render_reply
from bot.slack.cli import add_serve_parser, run_serve
from bot.slack.serving import HttpServer, socket_mode_handler

__all__ = [  # noqa: RUF022 - grouped: rendering, the app, running it
    "Rendered",
    "render_notice",
    "render_reply",
    "Answerer",
    "build_app",
    "build_client",
    "HttpServer",
    "add_serve_parser",
    "run_serve",
    "socket_mode_handler",
]
