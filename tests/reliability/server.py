"""A test-only ``kotae serve``: the real command line with the fake embedder.

Run as a script (it is never imported by the suite's processes)::

    python tests/reliability/server.py serve --http --port N

Configuration comes from the environment, as for the real command. What it changes, and nothing
more: the model is :class:`tests.fakes.FakeEmbedder` (deterministic vectors from characters), for
questions and for refreshes alike, so that the server starts in a second. Ctrl-C (SIGINT) stops it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    import embeddings
    import embeddings.refresh as refresh
    from bot.cli import main as kotae
    from tests.fakes import FakeEmbedder, FakeEmbedderFactory

    factory = FakeEmbedderFactory()
    refresh.DefaultEmbedderFactory = FakeEmbedderFactory  # type: ignore[misc, assignment]
    embeddings.embedder_id = factory.embedder_id  # what AnswerService expects of an index

    def load(model: str, **_options: Any) -> FakeEmbedder:
        return factory(model)

    embeddings.load_embedder = load  # type: ignore[assignment]
    return kotae(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
