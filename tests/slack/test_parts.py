"""Unit tests of the small parts: de-duplication, feedback log, payload parsing, preview, CLI."""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from bot.reply import Quote
from bot.settings import Secret, Settings
from bot.slack.blocks import render_reply
from bot.slack.cli import add_serve_parser, run_serve
from bot.slack.dedup import SeenKeys
from bot.slack.feedback import FeedbackEntry, FeedbackLog
from bot.slack.handlers import Policy
from bot.slack.labels import guess_language
from bot.slack.local import run_local
from bot.slack.preview import readable
from bot.slack.questions import clean_question, is_ignorable_message, where_from_body
from knowledge.errors import ConfigError
from tests.slack.fakes import FakeAnswerer, reply_for


def test_seen_keys_admit_exactly_one_of_many_concurrent_callers():
    seen = SeenKeys()
    barrier = threading.Barrier(16)
    results: list[bool] = []
    lock = threading.Lock()

    def claim() -> None:
        barrier.wait()
        first = seen.first_time("event:Ev1")
        with lock:
            results.append(first)

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1 and len(results) == 16


def test_seen_keys_expire_after_ttl_and_stay_bounded():
    now = [0.0]
    seen = SeenKeys(ttl=10, max_keys=3, clock=lambda: now[0])
    assert seen.first_time("a") and not seen.first_time("a")
    now[0] = 11
    assert seen.first_time("a")
    for key in "bcdef":
        seen.first_time(key)
    assert len(seen) <= 3


def test_feedback_log_appends_with_owner_only_permissions(tmp_path):
    log = FeedbackLog(tmp_path / "sub" / "feedback.jsonl")
    entry = FeedbackEntry("2025-01-01T00:00:00+00:00", "up", "U1", "C1", "1.2", "abc", "質問",
                          "v1", ("a.txt#L1-2",))
    log.record(entry)
    log.record(FeedbackEntry(**{**entry.__dict__, "vote": "down"}))
    assert [e["vote"] for e in log.entries()] == ["up", "down"]
    assert log.entries()[0]["question"] == "質問"
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600


def test_payload_parsing():
    assert clean_question("<@UBOT> 国際戦略は？ <@UBOT|kotae>", "UBOT") == "国際戦略は？"
    assert clean_question("<@UOTHER> hi", "UBOT") == "<@UOTHER> hi"
    assert is_ignorable_message({"user": "U1", "subtype": "message_changed"}, "UBOT")
    assert is_ignorable_message({"user": "UBOT"}, "UBOT")
    assert is_ignorable_message({"user": "U1", "bot_id": "B1"}, "UBOT")
    assert not is_ignorable_message({"user": "U1", "text": "q"}, "UBOT")
    assert not is_ignorable_message({"user": "U1", "subtype": "thread_broadcast"}, "UBOT")
    where = where_from_body({"event": {"channel": "C1", "user": "U1", "ts": "1.0",
                                       "thread_ts": "0.5"}})
    assert where is not None and where.thread_ts == "0.5" and not where.is_dm
    assert where_from_body({"channel_id": "D1", "user_id": "U1"}).is_dm  # type: ignore[union-attr]
    assert guess_language("What?") == "en" and guess_language("WCIT-12とは？") == "ja"


def test_policy_allowlist_always_allows_direct_messages():
    policy = Policy(channels=frozenset({"C1"}))
    assert policy.allows("C1") and policy.allows("D9") and not policy.allows("C2")
    assert Policy().allows("C2")


def test_readable_preview_shows_what_slack_would():
    message = render_reply(reply_for("Strategy?", quotes=(Quote("A <!here> & B.", 1),)))
    text = readable(message.blocks_list())
    assert "│ A <!here> & B.  [1]" in text and "Sources" in text
    assert "Japan-US Digital Economy Dialogue (https://www.soumu.go.jp/press?id=1&lang=en)" in text
    assert "[ 👍 Helpful ]" in text


def test_local_demo_prints_block_kit_json_and_a_readable_rendering(tmp_path):
    settings = Settings(docs_dir=tmp_path, index_dir=tmp_path, data_dir=tmp_path,
                        feedback_path=tmp_path / "f.jsonl")
    out = io.StringIO()
    assert run_local(settings, FakeAnswerer(), io.StringIO("What is WCIT?\n/ask 国際戦略は？\n\n"),
                     out, timeout=10) == 0
    text = out.getvalue()
    first = json.loads(text.split("── Block Kit JSON " + "─" * 40 + "\n")[1].split("\n── ")[0])
    assert first["channel"] == "D0LOCALDM1" and first["blocks"][0]["type"] == "section"
    assert "Sources" in text and "出典" in text and '"response_type": "ephemeral"' in text


def _serve_args(**given) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_serve_parser(parser.add_subparsers(dest="command"))
    args = ["serve"] + [x for k, v in given.items() for x in ([f"--{k}"] if v is True else [f"--{k}", str(v)])]
    return parser.parse_args(args)


@pytest.mark.parametrize(("tokens", "flags", "variable"), [
    ({}, {}, "SLACK_BOT_TOKEN"),
    ({"slack_bot_token": "xoxb-0000000000-abc", "slack_app_token": "oops"}, {}, "SLACK_APP_TOKEN"),
    ({"slack_bot_token": "xoxb-0000000000-abc", "slack_app_token": "xapp-1-0000000000"},
     {"http": True}, "SLACK_SIGNING_SECRET"),
    ({"slack_bot_token": "not-a-token"}, {}, "SLACK_BOT_TOKEN"),
])
def test_serve_fails_at_start_naming_the_variable(tmp_path, tokens, flags, variable):
    settings = Settings(docs_dir=tmp_path, index_dir=tmp_path, data_dir=tmp_path,
                        **{k: Secret(v) for k, v in tokens.items()})
    with pytest.raises(ConfigError, match=variable) as raised:
        run_serve(_serve_args(**flags), settings, service=FakeAnswerer())
    for secret in tokens.values():
        assert secret not in str(raised.value)


def test_serve_flags_parse():
    args = _serve_args(http=True, port=8080, host="0.0.0.0")
    assert (args.http, args.port, args.host, args.local) == (True, 8080, "0.0.0.0", False)


def test_no_module_reads_the_environment_or_builds_an_app_at_import():
    root = Path(__file__).resolve().parents[2] / "bot" / "slack"
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "os.environ" not in source and "getenv" not in source, path
        assert "\napp = App(" not in source, path


def test_manifest_matches_what_the_app_uses():
    import yaml

    root = Path(__file__).resolve().parents[2]
    manifest = yaml.safe_load((root / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "assistant:write", "chat:write", "commands", "reactions:write",
            "channels:history", "groups:history", "im:history"} <= scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels", "assistant_thread_started"} <= events
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/ask"]
    assert "assistant_view" in manifest["features"]
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
