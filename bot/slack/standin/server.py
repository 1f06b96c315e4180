"""A local stand-in for Slack: Web API, Socket Mode WebSocket and response URLs on 127.0.0.1.

Run the real App and the real slack_sdk clients against it::

    with StandIn() as slack:
        client = WebClient(token="xoxb-test-token", base_url=slack.api_url)
        ...
        slack.recorder.wait_for("chat.postMessage")

It answers like Slack does where Kotae depends on it (tokens checked, messages validated with
Slack's limits, ``ts`` values, threads kept for ``conversations.replies``) and can be told to
fail: :meth:`StandIn.fail` queues ``ok:false`` errors, HTTP 429 with ``Retry-After``, server
errors (HTTP 500/503) and connection resets; :attr:`StandIn.revoked_tokens` are refused with
``invalid_auth``; :attr:`StandIn.outsider_channels` are channels Kotae is not a member of.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import struct
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from bot.slack.standin.recorder import Call, Recorder
from bot.slack.standin.validation import message_error

__all__ = ["BOT_ID", "BOT_USER_ID", "TEAM_ID", "Fault", "StandIn"]

TEAM_ID = "T0KOTAE01"
BOT_USER_ID = "U0KOTAEBOT"
BOT_ID = "B0KOTAEBOT"
_POSTING = {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.startStream"}


RESET = "connection_reset"  # a Fault error: the connection is dropped without an answer


@dataclass(frozen=True)
class Fault:
    """An injected failure for one call: ``status`` 429 (with ``retry_after``), 500/503 (a server
    error page), ``ok:false`` with ``error``, or the connection reset (``error=RESET``)."""

    error: str = "ratelimited"
    status: int = 200
    retry_after: int | None = None


class StandIn:
    """The stand-in server. Start with :meth:`start` (or ``with``), stop with :meth:`stop`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.recorder = Recorder()
        self.unknown_channels: set[str] = set()
        self.outsider_channels: set[str] = set()  # Kotae is not a member: posting is refused
        self.revoked_tokens: set[str] = set()
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._threads: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._sockets: set[web.WebSocketResponse] = set()
        self._connected = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> StandIn:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="slack-standin", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Slack stand-in did not start")
        return self

    async def _serve(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/link/", self._websocket)
        app.router.add_post("/response/{key}", self._response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown() -> None:
            for ws in list(self._sockets):
                await ws.close()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop.close()
        self._loop = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """For ``WebClient(base_url=...)``: ends with a slash, as slack_sdk expects."""
        return f"{self.base_url}/api/"

    def response_url(self, key: str | None = None) -> str:
        return f"{self.base_url}/response/{key or uuid.uuid4().hex}"

    # -- test controls ---------------------------------------------------------------------------
    def fail(self, method: str, error: str = "ratelimited", *, status: int = 200,
             retry_after: int | None = None, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail: HTTP 429 when ``status`` is 429, a
        server error page for 500/503, a dropped connection for ``error=RESET``."""
        with self._lock:
            self._faults[method].extend([Fault(error, status, retry_after)] * times)

    def reset(self) -> None:
        """Forget calls, faults, and the channel and token settings of earlier tests."""
        self.recorder.clear()
        self.unknown_channels.clear()
        self.outsider_channels.clear()
        self.revoked_tokens.clear()
        with self._lock:
            self._faults.clear()

    def add_message(self, channel: str, text: str, *, user: str = "U0ASKER01",
                    thread_ts: str | None = None, bot: bool = False) -> str:
        """Put a message in a conversation (as if a person or the bot wrote it); return ts."""
        ts = self._next_ts()
        message: dict[str, Any] = {"type": "message", "ts": ts, "text": text, "user": user}
        if bot:
            message.update(user=BOT_USER_ID, bot_id=BOT_ID)
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._lock:
            self._threads[(channel, thread_ts or ts)].append(message)
        return ts

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._threads[(channel, thread_ts)])

    # -- Web API ---------------------------------------------------------------------------------
    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_args(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = token or str(args.get("token", ""))
        with self._lock:
            fault = self._faults[method].popleft() if self._faults[method] else None
        if fault is not None:
            self.recorder.record(Call(method, args, ok=False, error=fault.error, status=fault.status))
            if fault.error == RESET:
                _reset(request)
                return web.Response()  # never sent: the connection is gone
            if fault.status >= 500:
                return web.Response(status=fault.status, text=f"<html><body>{fault.status} "
                                    "Service Unavailable</body></html>", content_type="text/html")
            if fault.status == 429:
                headers = {"Retry-After": str(fault.retry_after if fault.retry_after is not None else 1)}
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers=headers)
            return web.json_response({"ok": False, "error": fault.error}, status=fault.status)
        body = self._answer(method, args, token)
        self.recorder.record(Call(method, args, ok=body["ok"], error=body.get("error")))
        return web.json_response(body)

    def _answer(self, method: str, args: dict[str, Any], token: str) -> dict[str, Any]:
        if token and token in self.revoked_tokens:
            return {"ok": False, "error": "invalid_auth"}
        if method == "apps.connections.open":
            if not token.startswith("xapp-"):
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "url": f"ws://{self.host}:{self.port}/link/?ticket={uuid.uuid4()}"}
        if not token.startswith("xoxb-"):
            return {"ok": False, "error": "not_authed" if not token else "invalid_auth"}
        if method == "auth.test":
            return {"ok": True, "url": "https://kotae-test.slack.com/", "team": "Kotae Test",
                    "user": "kotae", "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
                    "is_enterprise_install": False}
        channel = str(args.get("channel") or args.get("channel_id") or "")
        if channel and channel in self.unknown_channels:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.outsider_channels and method in {"chat.postMessage", "reactions.add"}:
            return {"ok": False, "error": "not_in_channel"}
        if method in _POSTING and method != "chat.startStream":
            error = message_error(args)
            if error:
                return {"ok": False, "error": error}
        if method == "chat.postMessage":
            ts = self._next_ts()
            message = {"type": "message", "ts": ts, "user": BOT_USER_ID, "bot_id": BOT_ID,
                       "text": args.get("text", ""), "blocks": args.get("blocks")}
            thread_ts = args.get("thread_ts")
            if thread_ts:
                message["thread_ts"] = thread_ts
            with self._lock:
                self._threads[(channel, thread_ts or ts)].append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in {"chat.update", "chat.delete"}:
            return {"ok": True, "channel": channel, "ts": args.get("ts"), "text": args.get("text")}
        if method == "chat.startStream":
            return {"ok": True, "channel": channel, "ts": self._next_ts()}
        if method in {"chat.appendStream", "chat.stopStream"}:
            return {"ok": True, "channel": channel, "ts": args.get("ts")}
        if method == "conversations.replies":
            with self._lock:
                messages = list(self._threads.get((channel, str(args.get("ts"))), []))
            return {"ok": True, "messages": messages, "has_more": False}
        if method in {"reactions.add", "reactions.remove", "assistant.threads.setStatus",
                      "assistant.threads.setSuggestedPrompts", "assistant.threads.setTitle"}:
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    async def _response_url(self, request: web.Request) -> web.Response:
        args = await _read_args(request)
        args["_key"] = request.match_info["key"]
        error = message_error(args) if args.get("blocks") is not None or args.get("text") else None
        self.recorder.record(Call("response_url", args, ok=error is None, error=error))
        if error:
            return web.Response(status=400, text=error)
        return web.Response(text="ok")

    # -- Socket Mode -----------------------------------------------------------------------------
    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": "A0KOTAE01"}})
        self._sockets.add(ws)
        with self._connected:
            self._connected.notify_all()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                if "envelope_id" in data:
                    self.recorder.record(Call("ack", data))
        finally:
            self._sockets.discard(ws)
        return ws

    def wait_connected(self, timeout: float = 10.0) -> None:
        with self._connected:
            if not self._connected.wait_for(lambda: bool(self._sockets), timeout):
                raise TimeoutError("no Socket Mode client connected")

    def push(self, payload: dict[str, Any], *, kind: str = "events_api", retry_attempt: int = 0,
             retry_reason: str = "", envelope_id: str | None = None) -> str:
        """Send one envelope to the connected Socket Mode client; return its envelope id."""
        assert self._loop is not None, "start the stand-in first"
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                                    "accepts_response_payload": kind != "events_api"}
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)

        async def send() -> None:
            for ws in list(self._sockets):
                await ws.send_str(json.dumps(envelope))
                return
            raise RuntimeError("no Socket Mode client connected")

        asyncio.run_coroutine_threadsafe(send(), self._loop).result(10)
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> Call:
        return self.recorder.wait_for("ack", lambda c: c.args["envelope_id"] == envelope_id,
                                      timeout=timeout)[0]


def _reset(request: web.Request) -> None:
    """Drop the connection with a TCP reset, as a failing proxy or load balancer does."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Parse a JSON or form-encoded body; form values holding JSON lists/objects are decoded."""
    raw = await request.read()
    if request.content_type == "application/json":
        return json.loads(raw or b"{}")
    args: dict[str, Any] = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    for key, value in list(args.items()):
        if isinstance(value, str) and value.startswith(("[", "{")):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args
