"""The command line facing hostile and unlucky input (issue #17): a closed pipe, an unreachable
network, escape sequences in documents and file names, a mistyped documents folder, a question
longer than the command line allows, a umask of 000, an AES-encrypted PDF. Each ends in a clear
message or the answer, never a traceback, a hang or a misleading sentence.

The commands run as real processes (``python -c`` over :func:`bot.cli.main`) with the fake
embedder in place of the bundled model, so each takes a second."""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import bot.cli
import embeddings
import embeddings.refresh as refresh
from bot.oserrors import describe_os_error
from bot.slack.feedback import FeedbackEntry, FeedbackLog
from knowledge.terminal import json_for_terminal, printable
from tests.embeddings.helpers import build
from tests.fakes import FakeEmbedder, FakeEmbedderFactory
from tests.reliability.helpers import DOCS_V2, ROOT, child_env, write_tree

RUNNER = """
import sys
import embeddings, embeddings.refresh as refresh
from tests.fakes import FakeEmbedder, FakeEmbedderFactory
refresh.DefaultEmbedderFactory = FakeEmbedderFactory
embeddings.embedder_id = FakeEmbedderFactory().embedder_id
embeddings.load_embedder = lambda model, **_: FakeEmbedder()
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""
# What a terminal would obey: C0 controls but the line feed, DEL, C1 controls (8-bit CSI, OSC).
OBEYED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
ESCAPES = {
    "window title": "\x1b]0;pwned\x07",
    "clear screen": "\x1b[2J\x1b[H",
    "OSC 8 link": "\x1b]8;;https://evil.example/\x1b\\here\x1b]8;;\x1b\\",
    "8-bit CSI": "\x9b31m",
    "carriage return": "\rOVERWRITTEN",
}


def kotae(*args: str, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    env = {**child_env(), "KOTAE_ABSTAIN_THRESHOLD": "-10"}
    return subprocess.run([sys.executable, "-c", RUNNER, *args], input=stdin, capture_output=True, env=env,
                          cwd=ROOT, timeout=timeout, check=False)


def _assert_no_traceback(err: str) -> None:
    assert "Traceback" not in err and "Exception ignored" not in err, err


@pytest.fixture
def indexed(tmp_path) -> tuple[Path, Path]:
    docs, index = write_tree(tmp_path / "docs", DOCS_V2), tmp_path / "index"
    build(docs, index, FakeEmbedderFactory())
    return docs, index


# -- a closed pipe ---------------------------------------------------------------------------
@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_a_reader_that_goes_away_ends_the_command_quietly(indexed, mode):
    """`kotae ask … | head -0`: the pipe is closed before the answer is written."""
    docs, index = indexed
    env = {**child_env(), "KOTAE_ABSTAIN_THRESHOLD": "-10"}
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, "ask", *mode, "ボツワナ", "--docs", str(docs),
                             "--index", str(index)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    code = proc.wait(60)
    _assert_no_traceback(err)
    assert "index folder" not in err and "disk" not in err, err
    assert code in (0, 141), (code, err)


# -- the network -----------------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(60)
def test_a_network_failure_is_named_as_one_not_as_a_full_disk(tmp_path, monkeypatch, capsys):
    """What reaches the command line's fallback when a connection is refused (a real one)."""
    import bot.slack.cli

    url = f"http://127.0.0.1:{_closed_port()}/api/auth.test"
    monkeypatch.setattr(bot.slack.cli, "run_serve", lambda args, settings: urllib.request.urlopen(url, timeout=5))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    code = bot.cli.main(["serve", "--index", str(tmp_path / "index"), "--docs", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "network" in err and "refused" in err.lower(), err
    assert "index folder" not in err and "disk space" not in err, err


@pytest.mark.parametrize(
    ("exc", "says", "never"),
    [
        (urllib.error.URLError(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")), "network",
         "disk space"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "network", "disk space"),
        (TimeoutError("timed out"), "network", "disk space"),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "network", "disk space"),
        (OSError(errno.ENOSPC, "No space left on device"), "Free disk space", "network"),
        (OSError(errno.ENOSPC, "No space left on device", "/idx/versions/x.tmp/vectors.npy"),
         "the previous index is untouched", "network"),
        (PermissionError(errno.EACCES, "Permission denied", "/elsewhere/feedback.jsonl"), "Check its permissions",
         "index folder"),
        (OSError(errno.EIO, "Input/output error", "/docs/\x1b]0;title\x07.txt"), "could not use", "\x1b"),
    ],
)
def test_each_operating_system_error_gets_its_own_sentence(exc, says, never):
    message = describe_os_error(exc, Path("/idx"))
    assert says in message and never not in message, message


# -- escape sequences from documents and file names --------------------------------------------
def _hostile_folder(docs: Path) -> str:
    """Documents whose text, title and file name carry escape sequences; returns the odd name."""
    name = "evil\x1b]0;pwned\x07\nsecond line.txt"
    body = "".join(f"第{n}の{seq}段落：ボツワナが日本方式を採用した。\n" for n, seq in enumerate(ESCAPES.values()))
    (docs / name).write_text("ボツワナの採用\x1b[2J\n\n" + body, encoding="utf-8")
    (docs / "kotae-metadata.yaml").write_text(
        'isdb.txt:\n  title: "題名\\e]8;;https://evil.example/\\e\\\\リンク\\e]8;;\\e\\\\\\x9b2J"\n', encoding="utf-8"
    )
    (docs / "broken\x1b[2J.pdf").write_bytes(b"not a pdf\x1b]0;x\x07")
    return name


@pytest.mark.timeout(180)
def test_escape_sequences_are_shown_not_obeyed_and_json_keeps_them_exact(tmp_path):
    docs, index = write_tree(tmp_path / "docs", DOCS_V2), tmp_path / "index"
    name = _hostile_folder(docs)
    built = kotae("index", str(docs), "--index", str(index), "-q")
    err = built.stderr.decode()
    assert built.returncode == 0, err
    assert "broken\\x1b[2J.pdf" in err  # the problem report names the file, visibly
    assert not OBEYED.search(err), err

    for question in ("ボツワナが日本方式を採用した", "題名リンク"):
        text = kotae("ask", question, "--docs", str(docs), "--index", str(index))
        as_json = kotae("ask", "--json", question, "--docs", str(docs), "--index", str(index))
        assert text.returncode == 0 == as_json.returncode, text.stderr.decode() + as_json.stderr.decode()
        shown = text.stdout.decode()
        assert not OBEYED.search(shown), shown
        assert not OBEYED.search(as_json.stdout.decode())
        result = json.loads(as_json.stdout)
        # One line per citation, even for the file name with a newline in it.
        cited = [line for line in shown.splitlines() if re.match(r"  \[\d+\] ", line)]
        assert len(cited) == len(result["quotes"]) + len(result["citations"]), shown
        sources = {c["source"] for c in result["citations"]} | {p["source"] for p in result["passages"]}
        if name in sources:
            assert printable(name) in shown
    # --json is exact: the file name and the text come back as they are on disk.
    result = json.loads(kotae("ask", "--json", "段落", "--docs", str(docs), "--index", str(index)).stdout)
    passage = next(p for p in result["passages"] if p["source"] == name)
    assert passage["text"] in (docs / name).read_bytes().decode("utf-8")
    assert any(seq in passage["text"] for seq in ESCAPES.values())


def test_printable_shows_every_control_and_keeps_ordinary_text():
    assert printable("国際戦略 ITU (2013) — «ok»\u3000") == "国際戦略 ITU (2013) — «ok»\u3000"
    for seq in ESCAPES.values():
        assert not OBEYED.search(printable(seq))
    assert printable("a\nb\tc\r") == "a b c "
    assert printable("\u202eevil") == "\\u202eevil"
    value = {"t": "".join(ESCAPES.values()) + "\u2028\u202e"}
    dumped = json_for_terminal(value)
    assert json.loads(dumped) == value and not OBEYED.search(dumped) and "\u202e" not in dumped


# -- folders -------------------------------------------------------------------------------------
@pytest.fixture
def fake_model(monkeypatch):
    import logging

    monkeypatch.setattr(refresh, "DefaultEmbedderFactory", FakeEmbedderFactory)
    monkeypatch.setattr(embeddings, "embedder_id", FakeEmbedderFactory().embedder_id)
    monkeypatch.setattr(embeddings, "load_embedder", lambda model, **_: FakeEmbedder())
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.timeout(60)
def test_asking_with_a_missing_documents_folder_creates_nothing(tmp_path, fake_model, capsys):
    index = tmp_path / "deep" / "index"
    code = bot.cli.main(["ask", "ボツワナ", "--docs", str(tmp_path / "no-such-docs"), "--index", str(index)])
    err = capsys.readouterr().err
    assert code == 1
    assert "no-such-docs" in err and "does not exist" in err, err
    assert not (tmp_path / "deep").exists()


@pytest.mark.timeout(60)
def test_feedback_log_folders_are_owner_only_whatever_the_umask(tmp_path):
    log = FeedbackLog(tmp_path / "a" / "b" / "feedback.jsonl")
    entry = FeedbackEntry("2026-01-01T00:00:00+00:00", "up", "U1", "C1", "1.2", "a1", "質問", "v1", ("isdb.txt",))
    old = os.umask(0)
    try:
        log.record(entry)
    finally:
        os.umask(old)
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, oct(folder.stat().st_mode)
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert log.entries()[0]["question"] == "質問"


# -- a question longer than the command line allows ----------------------------------------------
@pytest.mark.timeout(120)
def test_a_question_over_128_kib_is_read_from_standard_input(indexed):
    docs, index = indexed
    question = "ボツワナが日本方式を採用したのはいつですか。" * 4000  # 264 KB of UTF-8: over the argv limit
    assert len(question.encode()) > 128 * 1024
    out = kotae("ask", "--json", "-", "--docs", str(docs), "--index", str(index), stdin=question.encode())
    assert out.returncode == 0, out.stderr.decode()
    result = json.loads(out.stdout)
    assert len(result["question"]) >= 1000 and question.startswith(result["question"])  # its beginning is echoed
    assert any("ボツワナ" in p["text"] for p in result["passages"])


@pytest.mark.timeout(120)
def test_standard_input_is_read_only_up_to_the_limit(indexed):
    docs, index = indexed
    out = kotae("ask", "-", "--docs", str(docs), "--index", str(index), stdin=b"a" * (bot.cli.QUESTION_BYTES + 1))
    err = out.stderr.decode()
    assert out.returncode == 1
    assert "longer than 1024 KiB" in err and "first 1,000 characters" in err, err
    _assert_no_traceback(err)
    bad = kotae("ask", "-", "--docs", str(docs), "--index", str(index), stdin=b"\xff\xfe question")
    assert bad.returncode == 1 and "not UTF-8" in bad.stderr.decode()


def test_ask_help_says_how_to_pass_a_long_question():
    text = bot.cli.build_parser()._subparsers._group_actions[0].choices["ask"].format_help()  # type: ignore[union-attr]
    assert "- reads it from standard input" in " ".join(text.split())
