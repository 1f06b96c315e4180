"""Security: signed requests only, secrets never shown, the channel allowlist and private answers
honoured by every entry point, owner-only files, no pickle, no host paths in Slack."""

from __future__ import annotations

import json
import os
import re
import stat
import time
from pathlib import Path

import pytest

from bot.settings import Secret, Settings
from bot.slack.app import build_app
from bot.slack.blocks import ACTION_FEEDBACK_UP, ACTION_POST_TO_CHANNEL
from bot.slack.feedback import FeedbackEntry, FeedbackLog
from bot.slack.serving import socket_mode_handler
from bot.slack.standin import payloads as P
from knowledge.errors import ConfigError
from tests.embeddings.helpers import build
from tests.fakes import FakeEmbedderFactory
from tests.reliability.helpers import DOCS_V2, ROOT, write_tree
from tests.slack.conftest import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, make_settings
from tests.slack.fakes import FakeAnswerer, in_channel

# Text that only an answer carries (from tests.slack.fakes.reply_for): its presence anywhere means
# document text reached Slack.
DOC_TEXT = ("我が国の国際戦略", "trusted digital economy", "情報通信白書", "whitepaper-2013")


def _leaks_document_text(calls) -> list[str]:
    dumped = [json.dumps(c.args, ensure_ascii=False) for c in calls]
    return [d[:120] for d in dumped if any(t in d for t in DOC_TEXT)]


# -- HTTP request verification ---------------------------------------------------------------
def test_requests_without_a_valid_fresh_signature_never_reach_the_bot(http_bot, slack):
    bot = http_bot()
    body = json.dumps(P.event_callback(P.mention("署名？", channel="C0SIGNED01")))
    now = int(time.time())
    attacks = {
        "garbage signature": dict(signature="-"),
        "other scheme": dict(signature="v1=" + "a" * 64),
        "future timestamp": dict(timestamp=now + 6 * 60),
        "stale timestamp": dict(timestamp=now - 6 * 60),
    }
    for name, options in attacks.items():
        sent = bot.sender.raw(body, "application/json", **options)
        assert sent.status == 401, name
    # A signature made for another body (the body was tampered with in transit).
    signed_for = json.dumps(P.event_callback(P.mention("無害", channel="C0SIGNED01")))
    stamp = str(now)
    signature = bot.sender._verifier.generate_signature(timestamp=stamp, body=signed_for)
    assert bot.sender.raw(body, "application/json", timestamp=now, signature=signature).status == 401
    # Unsigned slash command and button click.
    url = slack.response_url("sig")
    assert bot.sender.form(P.slash_command("署名？", url), signature="v0=" + "1" * 64).status == 401
    assert bot.sender.form(P.form_of(P.block_action(ACTION_FEEDBACK_UP, "{}", url)),
                           signature="v0=" + "2" * 64).status == 401
    time.sleep(0.3)
    assert bot.service.questions == []
    assert not slack.recorder.calls("chat.postMessage") and not slack.recorder.calls("response_url")


def test_a_malformed_timestamp_is_rejected_without_posting_anything(http_bot, slack):
    import urllib.error
    import urllib.request

    bot = http_bot()
    body = json.dumps(P.event_callback(P.mention("署名？", channel="C0ATTACK01", ts="123.456")))
    request = urllib.request.Request(bot.sender.url, data=body.encode(), method="POST", headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": "yesterday",
        "X-Slack-Signature": "v0=" + "0" * 64})
    try:
        status = urllib.request.urlopen(request, timeout=5).status
    except urllib.error.HTTPError as error:
        status = error.code
    time.sleep(0.5)
    posted = [c for c in slack.recorder.calls() if c.args.get("channel") == "C0ATTACK01"]
    assert posted == [], "an unverified request made the bot post"
    assert status == 401


def test_a_replayed_valid_request_is_answered_once(http_bot, slack):
    bot = http_bot()
    body = P.event_callback(P.mention("再送？", channel="C0REPLAY01"))
    raw = json.dumps(body)
    stamp = int(time.time())
    signature = bot.sender._verifier.generate_signature(timestamp=str(stamp), body=raw)
    for _ in range(3):
        assert bot.sender.raw(raw, "application/json", timestamp=stamp, signature=signature).status == 200
    slack.recorder.wait_for("reactions.remove", in_channel("C0REPLAY01"))
    time.sleep(0.2)
    assert len(slack.recorder.calls("chat.postMessage")) == 1 and bot.service.questions == ["再送？"]


# -- secrets ---------------------------------------------------------------------------------
def _secret_fragments() -> list[str]:
    return [BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, BOT_TOKEN.split("-", 1)[1], SIGNING_SECRET[:16]]


