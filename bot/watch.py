"""Keeping one knowledge base fresh while a server runs.

A :class:`DocsWatcher` watches a documents folder (file-system events through ``watchfiles``;
polling when events are unavailable) and, once a burst of changes has been quiet for
``debounce`` seconds, refreshes the index in the background with the ordinary crash-safe refresh
(and once at start if the folder changed while nothing watched it).
The server keeps answering from the version it has until the refreshed one is swapped in (see
:class:`bot.service.AnswerService`). ``interval`` adds a periodic check of sizes and times (see
:mod:`embeddings.staleness`), for network shares where events do not arrive.

It takes its collaborators as callables, so a bot with several knowledge bases runs one watcher
per documents folder: :meth:`DocsWatcher.for_service` wires one to an ``AnswerService``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from knowledge.errors import IndexBusyError, KotaeError

__all__ = ["POLL_FALLBACK", "DocsWatcher", "watching"]

POLL_FALLBACK = 10.0  # seconds between checks when change events cannot be had
BUSY_RETRY = 5.0  # another refresh holds the index: try again this much later


class DocsWatcher:
    """Refreshes after changes under ``docs_dir``; one background thread (two with events)."""

    def __init__(
        self,
        docs_dir: Path,
        refresh: Callable[[], Any],
        *,
        is_stale: Callable[[], str] | None = None,
        serving: Callable[[], str] | None = None,
        debounce: float = 1.0,
        interval: float = 0.0,
        events: bool = True,
        ignore: tuple[Path, ...] = (),
        logger: logging.Logger | None = None,
    ) -> None:
        """``refresh()`` brings the index up to date and returns its report; ``is_stale()`` says
        what changed since the serving version (empty when nothing did); ``serving()`` names the
        version being served. ``ignore``: folders whose changes are not document changes (an
        index kept inside the documents folder)."""
        self.docs_dir = Path(docs_dir)
        self._refresh = refresh
        self._is_stale = is_stale
        self._serving = serving or (lambda: "?")
        self.debounce = debounce
        self.interval = interval
        self._events = events
        self._ignore = tuple(Path(p).resolve() for p in ignore)
        self.log = logger or logging.getLogger("kotae.watch")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._pending: dict[str, str] = {}  # relative path -> "added" / "modified" / "deleted"
        self._last_event = 0.0
        self._threads: list[threading.Thread] = []
        self.refreshes = 0  # completed refreshes (tests and logs)
        self.ready = threading.Event()  # set once the check at start is done

    @classmethod
    def for_service(cls, service: Any, **options: Any) -> DocsWatcher:
        """A watcher over ``service``'s documents folder that refreshes it on its own model, one
        worker, so questions keep the other cores; ``interval`` from its settings."""
        from embeddings.staleness import check_staleness

        settings = service.settings

        def stale() -> str:
            index = service.index
            return check_staleness(settings.docs_dir, index.documents, index.manifest.created_at).describe()

        options.setdefault("interval", settings.refresh_interval)
        options.setdefault("ignore", (settings.index_dir,))
        return cls(
            settings.docs_dir,
            lambda: service.refresh(progress=False, workers=1, share_model=False),
            is_stale=stale,
            serving=lambda: service.index_version,
            **options,
        )

    # -- running ----------------------------------------------------------------------------
    def start(self) -> DocsWatcher:
        poll = self.interval
        if self._events:
            try:
                import watchfiles  # noqa: F401
            except ImportError as exc:
                self.log.warning("change events unavailable (%s); checking %s every %.0f s", exc,
                                 self.docs_dir, poll or POLL_FALLBACK)
                self.interval = poll or POLL_FALLBACK
            else:
                self._spawn(self._watch_events, "kotae-watch-events")
        elif not poll:
            self.interval = POLL_FALLBACK
        self._spawn(self._work, "kotae-watch-refresh")
        how = "change events" if self._events else "polling"
        extra = f", and a check every {self.interval:g} s" if self.interval else ""
        self.log.info("watching %s (%s%s); serving version %s", self.docs_dir, how, extra, self._serving())
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def __enter__(self) -> DocsWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def notice(self, rel: str, what: str = "modified") -> None:
        """Record a change (the event thread calls this; tests and pollers may too)."""
        with self._lock:
            self._pending[rel] = what
            self._last_event = time.monotonic()
        self._wake.set()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _watch_events(self) -> None:
        import watchfiles

        kinds = {watchfiles.Change.added: "added", watchfiles.Change.modified: "modified",
                 watchfiles.Change.deleted: "deleted"}
        try:
            for changes in watchfiles.watch(self.docs_dir, stop_event=self._stop, debounce=int(self.debounce * 1000),
                                            step=50, raise_interrupt=False, rust_timeout=1000,
                                            yield_on_timeout=False, ignore_permission_denied=True):
                for change, path in changes:
                    rel = self._relative(Path(path))
                    if rel is not None:
                        self.notice(rel, kinds.get(change, "modified"))
        except (OSError, RuntimeError) as exc:  # e.g. the inotify watch limit, a vanished folder
            if self._stop.is_set():
                return
            self.interval = self.interval or POLL_FALLBACK
            self.log.warning("change events stopped (%s); checking %s every %.0f s instead", exc,
                             self.docs_dir, self.interval)
            self._wake.set()

    def _relative(self, path: Path) -> str | None:
        resolved = path.resolve()
        if any(resolved == d or d in resolved.parents for d in self._ignore):
            return None
        try:
            return path.relative_to(self.docs_dir).as_posix()
        except ValueError:
            try:
                return resolved.relative_to(self.docs_dir.resolve()).as_posix()
            except ValueError:
                return None

    def _work(self) -> None:
        if self._is_stale is not None:
            self._periodic()  # changes made while nothing was watching (the server was down)
        self.ready.set()
        next_check = time.monotonic() + self.interval if self.interval else None
        while not self._stop.is_set():
            timeout = None if next_check is None else max(0.0, next_check - time.monotonic())
            self._wake.wait(timeout)
            if self._stop.is_set():
                return
            if self._wake.is_set():
                self._quiet()
                if self._stop.is_set():
                    return
                self._wake.clear()
                with self._lock:
                    changes, self._pending = self._pending, {}
                if changes:
                    self._run(", ".join(f"{rel} ({what})" for rel, what in sorted(changes.items())[:10])
                              + (f" and {len(changes) - 10} more" if len(changes) > 10 else ""))
            if self.interval and (next_check is None or time.monotonic() >= next_check):
                self._periodic()
                next_check = time.monotonic() + self.interval

    def _quiet(self) -> None:
        """Wait until no change has arrived for ``debounce`` seconds (a burst is one refresh)."""
        while not self._stop.is_set():
            with self._lock:
                left = self._last_event + self.debounce - time.monotonic()
            if left <= 0:
                return
            self._stop.wait(left)

    def _periodic(self) -> None:
        if self._is_stale is None:
            self._run("periodic check")
            return
        try:
            what = self._is_stale()
        except KotaeError as exc:
            self.log.warning("could not check %s for changes: %s", self.docs_dir, exc)
            return
        if what:
            self._run(what)

    def _run(self, what: str) -> None:
        self.log.info("documents changed in %s: %s; refreshing (serving version %s meanwhile)",
                      self.docs_dir, what, self._serving())
        started = time.perf_counter()
        try:
            report = self._refresh()
        except IndexBusyError:
            self.log.info("another refresh holds the index; trying again in %.0f s", BUSY_RETRY)
            self._retry_later(what)
            return
        except KotaeError as exc:
            self.log.error("refresh failed, still serving version %s: %s", self._serving(), exc)
            return
        except Exception:  # keep watching: the next change may succeed where this one failed
            self.log.exception("refresh failed, still serving version %s", self._serving())
            return
        self.refreshes += 1
        seconds = time.perf_counter() - started
        summary = _summary(report)
        self.log.info("refreshed %s in %.1f s (%s); serving version %s", self.docs_dir, seconds, summary,
                      self._serving())

    def _retry_later(self, what: str) -> None:
        def again() -> None:
            if not self._stop.wait(BUSY_RETRY):
                self.notice("(retry)", what)

        threading.Thread(target=again, name="kotae-watch-retry", daemon=True).start()


def _summary(report: Any) -> str:
    """``"added: a.md; removed: b.txt; 3 passages embedded"`` from a refresh report."""
    if getattr(report, "nothing_changed", False):
        return "no document changed"
    parts = []
    for what in ("added", "changed", "removed", "failed"):
        names = [n if isinstance(n, str) else n[0] for n in getattr(report, what, ()) or ()]
        if names:
            more = f" and {len(names) - 10} more" if len(names) > 10 else ""
            parts.append(f"{what}: " + ", ".join(names[:10]) + more)
    return "; ".join([*parts, f"{getattr(report, 'passages_embedded', 0)} passages embedded"])


@contextlib.contextmanager
def watching(service: Any, logger: logging.Logger | None = None) -> Iterator[DocsWatcher | None]:
    """While the block runs, keep ``service``'s index fresh (unless its settings turn watching
    off, in which case this yields None)."""
    if not service.settings.watch:
        yield None
        return
    watcher = DocsWatcher.for_service(service, logger=logger).start()
    try:
        yield watcher
    finally:
        watcher.stop()
