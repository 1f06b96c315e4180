"""A test-only ``kotae index``: the real command line with the fake embedder, announcing where
it is so that a test can SIGKILL it at an exact point.

Run as a script (it is never imported by the suite's processes)::

    python tests/reliability/indexer.py [--stop-at K] [--release FILE] [--batch-delay S] \
        [--dim N] -- index DOCS --index INDEX -q --chunk-chars 60 --chunk-overlap 15

What it changes, and nothing more:

* ``embeddings.refresh.DefaultEmbedderFactory`` becomes a fake factory (deterministic vectors
  from characters, :mod:`tests.fakes`), so no model is loaded and a refresh takes a second;
* wrappers around the functions a refresh calls print one marker line per step on stdout,
  ``@@ <n> <stage>:<what>`` — stages ``read``, ``embed``, ``write`` and ``swap``. Files written
  by Kotae get a marker after their *first* write (``write:partial ...``), so a kill there leaves
  a half-written file behind;
* with ``--stop-at K`` the process prints ``@@ STOPPED`` at its K-th marker and waits there
  (until ``--release FILE`` exists, or forever): the test kills it while it waits, so the kill
  point is exact, not a matter of timing.

At exit it prints ``@@ maxrss <KiB>`` (its peak resident memory) and returns the CLI's exit code.

``--zygote`` makes it a fork server, so that a test can kill dozens of runs without paying for
Python's start-up each time: it imports everything once, then for each JSON line on stdin
(``{"args": [...], "stdout": FILE, "stderr": FILE}``, ``args`` as for this script) forks a
child that runs exactly as above with its output in those files (ending with ``@@ exit <code>``),
and answers ``{"pid": <child pid>}``. Each child is a real process; killing it is a real SIGKILL.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_count = 0
_stop_at = 0
_release: Path | None = None


def marker(name: str) -> None:
    """Announce a step; stop here if this is the step the test asked for."""
    global _count
    _count += 1
    sys.stdout.write(f"@@ {_count} {name}\n")
    sys.stdout.flush()
    if _count == _stop_at:
        sys.stdout.write("@@ STOPPED\n")
        sys.stdout.flush()
        parent, deadline = os.getppid(), time.monotonic() + 300
        while _release is None or not _release.exists():
            if os.getppid() != parent or time.monotonic() > deadline:
                os._exit(75)  # orphaned (the test died): never linger
            time.sleep(0.01)


class _MarkedFile:
    """A file object that announces its first write (after it reached the disk)."""

    def __init__(self, inner: Any, name: str) -> None:
        self._inner = inner
        self._name = name
        self._written = False

    def write(self, data: Any) -> Any:
        if not self._written and len(data) > 1:
            # Half of the first write, flushed: a kill now leaves a truncated file.
            half = len(data) // 2
            self._inner.write(data[:half])
            self._inner.flush()
            self._written = True
            marker(f"write:partial {self._name}")
            return self._inner.write(data[half:]) + half
        return self._inner.write(data)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> _MarkedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)


def _install_markers(batch_delay: float, dim: int) -> None:
    import embeddings
    import embeddings.layout as layout
    import embeddings.refresh as refresh
    import embeddings.vector_store as vector_store
    import embeddings.writer as writer
    import knowledge
    from embeddings.lexical import LexicalIndex
    from tests.fakes import FakeEmbedderFactory

    def before_batch(done: int) -> None:
        marker(f"embed:batch {done + 1}")
        if batch_delay:
            time.sleep(batch_delay)

    class Factory(FakeEmbedderFactory):
        def __init__(self, **_options: Any) -> None:  # the real factory's options (threads)
            super().__init__(dim=dim, before_batch=before_batch)

    refresh.DefaultEmbedderFactory = Factory  # type: ignore[misc, assignment]
    embeddings.embedder_id = Factory().embedder_id  # what AnswerService expects when it reloads

    def wrap(module: Any, name: str, label: Any, after: bool = True) -> None:
        real = getattr(module, name)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            what = label(*args) if callable(label) else label
            marker(f"{what} before")
            result = real(*args, **kwargs)
            if after:
                marker(f"{what} after")
            return result

        setattr(module, name, wrapped)

    wrap(knowledge, "discover", "read:discover")
    wrap(knowledge, "file_sha256", lambda source, *a: f"read:hash {Path(getattr(source, 'path', source)).name}",
         after=False)
    wrap(knowledge, "read_document", lambda source, *a: f"read:document {source.rel}")
    wrap(writer, "finalise_tree", "write:fsync")
    wrap(refresh, "prune_versions", "swap:prune")
    real_save = LexicalIndex.save

    def lexical_save(self: Any, directory: Path) -> None:
        marker("write:lexical before")
        real_save(self, directory)
        marker("write:lexical after")

    LexicalIndex.save = lexical_save  # type: ignore[method-assign]

    real_private = writer.open_private

    @contextlib.contextmanager
    def open_private(path: Path, mode: str = "wb") -> Any:
        marker(f"write:open {path.name}")
        with real_private(path, mode) as f:
            yield _MarkedFile(f, path.name)
        marker(f"write:closed {path.name}")

    writer.open_private = open_private  # type: ignore[assignment]

    def vectors_open(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        marker(f"write:open {Path(path).name}")
        return _MarkedFile(open(path, mode, *args, **kwargs), Path(path).name)

    vector_store.open = vectors_open  # type: ignore[attr-defined]

    class _Os:
        """``os`` for embeddings.layout, announcing the steps of the switch."""

        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        def rename(self, src: Any, dst: Any) -> None:
            marker("swap:rename before")
            os.rename(src, dst)
            marker("swap:rename after")

        def symlink(self, src: Any, dst: Any) -> None:
            marker("swap:symlink before")
            os.symlink(src, dst)
            marker("swap:symlink after")

        def replace(self, src: Any, dst: Any) -> None:
            marker("swap:replace before")
            os.replace(src, dst)
            marker("swap:replace after")

    layout.os = _Os()  # type: ignore[assignment]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stop-at", type=int, default=0, help="wait at the K-th marker (1-based)")
    parser.add_argument("--release", type=Path, help="a stopped run goes on once this file exists")
    parser.add_argument("--batch-delay", type=float, default=0.0, help="seconds to sleep per batch")
    parser.add_argument("--dim", type=int, default=256, help="fake vector dimensions")
    parser.add_argument("--zygote", action="store_true", help="serve forks (see above)")
    parser.add_argument("cli", nargs=argparse.REMAINDER, help="arguments of `kotae` (after --)")
    return parser


def _zygote() -> int:
    import json
    import signal

    import bot.cli
    import bot.service  # noqa: F401
    import embeddings.refresh  # noqa: F401
    import tests.fakes  # noqa: F401
    from embeddings import tokenize
    from embeddings.lexical import LexicalIndex

    tokenize("日本語の準備")
    LexicalIndex.build([["準備"]])
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd, name in ((1, request["stdout"]), (2, request["stderr"])):
                target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(target, fd)
                os.close(target)
            code = 70
            try:
                code = _run(_parser().parse_args(request["args"]))
            finally:
                sys.stdout.write(f"@@ exit {code}\n")
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        sys.stdout.write(json.dumps({"pid": pid}) + "\n")
        sys.stdout.flush()
    return 0


def main() -> int:
    args = _parser().parse_args()
    if args.zygote:
        return _zygote()
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    global _stop_at, _release
    _stop_at, _release = args.stop_at, args.release
    _install_markers(args.batch_delay, args.dim)
    from bot.cli import main as kotae

    cli = args.cli[1:] if args.cli[:1] == ["--"] else args.cli
    code = kotae(cli)
    marker_line = f"@@ maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\n"
    sys.stdout.write(marker_line)
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
