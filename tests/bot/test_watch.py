"""The watcher that keeps a running server's index fresh: real folders, real refreshes (fake
model), change events and polling."""

from __future__ import annotations

import logging
import time

import pytest

from bot.watch import DocsWatcher, watching
from knowledge.errors import EmbedderError
from tests.embeddings.helpers import DOCS
from tests.reliability.helpers import fake_service


def _wait(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _cites(service, question: str) -> set[str]:
    return {c.source for c in service.answer(question).citations}


@pytest.mark.parametrize("events", [True, False], ids=["events", "polling"])
def test_edits_additions_and_deletions_are_served_without_a_restart(tmp_path, events, caplog):
    service = fake_service(tmp_path, DOCS)
    docs = tmp_path / "docs"
    first = service.index_version
    caplog.set_level(logging.INFO, logger="kotae.watch")
    options = {"debounce": 0.2} if events else {"interval": 0.3}
    with DocsWatcher.for_service(service, events=events, **options) as watcher:
        assert watcher.ready.wait(20)
        time.sleep(0.5)  # the event watcher is up
        (docs / "weather.txt").unlink()
        (docs / "cable.md").write_text("# 海底ケーブル\n\n海底ケーブルの保護で日米が協力する。\n", encoding="utf-8")
        (docs / "itu.txt").write_text(DOCS["itu.txt"].replace("ドバイ", "アラブ首長国連邦のドバイ"), encoding="utf-8")
        assert _wait(lambda: service.index_version != first and watcher.refreshes >= 1)
        assert _wait(lambda: not service.index.documents.keys() ^ {"isdb.txt", "itu.txt", "cable.md"})
    assert "weather.txt" not in _cites(service, "今日の天気は晴れ")
    assert "cable.md" in _cites(service, "海底ケーブルの保護")
    assert any("アラブ首長国連邦" in p.text for p in service.answer("WCIT-12はどこで開かれた？").passages)
    logged = caplog.text
    assert "documents changed" in logged and "refreshed" in logged and service.index_version in logged


def test_a_burst_of_changes_is_one_refresh(tmp_path):
    service = fake_service(tmp_path, DOCS)
    docs = tmp_path / "docs"
    with DocsWatcher.for_service(service, debounce=1.0) as watcher:
        assert watcher.ready.wait(20)
        time.sleep(0.5)  # the event watcher is up
        for n in range(8):
            (docs / f"note{n}.txt").write_text(f"メモ{n}\n\n会議のメモ第{n}号。\n", encoding="utf-8")
        assert _wait(lambda: watcher.refreshes >= 1)
        time.sleep(1.5)
        assert watcher.refreshes == 1
    assert {f"note{n}.txt" for n in range(8)} <= set(service.index.documents)


def test_a_failed_refresh_keeps_serving_and_the_next_change_is_refreshed(tmp_path, caplog):
    service = fake_service(tmp_path, DOCS)
    docs = tmp_path / "docs"
    first = service.index_version
    calls = []

    def refresh():
        calls.append(1)
        if len(calls) == 1:
            raise EmbedderError("the model could not be loaded")
        return service.refresh(progress=False, workers=1)

    caplog.set_level(logging.INFO, logger="kotae.watch")
    with DocsWatcher(docs, refresh, serving=lambda: service.index_version, debounce=0.2) as watcher:
        assert watcher.ready.wait(20)
        time.sleep(0.5)  # the event watcher is up
        (docs / "weather.txt").unlink()
        assert _wait(lambda: len(calls) == 1)
        assert "refresh failed, still serving version " + first in caplog.text
        assert service.answer("今日の天気").index_version == first
        (docs / "extra.txt").write_text("追加\n\n追加の文書。\n", encoding="utf-8")
        assert _wait(lambda: watcher.refreshes == 1)
    assert "weather.txt" not in service.index.documents and "extra.txt" in service.index.documents


def test_watching_follows_the_setting(tmp_path):
    service = fake_service(tmp_path, DOCS)
    with watching(service) as watcher:
        assert isinstance(watcher, DocsWatcher)
    service._settings = service.settings.with_(watch=False)
    with watching(service) as watcher:
        assert watcher is None


def test_changes_made_while_nobody_watched_are_refreshed_at_start(tmp_path):
    service = fake_service(tmp_path, DOCS)
    (tmp_path / "docs" / "weather.txt").unlink()
    with DocsWatcher.for_service(service, debounce=0.2) as watcher:
        assert _wait(lambda: watcher.refreshes == 1)
    assert "weather.txt" not in service.index.documents
