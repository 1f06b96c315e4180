"""`kotae ask` notices documents that changed since the index was built: it refreshes first
(a terminal, or --refresh) or warns plainly (--no-refresh, and when not in a terminal), and
never cites a deleted file without saying so. The real command line, with the fake model."""

from __future__ import annotations

import json
import sys

import pytest

import embeddings
import embeddings.refresh as refresh
from bot.cli import main
from embeddings import current_version
from tests.embeddings.helpers import DOCS, write_docs
from tests.fakes import FakeEmbedderFactory


@pytest.fixture
def kotae(tmp_path, monkeypatch, capsys):
    """``kotae(*args) -> (code, stdout, stderr)`` over a fresh index of DOCS, fake model."""
    factory = FakeEmbedderFactory()
    monkeypatch.setattr(refresh, "DefaultEmbedderFactory", FakeEmbedderFactory)
    monkeypatch.setattr(embeddings, "embedder_id", factory.embedder_id)
    monkeypatch.setattr(embeddings, "load_embedder", lambda model, **_: factory(model))
    monkeypatch.setenv("KOTAE_DOCS", str(write_docs(tmp_path / "docs", DOCS)))
    monkeypatch.setenv("KOTAE_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("KOTAE_ABSTAIN_THRESHOLD", "-10")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    assert run("index", "-q")[0] == 0
    return run


def _cited(stdout: str) -> set[str]:
    return {c["source"] for c in json.loads(stdout)["citations"]}


def test_unchanged_documents_say_nothing(kotae):
    code, out, err = kotae("ask", "--json", "今日の天気は晴れ")
    assert code == 0 and "weather.txt" in _cited(out)
    assert "changed" not in err and "warning" not in err


def test_not_in_a_terminal_it_warns_and_names_the_deleted_source(kotae, tmp_path):
    before = current_version(tmp_path / "index")
    (tmp_path / "docs" / "weather.txt").unlink()
    (tmp_path / "docs" / "itu.txt").write_text(DOCS["itu.txt"] + "追記。\n", encoding="utf-8")
    code, out, err = kotae("ask", "--json", "今日の天気は晴れ")
    assert code == 0
    assert "documents changed since the index was built: 1 changed (itu.txt), 1 removed (weather.txt)" in err
    assert "kotae index" in err
    assert "weather.txt" in _cited(out)  # the old index still holds it, and says so:
    assert "weather.txt no longer exists" in err
    assert current_version(tmp_path / "index") == before


def test_refresh_flag_refreshes_first(kotae, tmp_path):
    (tmp_path / "docs" / "weather.txt").unlink()
    code, out, err = kotae("ask", "--json", "--refresh", "今日の天気は晴れ")
    assert code == 0
    assert "refreshing" in err and "1 removed" in err
    assert "weather.txt" not in _cited(out) and "no longer exists" not in err


def test_in_a_terminal_it_refreshes_unless_told_not_to(kotae, tmp_path, monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    (tmp_path / "docs" / "weather.txt").unlink()
    code, out, err = kotae("ask", "--json", "--no-refresh", "今日の天気は晴れ")
    assert "warning: documents changed" in err and "weather.txt" in _cited(out)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)  # capsys swapped the stream
    code, out, err = kotae("ask", "--json", "今日の天気は晴れ")
    assert code == 0 and "refreshing" in err and "weather.txt" not in _cited(out)


def test_the_setting_can_ask_for_a_refresh(kotae, tmp_path, monkeypatch):
    monkeypatch.setenv("KOTAE_ASK_REFRESH", "true")
    (tmp_path / "docs" / "weather.txt").unlink()
    code, out, _ = kotae("ask", "--json", "今日の天気は晴れ")
    assert code == 0 and "weather.txt" not in _cited(out)