def test_tokens_and_secrets_never_appear_in_logs_errors_or_replies(http_bot, slack, standin, logs, capfd, tmp_path):
    """A full run — HTTP and Socket Mode, answers, a failing answerer, Slack errors, 429s, forged
    requests — with every logger at DEBUG; then grep everything captured for the secrets."""
    service = FakeAnswerer()
    bot = http_bot(service)
    bot.sender.event(P.event_callback(P.mention("ログ？", channel="C0SECRET01")))
    slack.recorder.wait_for("reactions.remove", in_channel("C0SECRET01"))
    slack.fail("chat.postMessage", status=429, retry_after=0)
    bot.sender.event(P.event_callback(P.message("制限？", channel="D0SECRET01")))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.ok and c.args["channel"] == "D0SECRET01")
    slack.fail("chat.postMessage", "invalid_auth")
    bot.sender.event(P.event_callback(P.message("認証？", channel="D0SECRET02")))
    logs.wait_for("listener failed")
    service.fail_with = RuntimeError(f"boom while holding {Secret(BOT_TOKEN)}")
    bot.sender.event(P.event_callback(P.message("失敗？", channel="D0SECRET03")))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == "D0SECRET03")
    bot.sender.event(P.event_callback(P.mention("偽造", channel="C0SECRET02")), signature="v0=" + "0" * 64)
    service.fail_with = None
    # Socket Mode: connect with the app token, answer one event, disconnect.
    settings = make_settings(standin, tmp_path / "sock")
    handler = socket_mode_handler(build_app(settings, service, mode="socket"), APP_TOKEN)
    handler.connect()
    standin.wait_connected()
    standin.wait_ack(standin.push(P.event_callback(P.message("ソケット？", channel="D0SECRET04"))))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == "D0SECRET04")
    handler.close()
    # Configuration errors about malformed secrets.
    for env in ({"SLACK_BOT_TOKEN": "xoxp-" + BOT_TOKEN}, {"SLACK_SIGNING_SECRET": SIGNING_SECRET + "zz"},
                {"SLACK_APP_TOKEN": "xoxb" + APP_TOKEN}):
        loaded = Settings.load(env={"KOTAE_DATA_DIR": str(tmp_path), **env})
        for check in (loaded.require_bot_token, loaded.require_signing_secret, loaded.require_app_token):
            try:
                check()
            except ConfigError as error:
                logs.lines.append(str(error))
        logs.lines.append(repr(loaded))
    out, err = capfd.readouterr()
    replies = [json.dumps(c.args, ensure_ascii=False) for c in slack.recorder.calls()
               if c.method not in {"auth.test", "apps.connections.open"}]
    everything = "\n".join([*logs.lines, out, err, *replies])
    assert len(logs.lines) > 20  # the DEBUG logs of slack_sdk and Bolt were captured
    leaked = [s for s in _secret_fragments() if s in everything]
    assert leaked == [], [line for line in everything.splitlines() if any(s in line for s in leaked)][:5]


# -- allowlist and private answers -----------------------------------------------------------
def test_channel_not_allowed_gets_no_answer_and_no_document_text_at_any_entry_point(http_bot, slack):
    bot = http_bot(slack_channels=frozenset({"C0ALLOWED1"}), slack_mention_only=False)
    no = "C0NOTALLOW"
    thread = slack.add_message(no, "前の質問", user="U0ASKER01")
    slack.add_message(no, "前の回答", user="U0KOTAEBOT", thread_ts=thread, bot=True)
    url = slack.response_url("not-allowed")
    value = json.dumps({"q": "国際戦略は？", "a": "x", "v": "v1", "s": []})
    requests = [
        bot.sender.event(P.event_callback(P.mention("国際戦略は？", channel=no))),
        bot.sender.event(P.event_callback(P.message("続きは？", channel=no, channel_type="channel",
                                                    thread_ts=thread))),
        bot.sender.form(P.slash_command("国際戦略は？", url, channel=no)),
        bot.sender.form(P.form_of(P.block_action(ACTION_POST_TO_CHANNEL, value, url, channel=no, ephemeral=True))),
    ]
    assert all(r.status == 200 for r in requests)
    assert "このチャンネルでは回答できません" in json.loads(requests[2].body)["text"]  # /ask says why, privately
    slack.recorder.wait_for("chat.postEphemeral", in_channel(no))  # the mention's "not here" note
    time.sleep(0.5)
    calls = slack.recorder.calls()
    assert bot.service.questions == []
    assert _leaks_document_text(calls) == []
    assert not [c for c in calls if c.method == "chat.postMessage" and c.args.get("channel") == no]
    # A DM and an allowed channel are still answered.
    bot.sender.event(P.event_callback(P.message("DMは？", channel="D0ALLOWDM1")))
    bot.sender.event(P.event_callback(P.mention("ここは？", channel="C0ALLOWED1")))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] in {"D0ALLOWDM1", "C0ALLOWED1"}, count=2)


