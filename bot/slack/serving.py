"""Running the app: Socket Mode (built-in handler) or the HTTP Events API under waitress."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler

__all__ = ["EVENTS_PATH", "HttpServer", "socket_mode_handler"]

EVENTS_PATH = "/slack/events"


def socket_mode_handler(app: App, app_token: str, logger: logging.Logger | None = None,
                        concurrency: int = 10) -> SocketModeHandler:
    """The built-in Socket Mode handler; ``.start()`` blocks, ``.connect()`` does not."""
    return SocketModeHandler(app, app_token=app_token, logger=logger, concurrency=concurrency)


def _with_health(inner: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Answer ``GET /healthz`` (for load balancers), and refuse a request whose signature
    timestamp is not a number, before handing over to Bolt (whose verifier would raise on it)."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        if timestamp is not None and not timestamp.strip().isdigit():
            start_response("401 Unauthorized", [("Content-Type", "text/plain")])
            return [b"invalid request"]
        return inner(environ, start_response)

    return wsgi


class HttpServer:
    """The Events API endpoint (``POST /slack/events``) served by waitress, a threaded
    production WSGI server; binds ``host`` (127.0.0.1 unless configured otherwise)."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 3000,
                 threads: int = 8) -> None:
        from waitress.server import create_server

        self._server = create_server(
            _with_health(SlackRequestHandler(app, path=EVENTS_PATH)),
            host=host, port=port, threads=threads, ident="kotae", clear_untrusted_proxy_headers=True,
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
