"""Soak: a real `kotae serve --http` process answers a steady stream of Slack questions for N
minutes against the local Slack stand-in; its memory and threads are sampled every second.

    python bench/soak.py --minutes 10            # the figure for BENCHMARKS.md
    python bench/soak.py --minutes 1 --rate 4    # a quick look

The bot is the real command (bundled model, bundled corpus). `kotae index` runs first, so the
index is built or brought up to date before the soak (timed separately, not part of it). Questions cycle through a
fixed list, about a tenth of the events are delivered twice (a Slack retry), and every answer
is awaited on the stand-in. Resident memory (VmRSS) and thread count come from
/proc/<pid>/status. Prints a table and writes bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "soak.json"
BOT_TOKEN = "xoxb-0000000000-soak-token"
SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
QUESTIONS = [
    "日本方式の地デジを採用した国は何か国？",
    "WCIT-12はどこで開かれた？",
    "国際戦略の重点分野は？",
    "What did Japan and the US agree on about submarine cables?",
    "日米インターネットエコノミー政策協力対話の成果は？",
    "ITUとは何ですか",
    "海底ケーブルの保護について",
    "Where was WCIT-12 held?",
]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS (KiB), VmHWM (KiB) and Threads of a live process."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM", "Threads"}:
                out[key] = int(value.split()[0])
    return out


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the bot exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the bot did not answer {url} within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to soak (default 10)")
    parser.add_argument("--rate", type=float, default=2.0, help="questions per second (default 2)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="KOTAE_DATA_DIR for the bot (default: a cache folder kept between runs, so the "
                             "index is built once)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS})")
    args = parser.parse_args(argv)

    from bot.slack.standin import EventsSender, StandIn
    from bot.slack.standin import payloads as P

    data_dir = args.data_dir or Path(tempfile.gettempdir()) / "kotae-soak-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="kotae-soak-"))
    with StandIn() as slack:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "KOTAE_"))}
        env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, KOTAE_SLACK_API_URL=slack.api_url,
                   KOTAE_DATA_DIR=str(data_dir), KOTAE_FEEDBACK=str(work / "feedback.jsonl"),
                   HF_HUB_OFFLINE="1")
        log = (work / "bot.log").open("w")
        kotae = shutil.which("kotae", path=str(Path(sys.executable).parent)) or "kotae"
        # Bring the index up to date first (a no-op when it is; a rebuild after a Kotae upgrade).
        indexed = time.monotonic()
        subprocess.run([kotae, "index", "-q"], env=env, cwd=work, check=True, stdout=log, stderr=subprocess.STDOUT)
        index_seconds = time.monotonic() - indexed
        started = time.monotonic()
        bot = subprocess.Popen([kotae, "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
        try:
            wait_healthy(f"http://127.0.0.1:{port}/healthz", bot, timeout=900)
            ready = time.monotonic() - started
            sender = EventsSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, timeout=10)
            result = soak(bot, slack, sender, P, args.minutes, args.rate)
        finally:
            bot.terminate()
            try:
                bot.wait(10)
            except subprocess.TimeoutExpired:
                bot.kill()
            log.close()
    result.update(minutes=args.minutes, rate_per_s=args.rate, ready_seconds=round(ready, 1),
                  index_seconds=round(index_seconds, 1),
                  python=platform.python_version(), machine=platform.machine(), cpus=os.cpu_count(),
                  date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    print_table(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")
    return 0 if result["failed"] == 0 and result["unanswered"] == 0 else 1


def soak(bot: subprocess.Popen, slack, sender, P, minutes: float, rate: float) -> dict:
    samples: list[tuple[float, int, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                s = proc_status(bot.pid)
            except OSError:
                return
            samples.append((time.monotonic(), s["VmRSS"], s["Threads"]))
            stop.wait(1.0)

    # Warm up: the first answers load the model and the index.
    for n in range(3):
        sender.event(P.event_callback(P.message(QUESTIONS[n], channel=f"D0WARM{n:04d}")))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.args.get("channel", "").startswith("D0WARM"), count=3,
                            timeout=300)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    time.sleep(1.1)
    sent_at: dict[str, float] = {}
    failed = duplicates = 0
    begin = time.monotonic()
    end = begin + minutes * 60
    n = 0
    while time.monotonic() < end:
        channel = f"D0SOAK{n:06d}" if n % 2 else f"C0SOAK{n:06d}"
        question = QUESTIONS[n % len(QUESTIONS)]
        user = f"U0SOAK{n % 50:04d}"  # 50 askers, each well under the per-user rate limit
        event = (P.message(question, channel=channel, user=user) if n % 2
                 else P.mention(question, channel=channel, user=user))
        body = P.event_callback(event)
        sent_at[channel] = time.monotonic()
        if sender.event(body).status != 200:
            failed += 1
        if n % 10 == 5:  # a Slack retry of the same event
            duplicates += 1
            if sender.event(body, retry_num=1).status != 200:
                failed += 1
        n += 1
        time.sleep(max(0.0, begin + n / rate - time.monotonic()))
    with contextlib.suppress(TimeoutError):
        slack.recorder.wait_until(lambda calls: len({c.args.get("channel") for c in calls
                                                     if c.method == "chat.postMessage" and c.ok
                                                     and c.args.get("channel") in sent_at}) >= len(sent_at),
                                  timeout=120)
    time.sleep(1.5)
    stop.set()
    sampler.join(5)
    posts: dict[str, list[float]] = {}
    apologies = 0
    for call in slack.recorder.calls("chat.postMessage"):
        channel = call.args.get("channel")
        if call.ok and channel in sent_at:
            posts.setdefault(channel, []).append(call.at)
            if "問題が発生しました" in str(call.args.get("text")) or "went wrong" in str(call.args.get("text")):
                apologies += 1
    latencies = sorted(min(times) - sent_at[ch] for ch, times in posts.items())
    rss = [kib for _, kib, _ in samples]
    threads = [t for _, _, t in samples]
    first_minute = [kib for t, kib, _ in samples if t - samples[0][0] <= 60] or rss
    last_minute = [kib for t, kib, _ in samples if samples[-1][0] - t <= 60] or rss
    return {
        "questions": len(sent_at),
        "duplicate_deliveries": duplicates,
        "answered": len(posts),
        "answered_twice": sum(1 for times in posts.values() if len(times) > 1),
        "unanswered": len(sent_at) - len(posts),
        "apologies": apologies,
        "failed": failed,
        "latency_ms": {"p50": round(1000 * statistics.median(latencies)) if latencies else None,
                       "p95": round(1000 * latencies[int(0.95 * (len(latencies) - 1))]) if latencies else None,
                       "max": round(1000 * latencies[-1]) if latencies else None},
        "rss_mib": {"start": round(rss[0] / 1024, 1), "end": round(rss[-1] / 1024, 1), "max": round(max(rss) / 1024, 1),
                    "first_minute_mean": round(statistics.mean(first_minute) / 1024, 1),
                    "last_minute_mean": round(statistics.mean(last_minute) / 1024, 1)},
        "threads": {"start": threads[0], "end": threads[-1], "max": max(threads)},
        "samples": len(samples),
    }


def print_table(r: dict) -> None:
    lat, rss, th = r["latency_ms"], r["rss_mib"], r["threads"]
    rows = [
        ("duration", f"{r['minutes']:g} min at {r['rate_per_s']:g} questions/s "
                     f"(bot ready after {r['ready_seconds']} s)"),
        ("questions sent", f"{r['questions']} (+{r['duplicate_deliveries']} duplicate deliveries)"),
        ("answered", f"{r['answered']} (twice: {r['answered_twice']}, unanswered: {r['unanswered']}, "
                     f"apologies: {r['apologies']}, rejected: {r['failed']})"),
        ("latency p50 / p95 / max", f"{lat['p50']} / {lat['p95']} / {lat['max']} ms"),
        ("RSS start / end / max", f"{rss['start']} / {rss['end']} / {rss['max']} MiB"),
        ("RSS mean first / last minute", f"{rss['first_minute_mean']} / {rss['last_minute_mean']} MiB"),
        ("threads start / end / max", f"{th['start']} / {th['end']} / {th['max']}"),
    ]
    width = max(len(k) for k, _ in rows)
    print("\nKotae soak (kotae serve --http, real model, Slack stand-in)")
    print("-" * (width + 50))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
