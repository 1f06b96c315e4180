"""``kotae serve``: Socket Mode when an app token is set, else the HTTP Events API."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import threading
from typing import Any

from bot.settings import SETTINGS_HELP, Settings
from knowledge.errors import ConfigError

__all__ = ["add_serve_parser", "run_serve"]

# Settings every command shares (shown by their flags); the rest are the bot's.
_NOT_SERVE = frozenset({"docs_dir", "index_dir", "data_dir", "model", "chunk_chars", "chunk_overlap",
                        "ann", "top_k", "abstain_threshold", "threads", "build_workers", "ask_refresh"})


def _epilog() -> str:
    rows = [f"  {env:<25} {text}" for attr, env, text in SETTINGS_HELP if attr not in _NOT_SERVE]
    return "\n".join([
        "examples:",
        "  SLACK_BOT_TOKEN=xoxb-… SLACK_APP_TOKEN=xapp-… kotae serve        # Socket Mode (no public URL)",
        "  SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=… kotae serve --http --port 3000",
        "  kotae serve --local                      # try it in the terminal, no Slack needed",
        "",
        "environment:",
        *rows,
        "",
        "Start-up checks the tokens with Slack before loading the index; every failure is one line",
        "saying what to check (see docs/slack.md).",
        "",
    ])


def add_serve_parser(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve", help="run the Slack bot (Socket Mode, HTTP Events API, or --local)",
        description="Answer questions in Slack: mentions, DMs, thread follow-ups, /ask and the "
                    "AI-app panel. Loads the index once, watches the documents folder and "
                    "refreshes the index by itself.",
        epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--http", action="store_true",
                       help="use the HTTP Events API even when SLACK_APP_TOKEN is set")
    serve.add_argument("--host", metavar="HOST",
                       help="HTTP bind address [KOTAE_HTTP_HOST; default 127.0.0.1]")
    serve.add_argument("--port", type=int, metavar="PORT",
                       help="HTTP port [KOTAE_HTTP_PORT; default 3000]")
    serve.add_argument("--no-watch", dest="watch", action="store_false", default=None,
                       help="do not watch the documents folder for changes [KOTAE_WATCH; default: watch "
                            "and refresh the index by itself]")
    serve.add_argument("--refresh-interval", type=float, dest="refresh_interval", metavar="SECONDS",
                       help="also check the documents folder every SECONDS, for network shares "
                            "[KOTAE_REFRESH_INTERVAL; default 0 = on change events only]")
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

        service = service or _service(settings)
        with _fresh(service, logger):
            return run_local(settings, service, sys.stdin, sys.stdout)

    socket_mode = settings.slack_app_token is not None and not args.http
    settings.require_bot_token()
    app_token = settings.require_app_token() if socket_mode else None
    if not socket_mode:
        settings.require_signing_secret()

    from slack_bolt.error import BoltError

    from bot.slack.app import build_app, build_client
    from bot.slack.startup import check_slack, explained, quiet_logger

    # Before the index is built or loaded: a wrong token is reported in seconds, not minutes.
    check_slack(build_client(settings, quiet_logger()), app_token)
    client = build_client(settings, logger)
    service = service or _service(settings)
    try:
        app = build_app(settings, service, client, mode="socket" if socket_mode else "http", logger=logger)
    except BoltError:  # Bolt's own auth.test failed right after ours passed: say so, plainly
        check_slack(build_client(settings, quiet_logger()))
        raise ConfigError("Slack did not confirm SLACK_BOT_TOKEN at start-up; start Kotae again.") from None
    if app_token is not None:
        from bot.slack.serving import socket_mode_handler

        print("Kotae: connecting to Slack over Socket Mode… (Ctrl-C to stop)", file=sys.stderr)
        handler = socket_mode_handler(app, app_token, logger=logger)
        explained("SLACK_APP_TOKEN", "apps.connections.open", client, handler.connect)
        print("Kotae: connected; answering questions.", file=sys.stderr)
        with _fresh(service, logger):
            threading.Event().wait()  # the handler's threads serve until Ctrl-C
        return 0

    from bot.slack.serving import HttpServer

    try:
        server = HttpServer(app, settings.http_host, settings.http_port)
    except OSError as error:
        where = f"{settings.http_host}:{settings.http_port}"
        raise ConfigError(
            f"Kotae could not listen on {where} ({(error.strerror or str(error)).lower()}): another "
            "program may be using the port, or the address is not one of this machine's. Choose "
            "another with --port/KOTAE_HTTP_PORT or --host/KOTAE_HTTP_HOST."
        ) from None
    print(f"Kotae: Events API at {server.url} (Ctrl-C to stop)", file=sys.stderr)
    with _fresh(service, logger), contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def _fresh(service: Any, logger: logging.Logger) -> Any:
    """Keep the index fresh while serving (KOTAE_WATCH), when ``service`` is a real one."""
    if not hasattr(service, "settings") or not hasattr(service, "refresh"):
        return contextlib.nullcontext()
    from bot.watch import watching

    return watching(service, logger)
