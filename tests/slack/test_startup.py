"""``kotae serve`` at start-up, as an admin meets it (issue #15): each way Slack can refuse or be
out of reach gets its own one-line message naming what to check, exit code 1, no traceback,
no token; over the HTTP Events API and over Socket Mode, against the stand-in."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.cli import main
from tests.slack.conftest import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET

TRANSPORTS = {
    "http": (["serve", "--http", "--port", "0"], {"SLACK_SIGNING_SECRET": SIGNING_SECRET}),
    "socket": (["serve"], {"SLACK_APP_TOKEN": APP_TOKEN}),
}


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request) -> str:
    return str(request.param)


def _serve(transport: str, api_url: str, monkeypatch, tmp_path: Path, capsys,
           *flags: str) -> tuple[int, str]:
    """``kotae serve`` with the tokens in the environment, as an admin runs it."""
    argv, env = TRANSPORTS[transport]
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "note.md").write_text("# メモ\n\n小さな文書です。\n", encoding="utf-8")
    for name, value in {"SLACK_BOT_TOKEN": BOT_TOKEN, "KOTAE_SLACK_API_URL": api_url,
                        "KOTAE_DOCS": str(docs), "KOTAE_DATA_DIR": str(tmp_path / "data"), **env}.items():
        monkeypatch.setenv(name, value)
    code = main([*argv, *flags])
    return code, capsys.readouterr().err


def _assert_one_clear_line(code: int, err: str) -> str:
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "BoltError" not in err
    assert BOT_TOKEN not in err and APP_TOKEN not in err and SIGNING_SECRET not in err
    assert "disk" not in err and "index folder" not in err
    return lines[0]


def test_revoked_bot_token_names_slack_bot_token(transport, slack, monkeypatch, tmp_path, capsys):
    slack.revoked_tokens.add(BOT_TOKEN)
    line = _assert_one_clear_line(*_serve(transport, slack.api_url, monkeypatch, tmp_path, capsys))
    assert "SLACK_BOT_TOKEN" in line and "invalid_auth" in line
    assert "Reinstall" in line or "reinstall" in line
    assert not slack.recorder.calls("apps.connections.open")


def test_revoked_app_token_names_slack_app_token(slack, monkeypatch, tmp_path, capsys):
    slack.revoked_tokens.add(APP_TOKEN)
    line = _assert_one_clear_line(*_serve("socket", slack.api_url, monkeypatch, tmp_path, capsys))
    assert "SLACK_APP_TOKEN" in line and "SLACK_BOT_TOKEN" not in line
    assert "connections:write" in line


def test_slack_server_error_at_start_up_is_not_called_an_invalid_token(transport, slack, monkeypatch,
                                                                        tmp_path, capsys):
    slack.fail("auth.test", "server_error", status=503, times=10)
    line = _assert_one_clear_line(*_serve(transport, slack.api_url, monkeypatch, tmp_path, capsys))
    assert "503" in line and "status.slack.com" in line
    assert "invalid" not in line and "SLACK_BOT_TOKEN" not in line


def test_transient_server_error_at_start_up_is_retried(slack, monkeypatch, tmp_path, capsys):
    """One 500 from auth.test, then Slack answers: start-up goes on (here it stops at the next
    check, a revoked app token, so the test does not need to serve)."""
    slack.fail("auth.test", "server_error", status=500)
    slack.revoked_tokens.add(APP_TOKEN)
    line = _assert_one_clear_line(*_serve("socket", slack.api_url, monkeypatch, tmp_path, capsys))
    assert "SLACK_APP_TOKEN" in line
    assert [c.status for c in slack.recorder.calls("auth.test")][:2] == [500, 200]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("where", "reason"), [
    ("refused", "connection refused"),
    ("dns", "name not found"),
])
def test_slack_out_of_reach_is_not_called_a_disk_problem(transport, where, reason, monkeypatch,
                                                         tmp_path, capsys):
    host = f"127.0.0.1:{_closed_port()}" if where == "refused" else "kotae-nowhere.invalid"
    line = _assert_one_clear_line(*_serve(transport, f"http://{host}/api/", monkeypatch, tmp_path, capsys))
    assert "could not reach Slack" in line and host in line and reason in line
    assert "KOTAE_SLACK_API_URL" in line and "proxy" in line


def test_http_port_in_use_names_the_port_setting(slack, monkeypatch, tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, err = _serve("http", slack.api_url, monkeypatch, tmp_path, capsys, "--port", str(port))
    line = err.strip().splitlines()[-1]  # after the index build's progress lines
    assert code == 1 and "Traceback" not in err and "index folder" not in err
    assert f"127.0.0.1:{port}" in line and "KOTAE_HTTP_PORT" in line


def test_serve_help_lists_every_slack_setting(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    shown = capsys.readouterr().out
    for variable in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "KOTAE_SLACK_API_URL",
                     "KOTAE_SLACK_CHANNELS", "KOTAE_MAX_PENDING", "KOTAE_USER_RATE"):
        assert variable in shown, variable


def test_the_manifests_admin_guide_exists_and_explains_the_start_up_messages():
    root = Path(__file__).resolve().parents[2]
    manifest = (root / "slack" / "manifest.yml").read_text(encoding="utf-8")
    assert "docs/slack.md" in manifest
    guide = (root / "docs" / "slack.md").read_text(encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    for text in (guide, readme):
        for phrase in ("Slack rejected SLACK_BOT_TOKEN", "Slack rejected SLACK_APP_TOKEN",
                       "could not reach Slack", "status.slack.com", "/invite @Kotae"):
            assert phrase in text, phrase
    for scope in ("app_mentions:read", "chat:write", "connections:write", "commands"):
        assert scope in guide

