"""Running the app: Socket Mode (built-in handler) or the HTTP Events API under waitress."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.slack.admission import submit_then
from bot.slack.signatures import claimed_place, rejection

__all__ = ["EVENTS_PATH", "SOCKET_BACKLOG", "BoundedSocketModeHandler", "HttpServer", "socket_mode_handler"]

EVENTS_PATH = "/slack/events"
# Socket Mode envelopes received but not yet dispatched to Bolt. Dispatching one takes about a
# millisecond (questions are only admitted or turned away there, never answered), so this fills
# only under a flood far beyond what Slack delivers; then an envelope is left unacknowledged and
# Slack delivers it again (events are retried; a slash command shows Slack's timeout).
SOCKET_BACKLOG = 1000

_P = ParamSpec("_P")
_T = TypeVar("_T")


class _BlockingPool(ThreadPoolExecutor):
    """``workers`` threads and no queue of its own: :meth:`submit` waits for a free thread, so the
    backlog stays in the client's (bounded) message queue."""

    def __init__(self, workers: int) -> None:
        super().__init__(max_workers=workers, thread_name_prefix="kotae-socket")
        self._free = threading.BoundedSemaphore(workers)

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        self._free.acquire()
        return submit_then(super().submit, self._free.release, fn, *args, **kwargs)


class _BoundedSocketModeClient(SocketModeClient):
    """slack_sdk's built-in client with a bounded backlog (its own queue and worker pool are
    unbounded): at most ``backlog`` envelopes wait; beyond that they are dropped unacknowledged,
    for Slack to deliver again. Control messages (hello, disconnect) are always kept."""

    def __init__(self, *, backlog: int, concurrency: int, **options: Any) -> None:
        super().__init__(concurrency=concurrency, **options)
        self.backlog = backlog
        self.dropped = 0
        unused = self.message_workers  # nothing was submitted yet: no thread was started
        self.message_workers = _BlockingPool(concurrency)
        unused.shutdown(wait=False)

    def enqueue_message(self, message: str) -> None:
        if self.message_queue.qsize() >= self.backlog and _is_envelope(message):
            self.dropped += 1
            self.logger.warning("slack: %d Socket Mode envelopes waiting; one more left "
                                "unacknowledged for Slack to deliver again", self.backlog)
            return
        super().enqueue_message(message)


def _is_envelope(message: str) -> bool:
    try:
        return bool(json.loads(message).get("envelope_id"))
    except (ValueError, AttributeError):
        return False


def _info_or_above(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.INFO


def _frames_unlogged(logger: logging.Logger) -> logging.Logger:
    """The Socket Mode client's logger (a child of ``logger``) without its debug lines: they
    hold whole frames (questions, ``response_url``s, acknowledgements); warnings stay."""
    child = logger.getChild("socket")
    if _info_or_above not in child.filters:
        child.addFilter(_info_or_above)
    return child


class BoundedSocketModeHandler(BaseSocketModeHandler):
    """Bolt's built-in Socket Mode handler, on :class:`_BoundedSocketModeClient`."""

    def __init__(self, app: App, app_token: str, *, logger: logging.Logger | None = None,
                 concurrency: int = 10, backlog: int = SOCKET_BACKLOG) -> None:
        self.app = app
        self.client = _BoundedSocketModeClient(
            app_token=app_token, logger=_frames_unlogged(logger or app.logger), web_client=app.client,
            proxy=app.client.proxy, concurrency=concurrency, backlog=backlog,
        )
        self.client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        started = time.time()
        send_response(client, req, run_bolt_app(self.app, req), started)


def socket_mode_handler(app: App, app_token: str, logger: logging.Logger | None = None,
                        concurrency: int = 10, backlog: int = SOCKET_BACKLOG) -> BoundedSocketModeHandler:
    """The Socket Mode handler; ``.start()`` blocks, ``.connect()`` does not."""
    return BoundedSocketModeHandler(app, app_token, logger=logger, concurrency=concurrency, backlog=backlog)


def _with_health(inner: Callable[..., Iterable[bytes]], signing_secret: str | None = None,
                 logger: logging.Logger | None = None) -> Callable[..., Iterable[bytes]]:
    """Answer ``GET /healthz`` (for load balancers), and refuse a request that is not signed by
    Slack (or whose signature is stale) before handing over to Bolt, logging why and where from,
    but neither its body nor its response URL (:mod:`bot.slack.signatures`)."""
    logger = logger or logging.getLogger("kotae.slack")

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        reason = "no timestamp" if timestamp is not None and not timestamp.strip().isdigit() else None
        if signing_secret and environ.get("REQUEST_METHOD") == "POST" and reason is None:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length > 0 else b""
            environ["wsgi.input"] = io.BytesIO(body)
            reason = rejection(signing_secret, body, timestamp, environ.get("HTTP_X_SLACK_SIGNATURE"))
            if reason:
                team, channel = claimed_place(body, str(environ.get("CONTENT_TYPE") or ""))
                logger.warning(json.dumps({"event": "rejected", "reason": reason, "team": team,
                                           "channel": channel, "path": environ.get("PATH_INFO", "")}))
        if reason:
            start_response("401 Unauthorized", [("Content-Type", "text/plain")])
            return [b"invalid request"]
        return inner(environ, start_response)

    return wsgi


class HttpServer:
    """The Events API endpoint (``POST /slack/events``) served by waitress, a threaded
    production WSGI server; binds ``host`` (127.0.0.1 unless configured otherwise)."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 3000,
                 threads: int = 8, connection_limit: int = 100) -> None:
        from waitress.server import create_server

        # waitress bounds what a flood can hold: ``threads`` requests in progress, at most
        # ``connection_limit`` connections open (more wait in the kernel's listen backlog), and
        # no request read ahead on a connection before the previous one is answered.
        secret = getattr(app, "signing_secret", None)  # KotaeApp in HTTP mode
        self._server = create_server(
            _with_health(SlackRequestHandler(app, path=EVENTS_PATH), secret, app.logger),
            host=host, port=port, threads=threads, ident="kotae", clear_untrusted_proxy_headers=True,
            connection_limit=connection_limit,
        )
        self.host = host
        self.port = int(self._server.effective_port)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{EVENTS_PATH}"

    def serve_forever(self) -> None:
        """Serve until :meth:`close` (or Ctrl-C); the sockets are closed on this thread."""
        from waitress import wasyncore

        server: Any = self._server
        try:
            while not self._stopping.is_set():
                server.asyncore.loop(timeout=0.2, map=server._map,
                                     use_poll=server.adj.asyncore_use_poll, count=1)
        finally:
            wasyncore.close_all(server._map)
            server.task_dispatcher.shutdown()

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.serve_forever, name="kotae-http", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