def test_private_setting_keeps_every_answer_ephemeral(http_bot, slack):
    service = FakeAnswerer()
    bot = http_bot(service, slack_private=True, slack_mention_only=False)
    ch = "C0PRIVATE1"
    thread = slack.add_message(ch, "前の質問")
    slack.add_message(ch, "前の回答", user="U0KOTAEBOT", thread_ts=thread, bot=True)
    url = slack.response_url("private-ask")
    value = json.dumps({"q": "国際戦略は？", "a": "x", "v": "v1", "s": []})
    bot.sender.event(P.event_callback(P.mention("国際戦略は？", channel=ch)))
    bot.sender.event(P.event_callback(P.message("続きは？", channel=ch, channel_type="channel", thread_ts=thread)))
    bot.sender.form(P.slash_command("国際戦略は？", url, channel=ch))
    bot.sender.form(P.form_of(P.block_action(ACTION_POST_TO_CHANNEL, value, url, channel=ch, ephemeral=True)))
    service.fail_with = RuntimeError("boom")
    bot.sender.event(P.event_callback(P.mention("失敗は？", channel=ch)))
    slack.recorder.wait_for("chat.postEphemeral", in_channel(ch), count=3, timeout=15)
    slack.recorder.wait_for("response_url", lambda c: c.args.get("_key") == "private-ask")
    time.sleep(0.5)
    assert [c for c in slack.recorder.calls("chat.postMessage") if c.args.get("channel") == ch] == []
    ask = next(c for c in slack.recorder.calls("response_url") if c.args.get("_key") == "private-ask" and
               c.args.get("blocks"))
    assert ACTION_POST_TO_CHANNEL not in json.dumps(ask.args["blocks"])  # no "post to channel" button
    assert ask.args["response_type"] == "ephemeral"


# -- files -----------------------------------------------------------------------------------
def _modes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): oct(stat.S_IMODE(os.lstat(p).st_mode))
            for p in [root, *root.rglob("*")] if not p.is_symlink()}


@pytest.fixture
def permissive_umask():
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_index_lock_and_feedback_files_are_owner_only_even_with_umask_0(tmp_path, permissive_umask):
    index = tmp_path / "data" / "indexes" / "docs-1234"
    build(write_tree(tmp_path / "docs", DOCS_V2), index, FakeEmbedderFactory())
    wrong = {p: m for p, m in _modes(index).items() if m != ("0o700" if (index / p).is_dir() else "0o600")}
    assert wrong == {}
    log = FeedbackLog(tmp_path / "data" / "feedback.jsonl")
    log.record(FeedbackEntry("t", "up", "U1", "C1", "1.0", "a", "q", "v", ()))
    assert oct(stat.S_IMODE(log.path.stat().st_mode)) == "0o600"


def test_folders_created_for_the_index_are_not_world_writable(tmp_path, permissive_umask):
    index = tmp_path / "data" / "indexes" / "docs-1234"
    build(write_tree(tmp_path / "docs", DOCS_V2), index, FakeEmbedderFactory())
    for folder in (tmp_path / "data", tmp_path / "data" / "indexes"):
        assert not stat.S_IMODE(folder.stat().st_mode) & 0o022, (folder, oct(folder.stat().st_mode))


# -- nothing unpickled -----------------------------------------------------------------------
def test_nothing_is_unpickled_or_unsafely_loaded():
    risky = re.compile(r"\bpickle\b|allow_pickle\s*=\s*True|torch\.load\(|joblib|yaml\.load\(|yaml\.unsafe_load"
                       r"|\bmarshal\.loads|\bshelve\b|\beval\(|\bexec\(")
    found = []
    for package in ("knowledge", "embeddings", "bot"):
        for path in (ROOT / package).rglob("*.py"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if risky.search(code) and "no pickle" not in line.lower():
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
                if re.search(r"np\.load\(", code) and "allow_pickle=False" not in code:
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []


# -- no host paths in Slack ------------------------------------------------------------------
@pytest.mark.model
def test_citations_carry_relative_paths_only(http_bot, slack, answer_service):
    bot = http_bot(answer_service)
    questions = ["WCIT-12はどこで開かれた？", "日本方式を採用した国は何か国？", "What did Japan and the US agree on?"]
    for n, q in enumerate(questions):
        bot.sender.event(P.event_callback(P.mention(q, channel=f"C0PATHS{n:03d}")))
        bot.sender.form(P.slash_command(q, slack.response_url(f"paths{n}"), channel=f"C0PATHS{n:03d}"))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.args.get("channel", "").startswith("C0PATHS"),
                            count=len(questions), timeout=60)
    slack.recorder.wait_for("response_url", lambda c: c.args.get("_key", "").startswith("paths") and
                            c.args.get("blocks"), count=len(questions), timeout=60)
    dumped = "\n".join(json.dumps(c.args, ensure_ascii=False) for c in slack.recorder.calls())
    host = [str(answer_service.settings.docs_dir), str(answer_service.settings.index_dir), str(ROOT), "/tmp/",
            "/root", "/home/", "site-packages"]
    assert [h for h in host if h in dumped] == []
    for _ in questions:
        reply = answer_service.answer(_)
        assert all(not c.source.startswith(("/", "..")) and ":" not in c.source for c in reply.citations)
        assert all(not p.source.startswith(("/", "..")) for p in reply.passages)
