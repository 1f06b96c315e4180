"""The Slack path end to end on the local stand-in with the real model: a signed ``app_mention``
event is POSTed to the running HTTP endpoint (Bolt + waitress) → the answer is posted with
``chat.postMessage`` to the stand-in. Latency = event sent → answer recorded. Sequential
questions (median, p95), then 20 at once (all answered, no error), beside the bare
``AnswerService.answer`` on the same questions. Targets: median ≤ 150 ms, p95 ≤ 300 ms."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import arguments, median, ms, pct, questions, report, sample_index, settings_for, work_dir

_SECRET = "0123456789abcdef0123456789abcdef"


def main(argv: list[str]) -> None:
    ap = arguments("slack", __doc__)
    ap.add_argument("--questions", type=int, default=40)
    ap.add_argument("--concurrent", type=int, default=20)
    args = ap.parse_args(argv)
    from bot.service import AnswerService
    from bot.settings import Secret
    from bot.slack.app import build_app
    from bot.slack.serving import HttpServer
    from bot.slack.standin import EventsSender, StandIn
    from bot.slack.standin import payloads as P

    docs, index = sample_index(args.tiny)
    qs = questions(args.tiny)
    qs = (qs * (1 + args.questions // len(qs)))[: (3 if args.tiny else args.questions)]
    n_conc = 3 if args.tiny else args.concurrent
    logging.getLogger("kotae.slack").setLevel(logging.WARNING)
    with StandIn() as slack:
        settings = settings_for(docs, index).with_(
            slack_bot_token=Secret("xoxb-0000000000-bench-token"), slack_app_token=None,
            slack_signing_secret=Secret(_SECRET), api_base_url=slack.api_url,
            feedback_path=work_dir() / "feedback.jsonl")
        service = AnswerService(settings)
        for q in qs:  # warm the model, the index and per-sentence caches, as a running bot is
            service.answer(q)
        bare = []
        for q in qs:
            t = time.perf_counter()
            service.answer(q)
            bare.append(time.perf_counter() - t)
        app = build_app(settings, service, mode="http", logger=logging.getLogger("kotae.slack"))
        server = HttpServer(app, host="127.0.0.1", port=0).start()
        sender = EventsSender(server.url, _SECRET, timeout=60)
        try:
            def ask(i: int, q: str) -> float:
                event = P.mention(q, channel=f"C0BENCH{i:04d}")
                started = time.monotonic()
                sent = sender.event(P.event_callback(event))
                if sent.status != 200:
                    raise RuntimeError(f"HTTP {sent.status}: {sent.body}")
                call = slack.recorder.wait_for(
                    "chat.postMessage", lambda c, ts=event["ts"]: c.args.get("thread_ts") == ts, timeout=120)[0]
                if not call.ok:
                    raise RuntimeError(f"chat.postMessage failed: {call.error}")
                return call.at - started

            ask(0, qs[0])
            seq = [ask(i + 1, q) for i, q in enumerate(qs)]
            slack.recorder.clear()
            with ThreadPoolExecutor(max_workers=n_conc) as pool:
                t = time.monotonic()
                futures = [pool.submit(ask, 10_000 + i, qs[i % len(qs)]) for i in range(n_conc)]
                conc, errors = [], 0
                for f in futures:
                    try:
                        conc.append(f.result())
                    except Exception:  # counted and reported, not raised
                        errors += 1
                wall = time.monotonic() - t
            bad_posts = [c for c in slack.recorder.calls() if not c.ok]
        finally:
            server.close()
    rows = [
        {"what": "AnswerService.answer alone (same questions)", "n": len(bare), "median ms": ms(median(bare)),
         "p95 ms": ms(pct(bare, 95)), "errors": 0},
        {"what": "Slack: event POSTed -> answer posted (sequential)", "n": len(seq), "median ms": ms(median(seq)),
         "p95 ms": ms(pct(seq, 95)), "errors": 0},
        {"what": f"Slack: {n_conc} questions at once", "n": len(conc), "median ms": ms(median(conc)),
         "p95 ms": ms(pct(conc, 95)), "errors": errors + len(bad_posts)},
    ]
    report("slack", rows, tiny=args.tiny, notes={"concurrent_wall_s": round(wall, 2), "answered": len(conc),
                                                 "target": "median <= 150 ms, p95 <= 300 ms; 20 at once all answered"})
