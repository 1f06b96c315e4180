"""KOTAE_DATABASE_URL: read in bot/settings.py only, kept secret, one schema per documents folder;
`kotae worker` and `kotae index` with it (no server needed for the messages)."""

from __future__ import annotations

from pathlib import Path

from bot.cli import main
from bot.settings import Settings


def test_the_database_url_is_read_from_the_environment_and_never_shown():
    settings = Settings.load(env={"KOTAE_DATABASE_URL": "postgresql://kotae:s3cret@db/kotae"})
    assert settings.database_url is not None
    assert settings.database_url.reveal() == "postgresql://kotae:s3cret@db/kotae"
    assert "s3cret" not in repr(settings)
    assert Settings.load(env={}).database_url is None


def test_each_documents_folder_has_its_own_schema(tmp_path):
    one = Settings.load({"docs_dir": str(tmp_path / "Team Docs")}, env={"KOTAE_DATA_DIR": str(tmp_path)})
    two = Settings.load({"docs_dir": str(tmp_path / "other")}, env={"KOTAE_DATA_DIR": str(tmp_path)})
    assert one.database_schema != two.database_schema
    for schema in (one.database_schema, two.database_schema):
        assert schema.startswith("kotae_") and schema.replace("_", "").isalnum() and schema == schema.lower()
    assert Settings.load({"index_dir": str(Path("/srv/idx/Sample-1"))}, env={}).database_schema == "kotae_sample_1"


def test_kotae_worker_needs_a_database(capsys):
    assert main(["worker"]) == 1
    assert "KOTAE_DATABASE_URL" in capsys.readouterr().err


def test_an_unreachable_database_is_a_clear_error_not_a_traceback(monkeypatch, tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("KOTAE_DATABASE_URL", f"postgresql://kotae@127.0.0.1:{port}/kotae?connect_timeout=3")
    (tmp_path / "a.txt").write_text("本文。\n", encoding="utf-8")
    assert main(["index", str(tmp_path), "-q"]) == 1
    err = capsys.readouterr().err
    assert "Cannot connect to the database in KOTAE_DATABASE_URL" in err and "Traceback" not in err
