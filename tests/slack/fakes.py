"""Deterministic fakes of Kotae's own interfaces (never of Slack: Slack is the stand-in)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from bot.reply import Citation, Quote, Reply, RetrievedPassage

WHITEPAPER = Citation(
    n=1, title="情報通信白書 2013", source="whitepaper-2013-international-strategy.txt",
    section=("第1章", "国際戦略"), start_line=12, end_line=14,
)
PRESS = Citation(
    n=2, title="Japan-US Digital Economy Dialogue", source="press-2024-02-27.txt",
    section=("Outcomes",), start_line=3, end_line=3, page=2,
    url="https://www.soumu.go.jp/press?id=1&lang=en",
)


def reply_for(question: str, version: str = "v1", *, quotes: tuple[Quote, ...] | None = None,
              answered: bool = True, citations: tuple[Citation, ...] = (WHITEPAPER, PRESS),
              language: str | None = None) -> Reply:
    """A fixed, well-formed answer whose content depends only on its arguments."""
    lang = language or ("en" if question.isascii() else "ja")
    if quotes is None:
        quotes = (Quote("我が国の国際戦略は、ICT分野の国際競争力の強化を目指す。", 1),
                  Quote("Both sides confirmed cooperation on a trusted digital economy.", 2))
    passages = tuple(
        RetrievedPassage(c.source, c.title, c.section, c.start_line, c.end_line, "…", 0.9 - i / 10)
        for i, c in enumerate(citations)
    )
    lead = ("The documents say:" if lang == "en" else "文書には次のようにあります。") if answered else (
        "The documents do not answer this." if lang == "en" else "文書には該当する記述がありません。")
    return Reply(question=question, language=lang, answered=answered, lead=lead,
                 quotes=quotes if answered else (), citations=citations, passages=passages,
                 index_version=version)


class FakeAnswerer:
    """Answers from :func:`reply_for` (or ``replies``), records questions, can switch index
    versions (``publish``), block (``gate``) or fail (``fail_with``)."""

    def __init__(self, replies: dict[str, Reply] | None = None,
                 builder: Callable[[str, str], Reply] | None = None) -> None:
        self.replies = dict(replies or {})
        self.builder = builder or (lambda q, v: reply_for(q, v))
        self.questions: list[str] = []
        self.contexts: list[tuple[str, ...]] = []  # the earlier questions of thread follow-ups
        self.reloads = 0
        self.gate: threading.Event | None = None
        self.fail_with: Exception | None = None
        self._version = "v1"
        self._pending: str | None = None
        self._lock = threading.Lock()

    @property
    def index_version(self) -> str:
        return self._version

    def publish(self, version: str) -> None:
        """A refreshed index lands on disk; it is served after the next reload_if_changed()."""
        with self._lock:
            self._pending = version

    def reload_if_changed(self) -> bool:
        with self._lock:
            self.reloads += 1
            if self._pending is None:
                return False
            self._version, self._pending = self._pending, None
            return True

    def answer(self, question: str, context: tuple[str, ...] = ()) -> Reply:
        with self._lock:
            self.questions.append(question)
            if context:
                self.contexts.append(tuple(context))
            version = self._version
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail_with is not None:
            raise self.fail_with
        if question in self.replies:
            return self.replies[question]
        return self.builder(question, version)

    def suggested_questions(self, limit: int = 4) -> list[str]:
        return ["国際戦略の重点分野は？", "日米デジタル経済対話の成果は？", "WCIT-12とは？",
                "ICTの国際競争力とは？", "five"][:limit]


class LogWatcher(logging.Handler):
    """Collects log lines; :meth:`wait_for` blocks until one contains a text (no sleeping)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._seen: dict[int, logging.LogRecord] = {}
        self._cond = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self._cond:
            # Bolt copies the handlers of the logger it is given to its app logger ("kotae",
            # the parent of "kotae.slack"): a record then reaches this watcher twice.
            if self._seen.get(id(record)) is record:
                return
            self._seen[id(record)] = record
            self.lines.append(record.getMessage())
            self._cond.notify_all()

    def wait_for(self, text: str, timeout: float = 10.0) -> str:
        with self._cond:
            if not self._cond.wait_for(lambda: any(text in line for line in self.lines), timeout):
                raise TimeoutError(f"no log line containing {text!r}")
            return next(line for line in self.lines if text in line)

    def wait_for_all(self, text: str, count: int, timeout: float = 10.0) -> list[str]:
        """The lines containing ``text``, once there are at least ``count`` of them."""
        with self._cond:
            if not self._cond.wait_for(lambda: sum(text in line for line in self.lines) >= count, timeout):
                raise TimeoutError(f"fewer than {count} log lines containing {text!r}")
            return [line for line in self.lines if text in line]


class Switchable:
    """Forwards to ``target``, which a test may replace (one running app, several services)."""

    def __init__(self, target: object) -> None:
        self.target = target

    def __getattr__(self, name: str) -> object:
        return getattr(self.target, name)

    @property
    def index_version(self) -> str:
        return self.target.index_version  # type: ignore[attr-defined, no-any-return]


def in_channel(channel: str) -> Callable[[Any], bool]:
    """A recorder filter: calls about ``channel`` (late calls of earlier tests never match)."""
    return lambda call: call.args.get("channel") == channel
