"""Fixtures for the embeddings tests: small Japanese document folders and a fake model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.embeddings.helpers import DOCS, build, write_docs
from tests.fakes import FakeEmbedderFactory


@pytest.fixture
def docs_dir(tmp_path) -> Path:
    return write_docs(tmp_path / "docs", DOCS)


@pytest.fixture
def index_dir(tmp_path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def factory() -> FakeEmbedderFactory:
    return FakeEmbedderFactory()


@pytest.fixture
def built(docs_dir, index_dir, factory):
    """An index of :data:`DOCS` built with the fake model; the report of that build."""
    return build(docs_dir, index_dir, factory)
