"""Kotae in Slack: rendering (pure), the Bolt app factory, serving, and a local stand-in.

Names are loaded on first use, so that ``kotae ask`` (which registers the ``serve`` command)
does not pay for importing Bolt.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    # rendering
    "Rendered": "bot.slack.blocks",
    "render_notice": "bot.slack.blocks",
    "render_reply": "bot.slack.blocks",
    # the app
    "Answerer": "bot.slack.answering",
    "build_app": "bot.slack.app",
    "build_client": "bot.slack.app",
    # running it
    "HttpServer": "bot.slack.serving",
    "add_serve_parser": "bot.slack.cli",
    "run_serve": "bot.slack.cli",
    "socket_mode_handler": "bot.slack.serving",
}

__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'bot.slack' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
