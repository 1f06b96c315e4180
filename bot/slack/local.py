"""``kotae serve --local``: the real bot against the stand-in, driven from the terminal.

Every line typed becomes a direct message to Kotae (``/ask …`` becomes the slash command);
what Kotae would post is printed twice: the exact Block Kit JSON and a readable picture.
"""

from __future__ import annotations

import json
import logging
from typing import Any, TextIO

from bot.knowledge_bases import KnowledgeBases
from bot.settings import Secret, Settings
from bot.slack.answering import Answerer
from bot.slack.app import build_app
from bot.slack.preview import readable
from bot.slack.serving import socket_mode_handler
from bot.slack.standin import StandIn
from bot.slack.standin import payloads as P

__all__ = ["run_local"]

_LOCAL_BOT_TOKEN = "xoxb-local-standin-token"
_LOCAL_APP_TOKEN = "xapp-local-standin-token"
_DM = "D0LOCALDM1"


def run_local(settings: Settings, service: Answerer | KnowledgeBases, stdin: TextIO, stdout: TextIO,
              timeout: float = 120.0) -> int:
    bases = service if isinstance(service, KnowledgeBases) else KnowledgeBases.single(service)
    with StandIn() as slack:
        local = settings.with_(
            slack_bot_token=Secret(_LOCAL_BOT_TOKEN), slack_app_token=Secret(_LOCAL_APP_TOKEN),
            api_base_url=slack.api_url, slack_channels=None, slack_private=False,
        )
        app = build_app(local, bases, mode="socket", logger=logging.getLogger("kotae.slack"))
        handler = socket_mode_handler(app, _LOCAL_APP_TOKEN)
        handler.connect()
        slack.wait_connected()
        served = bases.services()
        indexes = (served[0][1].index_version if len(served) == 1
                   else ", ".join(f"{name} {svc.index_version}" for name, svc in served))
        print(f"Kotae on a local Slack stand-in at {slack.base_url} (index "
              f"{indexes}). Type a question, '/ask question', or an empty line "
              "to quit.", file=stdout, flush=True)
        try:
            while True:
                print("> ", end="", file=stdout, flush=True)
                line = stdin.readline()
                if not line.strip():
                    break
                message = _ask(slack, line.strip(), timeout)
                print("── Block Kit JSON " + "─" * 40, file=stdout)
                print(json.dumps(message, ensure_ascii=False, indent=2), file=stdout)
                print("── As Slack shows it " + "─" * 37, file=stdout)
                print(readable(message.get("blocks") or []), file=stdout, flush=True)
        finally:
            handler.close()
    return 0


def _ask(slack: StandIn, question: str, timeout: float) -> dict[str, Any]:
    slack.recorder.clear()
    if question.startswith("/ask "):
        url = slack.response_url()
        slack.push(P.slash_command(question[5:], url, channel="C0LOCALCH1"), kind="slash_commands")
        call = slack.recorder.wait_for("response_url", lambda c: "blocks" in c.args,
                                       timeout=timeout)[0]
    else:
        slack.push(P.event_callback(P.message(question, channel=_DM)))
        call = slack.recorder.wait_for("chat.postMessage", timeout=timeout)[0]
    keep = ("channel", "thread_ts", "text", "blocks", "response_type")
    return {k: call.args[k] for k in keep if k in call.args}
