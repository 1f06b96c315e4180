"""Before ``kotae serve`` builds or loads anything: does Slack accept the tokens, and can it be
reached at all? Each way this can fail becomes its own :class:`~knowledge.errors.KotaeError`
whose one-line message names what the admin should check (never the token itself)."""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.error import URLError
from urllib.parse import urlparse

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from knowledge.errors import SlackAuthError, SlackUnavailableError

__all__ = ["STATUS_PAGE", "check_slack", "explained", "quiet_logger"]

STATUS_PAGE = "https://status.slack.com"
_T = TypeVar("_T")

# Answers that mean "this token is not (or no longer) good for this workspace".
_REFUSED = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                      "token_expired", "no_permission", "missing_scope", "not_allowed_token_type",
                      "ekm_access_denied", "team_access_not_granted"})

_FIX = {
    "SLACK_BOT_TOKEN": (
        "copy the Bot User OAuth Token (xoxb-…) again from your Slack app's OAuth & Permissions "
        "page; if the app was uninstalled or the token revoked, reinstall the app to the "
        "workspace first"
    ),
    "SLACK_APP_TOKEN": (
        "generate an app-level token with the connections:write scope under Basic Information → "
        "App-Level Tokens of the same app and set SLACK_APP_TOKEN to it (or unset it and run "
        "`kotae serve --http`)"
    ),
}


def quiet_logger() -> logging.Logger:
    """A logger outside the logging tree, for the start-up client: a failed check is reported
    once, by the error it raises, not also by slack_sdk's own lines about each attempt."""
    quiet = logging.Logger("kotae.slack.startup")
    quiet.addHandler(logging.NullHandler())
    return quiet


def check_slack(client: WebClient, app_token: str | None = None) -> dict[str, Any]:
    """``auth.test`` with the bot token, then (Socket Mode) ``apps.connections.open`` with the
    app-level token; returns what ``auth.test`` says about the bot (team, user ids).

    Raises :class:`SlackAuthError` when Slack refuses a token, :class:`SlackUnavailableError`
    when Slack cannot be reached or answers with a server error (after the client's retries).
    """
    identity = explained("SLACK_BOT_TOKEN", "auth.test", client, client.auth_test)
    if app_token is not None:
        explained("SLACK_APP_TOKEN", "apps.connections.open", client,
                  lambda: client.apps_connections_open(app_token=app_token))
    return dict(identity.data) if isinstance(identity.data, dict) else {}


def explained(variable: str, method: str, client: WebClient, call: Callable[[], _T]) -> _T:
    """``call()``, with Slack's refusals and network failures turned into Kotae's errors."""
    try:
        return call()
    except SlackApiError as error:
        status = getattr(error.response, "status_code", 200)
        code = str(error.response.get("error") or "unknown") if status < 500 else ""
        if status >= 500 or status == 429:
            raise SlackUnavailableError(
                f"Slack answered HTTP {status} to {method} at start-up: a problem on Slack's side, "
                f"not in your settings. Check {STATUS_PAGE} and start Kotae again in a few minutes."
            ) from None
        if code in _REFUSED:
            raise SlackAuthError(f"Slack rejected {variable} ({code}): {_FIX[variable]}.") from None
        raise SlackAuthError(
            f"Slack refused {method} for {variable} ({code}): check that {variable} belongs to the "
            "Kotae app created from slack/manifest.yml, then start again."
        ) from None
    except (OSError, ssl.SSLError) as error:  # URLError, refused, DNS, reset, timeout
        host = urlparse(client.base_url).netloc or client.base_url
        raise SlackUnavailableError(
            f"Kotae could not reach Slack at {host} ({_network_reason(error)}). Check this "
            "machine's network, DNS, proxy and firewall (outbound HTTPS to slack.com), and "
            "KOTAE_SLACK_API_URL if it is set."
        ) from None


def _network_reason(error: BaseException) -> str:
    reason: Any = error.reason if isinstance(error, URLError) else error
    if isinstance(reason, socket.gaierror):
        return "name not found"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, ConnectionResetError):
        return "connection reset"
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, ssl.SSLError):
        return f"TLS failed: {reason.reason or reason}"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__
