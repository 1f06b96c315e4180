"""`kotae serve` keeps its index fresh by itself: a real server process (the real command line,
HTTP Events API, the fake model) answering a steady stream of Slack questions over the stand-in
while documents are edited, added and deleted. No restart, every question answered exactly once,
the changes served within seconds, and a deleted document never cited once its removal is live."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bot.slack.standin import EventsSender
from bot.slack.standin import payloads as P
from tests.embeddings.helpers import DOCS
from tests.reliability.helpers import ROOT, child_env, write_tree
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET

SERVER = Path(__file__).with_name("server.py")
CHANNEL = "C0FRESH001"
CABLE = "# 海底ケーブル\n\n日米は海底ケーブルの保護で協力する。\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(tmp_path: Path, api_url: str) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    env = child_env()
    env.update({
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "KOTAE_SLACK_API_URL": api_url,
        "KOTAE_DOCS": str(tmp_path / "docs"), "KOTAE_INDEX": str(tmp_path / "index"),
        "KOTAE_DATA_DIR": str(tmp_path / "data"), "KOTAE_USER_RATE": "0", "KOTAE_ABSTAIN_THRESHOLD": "-10",
        "KOTAE_HTTP_PORT": str(port), "XDG_DATA_HOME": str(tmp_path / "xdg"),
    })
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, str(SERVER), "serve", "--http"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=log, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        if "watching" in (tmp_path / "serve.log").read_text():
            return proc, url + "/slack/events"
        time.sleep(0.1)
    raise AssertionError("the server did not start: " + (tmp_path / "serve.log").read_text())


class Asker:
    """Sends mentions and finds the one reply to each in the stand-in's record."""

    def __init__(self, sender: EventsSender, slack) -> None:
        self.sender, self.slack = sender, slack
        self.sent: list[tuple[str, str, float]] = []  # (thread ts, question, when sent)
        self._n = 0
        self._lock = threading.Lock()

    def ask(self, question: str) -> str:
        with self._lock:
            self._n += 1
            n = self._n
        event = P.mention(f"{question} #{n}", channel=CHANNEL)
        with self._lock:
            self.sent.append((event["ts"], question, time.monotonic()))
        assert self.sender.event(P.event_callback(event)).status == 200
        return event["ts"]

    def replies(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for call in self.slack.recorder.calls("chat.postMessage"):
            if call.args.get("channel") == CHANNEL:
                text = json.dumps(call.args.get("blocks"), ensure_ascii=False)
                out.setdefault(call.args.get("thread_ts") or "", []).append(text)
        return out

    def reply_to(self, ts: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.replies().get(ts)
            if texts:
                return texts[0]
            time.sleep(0.05)
        raise AssertionError(f"no reply to {ts}")

    def until(self, question: str, predicate, timeout: float = 30.0) -> float:
        """Ask ``question`` again and again until a reply satisfies ``predicate``; the seconds
        that took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if predicate(self.reply_to(self.ask(question))):
                return time.monotonic() - started
            time.sleep(0.2)
        raise AssertionError(f"{question!r}: the change was not served within {timeout} s")


def test_edit_add_and_delete_while_serving(slack, tmp_path: Path):
    write_tree(tmp_path / "docs", DOCS)
    proc, url = _start(tmp_path, slack.api_url)
    asker = Asker(EventsSender(url, SIGNING_SECRET), slack)
    stop = threading.Event()
    try:
        assert "weather.txt" in asker.reply_to(asker.ask("今日の天気は晴れ"))

        def steady() -> None:  # a stream of questions throughout the changes
            questions = ["WCIT-12はどこで開かれた？", "今日の天気は晴れ", "海底ケーブルの保護", "日本方式を採用した国"]
            i = 0
            while not stop.is_set():
                asker.ask(questions[i % len(questions)])
                i += 1
                time.sleep(0.05)

        stream = threading.Thread(target=steady)
        stream.start()
        time.sleep(0.5)
        (tmp_path / "docs" / "weather.txt").unlink()
        (tmp_path / "docs" / "sub").mkdir()
        (tmp_path / "docs" / "sub" / "cable.md").write_text(CABLE, encoding="utf-8")
        itu = DOCS["itu.txt"].replace("ドバイ", "アラブ首長国連邦のドバイ")
        (tmp_path / "docs" / "itu.txt").write_text(itu, encoding="utf-8")
        changed_at = time.monotonic()

        added = asker.until("海底ケーブルの保護", lambda text: "sub/cable.md" in text)
        live_after = time.monotonic()  # the new version answers from here on
        edited = asker.until("WCIT-12はどこで開かれた？", lambda text: "アラブ首長国連邦" in text)
        time.sleep(1.0)
        stop.set()
        stream.join(30)
        last = asker.ask("今日の天気は晴れ")
        assert "weather.txt" not in asker.reply_to(last)
        assert added < 15 and edited < 15, (added, edited)

        deadline = time.monotonic() + 60
        while len(asker.replies()) < len(asker.sent) and time.monotonic() < deadline:
            time.sleep(0.1)
        replies = asker.replies()
        assert proc.poll() is None  # never restarted
    finally:
        stop.set()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)
    log = (tmp_path / "serve.log").read_text()
    assert code == 0, log
    assert len(asker.sent) > 20
    for ts, question, when in asker.sent:
        assert len(replies.get(ts, [])) == 1, (question, replies.get(ts))  # none failed, none doubled
        text = replies[ts][0]
        assert "問題が発生しました" not in text and "went wrong" not in text.lower(), text
        if when >= live_after:
            assert "weather.txt" not in text, (question, text)
    assert time.monotonic() - changed_at < 120
    # Logged: what changed, how long, which version serves.
    assert "documents changed" in log and "weather.txt (deleted)" in log
    refreshed = [line for line in log.splitlines() if " refreshed " in line]
    assert refreshed and "added: sub/cable.md" in refreshed[0] and "removed: weather.txt" in refreshed[0]
    assert refreshed[0].split("serving version ")[1].strip() in log.split(refreshed[0])[1]  # then served
    assert os.path.isdir(tmp_path / "index")
