"""``kotae serve``: Socket Mode when an app token is set, else the HTTP Events API."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from typing import Any

from bot.settings import Settings

__all__ = ["add_serve_parser", "run_serve"]

_EPILOG = """\
examples:
  SLACK_BOT_TOKEN=xoxb-… SLACK_APP_TOKEN=xapp-… kotae serve        # Socket Mode (no public URL)
  SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=… kotae serve --http --port 3000
  kotae serve --local                      # try it in the terminal, no Slack needed

environment: SLACK_BOT_TOKEN, SLACK_APP_TOKEN (Socket Mode), SLACK_SIGNING_SECRET (HTTP),
KOTAE_SLACK_CHANNELS, KOTAE_SLACK_MENTION_ONLY, KOTAE_SLACK_PRIVATE, KOTAE_HTTP_HOST,
KOTAE_HTTP_PORT, KOTAE_FEEDBACK, KOTAE_MAX_PENDING (questions in flight, default 100),
KOTAE_USER_RATE (questions per user per minute, default 20; 0 = no limit).
"""


def add_serve_parser(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve", help="run the Slack bot (Socket Mode, HTTP Events API, or --local)",
        description="Answer questions in Slack: mentions, DMs, thread follow-ups, /ask and the "
                    "AI-app panel. Loads the index once and picks up a refreshed index by itself.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--http", action="store_true",
                       help="use the HTTP Events API even when SLACK_APP_TOKEN is set")
    serve.add_argument("--host", metavar="HOST",
                       help="HTTP bind address [KOTAE_HTTP_HOST; default 127.0.0.1]")
    serve.add_argument("--port", type=int, metavar="PORT",
                       help="HTTP port [KOTAE_HTTP_PORT; default 3000]")
    serve.add_argument("--local", action="store_true",
                       help="start a local Slack stand-in and a prompt: type questions, see the "
                            "exact Block Kit JSON and a readable rendering")


def _service(settings: Settings) -> Any:
    from bot.service import AnswerService

    service = AnswerService(settings)
    service.ensure_index(progress=True)
    return service


def run_serve(args: argparse.Namespace, settings: Settings, service: Any = None) -> int:
    """Run until interrupted. Configuration problems raise ``ConfigError`` before any work."""
    if args.host:
        settings = settings.with_(http_host=args.host)
    if args.port is not None:
        settings = settings.with_(http_port=args.port)
    logger = logging.getLogger("kotae.slack")
    logger.setLevel(logging.INFO)  # one line per question, whatever the CLI's verbosity

    if args.local:
        from bot.slack.local import run_local

        return run_local(settings, service or _service(settings), sys.stdin, sys.stdout)

    socket_mode = settings.slack_app_token is not None and not args.http
    settings.require_bot_token()
    if socket_mode:
        app_token = settings.require_app_token()
    else:
        settings.require_signing_secret()
    service = service or _service(settings)

    from bot.slack.app import build_app

    app = build_app(settings, service, mode="socket" if socket_mode else "http", logger=logger)
    if socket_mode:
        from bot.slack.serving import socket_mode_handler

        print("Kotae: connecting to Slack over Socket Mode… (Ctrl-C to stop)", file=sys.stderr)
        socket_mode_handler(app, app_token, logger=logger).start()
        return 0

    from bot.slack.serving import HttpServer

    server = HttpServer(app, settings.http_host, settings.http_port)
    print(f"Kotae: Events API at {server.url} (Ctrl-C to stop)", file=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0
