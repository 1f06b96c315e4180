"""Shared fixtures.

Every test runs with Kotae's and Slack's environment variables removed and a private data
directory, so a developer's real tokens or indexes never leak into (or out of) a run. The
real-model fixtures build one index of the bundled corpus per session and share it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.settings import Settings, bundled_docs_dir


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path_factory):
    for name in list(os.environ):
        if name.startswith(("SLACK_", "KOTAE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory) -> Settings:
    """Settings for the bundled corpus with a session-private index folder."""
    root = tmp_path_factory.mktemp("sample-index")
    return Settings.load({"index_dir": str(root / "index")}, env={"KOTAE_DATA_DIR": str(root / "data")})


@pytest.fixture(scope="session")
def sample_index_dir(sample_settings) -> Path:
    """A real index of the bundled corpus, built once per session with the bundled model."""
    from bot.service import AnswerService

    service = AnswerService(sample_settings)
    service.refresh(progress=False)
    return sample_settings.index_dir


@pytest.fixture(scope="session")
def answer_service(sample_settings, sample_index_dir):
    """A real AnswerService (bundled model, real index of the sample corpus), shared."""
    from bot.service import AnswerService

    return AnswerService(sample_settings)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "docs"
    shutil.copytree(bundled_docs_dir(), target)
    return target


@pytest.fixture(scope="module")
def standin():
    """A local Slack stand-in (Web API, Socket Mode, response URLs), one per test module."""
    from bot.slack.standin import StandIn

    with StandIn() as server:
        yield server


@pytest.fixture
def slack(standin):
    """The module's stand-in with an empty call record and no leftover faults."""
    standin.reset()
    return standin
