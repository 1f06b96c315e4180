"""A bot answering a steady stream of questions while another process (a real `kotae index`)
rebuilds and swaps the index: no failed or half-answered question, and the answers switch to the
new content once the new version is current."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from bot.slack.standin import payloads as P
from bot.slack.standin.validation import message_error
from embeddings import current_version
from tests.embeddings.helpers import DOCS
from tests.reliability.helpers import DOCS_V2, Stopped, fake_service, write_tree

QUESTIONS = ["ボツワナが日本方式を採用した", "WCIT-12はどこで開かれた？", "海底ケーブルの保護", "周波数の国際協調"]


def _verbatim_in(docs: dict[str, str], reply) -> bool:
    """Every quote and passage is a verbatim slice of a document of the version that answered."""
    cited = {c.n: c.source for c in reply.citations}
    return all(q.text in docs[cited[q.citation]] for q in reply.quotes) and all(
        p.text in docs[p.source] for p in reply.passages)


def test_answers_never_fail_and_switch_to_the_new_index(tmp_path):
    service = fake_service(tmp_path, DOCS)
    docs_of = {service.index_version: DOCS}
    results: list[tuple[str, object]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask(n: int) -> None:
        i = n
        while not stop.is_set():
            try:
                service.reload_if_changed()  # what the Slack handler does before each question
                reply = service.answer(QUESTIONS[i % len(QUESTIONS)])
                results.append((reply.index_version, reply))
            except BaseException as exc:
                errors.append(exc)
                return
            i += 1

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        write_tree(tmp_path / "docs", DOCS_V2)
        refresh = Stopped(tmp_path / "docs", tmp_path / "index", stop_at=0, batch_delay=0.02)
        code, err = refresh.finish()
        assert code == 0, err
        new_version = current_version(tmp_path / "index")
        docs_of[new_version] = DOCS_V2
        deadline = time.monotonic() + 10
        while not any(v == new_version for v, _ in results[-20:]) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert not errors, errors[:3]
    assert len(results) > 50
    versions = [v for v, _ in results]
    assert set(versions) == set(docs_of)
    for version, reply in results:
        assert reply.answered and reply.quotes, reply
        assert _verbatim_in(docs_of[version], reply), reply
    # After the swap: the new document is cited, the removed one never again.
    after = [r for v, r in results if v == new_version]
    assert any(c.source == "sub/dialogue.md" for r in after for c in r.citations)
    assert all(c.source != "weather.txt" for r in after for c in r.citations)
    last = service.answer("海底ケーブルの保護")
    assert last.index_version == new_version and last.citations[0].source == "sub/dialogue.md"


def test_slack_questions_during_a_refresh_are_all_answered(http_bot, slack, tmp_path: Path):
    service = fake_service(tmp_path / "svc", DOCS)
    bot = http_bot(service)
    old = service.index_version
    write_tree(tmp_path / "svc" / "docs", DOCS_V2)
    refresh = Stopped(tmp_path / "svc" / "docs", tmp_path / "svc" / "index", stop_at=0, batch_delay=0.05)
    sent = 0
    while refresh.proc.poll() is None:
        body = P.event_callback(P.mention(QUESTIONS[sent % 4] + f" #{sent}", channel="C0REFRESH1"))
        assert bot.sender.event(body).status == 200
        sent += 1
        time.sleep(0.02)
    code, err = refresh.finish()
    assert code == 0, err
    after: list[str] = []
    for extra in range(3):  # after the swap
        event = P.mention("海底ケーブルの保護" + f" #{sent + extra}", channel="C0REFRESH1")
        after.append(event["ts"])
        assert bot.sender.event(P.event_callback(event)).status == 200
    sent += 3
    posts = slack.recorder.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "C0REFRESH1",
                                    count=sent, timeout=30)
    assert len(posts) == sent and sent >= 5
    texts = [json.dumps(c.args["blocks"], ensure_ascii=False) for c in posts]
    assert all(message_error(c.args) is None and c.ok for c in posts)
    assert not any("問題が発生しました" in t for t in texts)  # no apology
    assert service.index_version != old
    late = [t for c, t in zip(posts, texts, strict=True) if c.args.get("thread_ts") in after]
    assert len(late) == 3 and all("日米対話" in t for t in late)  # the new document answers
