#!/usr/bin/env python3
"""Validate the Kotae development evaluation set (eval/dev.jsonl).

Checks, for every line:
  * JSON shape: required fields, types, allowed `kind` / `lang` / `evidence_mode` values,
    unique `id`, id prefix consistent with kind and language;
  * every evidence string is a verbatim substring of (one of) the file(s) named in `source`,
    contains no line break, and occurs exactly once in the whole corpus;
  * the answer (or each answer, for a list) is a substring of an evidence string, or at least
    occurs on the same line of the source as an evidence string;
  * `multi` questions have two or more evidence strings from different places (not on the same
    line), `evidence_mode: "all"`, and `unanswerable` ones have no evidence, no answer and no
    source.

Prints warnings (not failures) for evidence strings outside the 8-40 character guideline and for
paraphrase questions that copy a long run of characters from their evidence line, then a summary
of counts per kind, language and source file. Exits non-zero on any problem.

Usage: python eval/check_dev.py [--file eval/dev.jsonl] [--corpus knowledge/corpus]
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = {"fact", "paraphrase", "number", "multi", "unanswerable"}
LANGS = {"ja", "en"}
MODES = {"any", "all"}
REQUIRED = ("id", "lang", "question", "kind", "evidence", "answer", "source")
ID_PREFIX = {  # (lang, kind) -> expected id prefix; English ids are en-NNN whatever the kind
    ("ja", "fact"): "ja-fact-",
    ("ja", "paraphrase"): "ja-para-",
    ("ja", "number"): "ja-num-",
    ("ja", "multi"): "multi-",
}
EVIDENCE_SOFT_LEN = (8, 40)
EVIDENCE_HARD_LEN = (4, 80)
COPY_RUN_WARN = 8  # paraphrase questions sharing this many consecutive chars with the source line


def longest_common_run(a: str, b: str) -> str:
    """Longest common substring (simple DP; inputs are short)."""
    best, best_end = 0, 0
    prev = [0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        cur = [0] * (len(b) + 1)
        ai = a[i - 1]
        for j in range(1, len(b) + 1):
            if ai == b[j - 1]:
                cur[j] = prev[j - 1] + 1
                if cur[j] > best:
                    best, best_end = cur[j], i
        prev = cur
    return a[best_end - best : best_end]


def line_of(text: str, pos: int) -> tuple[int, str]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    end = len(text) if end == -1 else end
    return text.count("\n", 0, pos) + 1, text[start:end]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--file", type=Path, default=ROOT / "eval" / "dev.jsonl")
    ap.add_argument("--corpus", type=Path, default=ROOT / "knowledge" / "corpus")
    ap.add_argument("-q", "--quiet", action="store_true", help="hide warnings")
    args = ap.parse_args()

    corpus = {p.name: p.read_text(encoding="utf-8") for p in sorted(args.corpus.glob("*.txt"))}
    if not corpus:
        print(f"no corpus files in {args.corpus}", file=sys.stderr)
        return 2

    errors: list[str] = []
    warnings: list[str] = []
    seen_ids: set[str] = set()
    rows = []
    by_kind: Counter = Counter()
    by_lang_kind: Counter = Counter()
    by_source: Counter = Counter()
    ev_lens: list[int] = []

    with args.file.open(encoding="utf-8") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                errors.append(f"line {n}: blank line")
                continue
            try:
                r = json.loads(raw)
            except json.JSONDecodeError as exc:
                errors.append(f"line {n}: bad JSON: {exc}")
                continue
            if not isinstance(r, dict):
                errors.append(f"line {n}: not a JSON object")
                continue
            rows.append(r)
            rid = r.get("id", f"<line {n}>")

            def err(msg: str, rid: str = rid) -> None:
                errors.append(f"{rid}: {msg}")

            def warn(msg: str, rid: str = rid) -> None:
                warnings.append(f"{rid}: {msg}")

            missing = [k for k in REQUIRED if k not in r]
            if missing:
                err(f"missing fields {missing}")
                continue
            if not isinstance(rid, str) or not rid:
                err("id must be a non-empty string")
            if rid in seen_ids:
                err("duplicate id")
            seen_ids.add(rid)
            lang, kind, q = r["lang"], r["kind"], r["question"]
            if lang not in LANGS:
                err(f"lang {lang!r} not in {sorted(LANGS)}")
            if kind not in KINDS:
                err(f"kind {kind!r} not in {sorted(KINDS)}")
            if not isinstance(q, str) or not q.strip():
                err("empty question")
                q = ""
            if "\n" in q:
                err("question contains a line break")
            if lang == "en" and q and not q.isascii():
                warn("English question contains non-ASCII characters")
            expected = "un-" if kind == "unanswerable" else ("en-" if lang == "en" else ID_PREFIX.get((lang, kind)))
            if expected and not str(rid).startswith(expected):
                err(f"id should start with {expected!r} for lang={lang} kind={kind}")
            by_kind[kind] += 1
            by_lang_kind[(lang, kind)] += 1

            ev, ans, src = r["evidence"], r["answer"], r["source"]
            if not isinstance(ev, list) or not all(isinstance(e, str) for e in ev):
                err("evidence must be a list of strings")
                continue

            if kind == "unanswerable":
                if ev:
                    err("unanswerable question must have empty evidence")
                if ans is not None:
                    err("unanswerable question must have answer null")
                if src not in (None, [], ""):
                    err("unanswerable question must have source null")
                continue

            # ---- answerable ----
            sources = [src] if isinstance(src, str) else src
            if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
                err("source must be a file name or a non-empty list of file names")
                continue
            for s in sources:
                if s not in corpus:
                    err(f"source {s!r} is not a corpus file")
            sources = [s for s in sources if s in corpus]
            for s in sources:
                by_source[s] += 1
            if not ev:
                err("answerable question has no evidence")
                continue
            if len(set(ev)) != len(ev):
                err("duplicate evidence strings")
            mode = r.get("evidence_mode", "any")
            if mode not in MODES:
                err(f"evidence_mode {mode!r} not in {sorted(MODES)}")
            if kind == "multi":
                if len(ev) < 2:
                    err("multi question needs at least two evidence strings")
                if mode != "all":
                    err('multi question needs evidence_mode "all"')
            elif mode == "all":
                err('evidence_mode "all" is for multi questions')
            if len(ev) > 1 and kind != "multi" and mode != "any":
                err('several evidence strings for a non-multi question need evidence_mode "any"')

            locations = []  # (evidence, file, lineno, line text)
            used_sources = set()
            for e in ev:
                ev_lens.append(len(e))
                if "\n" in e or "\r" in e:
                    err(f"evidence spans a line break: {e!r}")
                    continue
                if e != e.strip():
                    err(f"evidence has leading/trailing whitespace: {e!r}")
                if not (EVIDENCE_HARD_LEN[0] <= len(e) <= EVIDENCE_HARD_LEN[1]):
                    err(f"evidence length {len(e)} outside {EVIDENCE_HARD_LEN}: {e!r}")
                elif not (EVIDENCE_SOFT_LEN[0] <= len(e) <= EVIDENCE_SOFT_LEN[1]):
                    warn(f"evidence length {len(e)} outside the {EVIDENCE_SOFT_LEN} guideline: {e!r}")
                total = sum(t.count(e) for t in corpus.values())
                if total != 1:
                    err(f"evidence occurs {total} times in the corpus (must be exactly 1): {e!r}")
                hits = [s for s in sources if e in corpus[s]]
                if not hits:
                    err(f"evidence not found verbatim in source {sources}: {e!r}")
                    continue
                s = hits[0]
                used_sources.add(s)
                pos = corpus[s].find(e)
                lineno, line = line_of(corpus[s], pos)
                locations.append((e, s, lineno, line))
            unused = set(sources) - used_sources
            if unused and locations:
                err(f"source lists files no evidence comes from: {sorted(unused)}")

            if kind == "multi" and len(locations) >= 2:
                places = {(s, ln) for _, s, ln, _ in locations}
                if len(places) < len(locations):
                    err("multi evidence strings must come from different places (not the same line)")

            # ---- answer ----
            answers = ans if isinstance(ans, list) else [ans]
            if kind != "multi" and isinstance(ans, list):
                err("answer list is only for multi questions")
            if not answers or not all(isinstance(a, str) and a.strip() for a in answers):
                err("answer must be a non-empty string (or list of strings for multi)")
                continue
            for a in answers:
                if any(a in e for e in ev):
                    continue
                if any(a in line for _, _, _, line in locations):
                    warn(f"answer {a!r} is on the evidence line but not inside the evidence")
                    continue
                err(f"answer {a!r} is neither inside an evidence string nor on an evidence line")

            if kind == "paraphrase" and lang == "ja":
                for _e, _, _, line in locations:
                    run = longest_common_run(q, line)
                    if len(run) >= COPY_RUN_WARN:
                        warn(f"paraphrase question copies {len(run)} chars from the source: {run!r}")

    # ---- summary ----
    langs = Counter(r.get("lang") for r in rows)
    print(f"{args.file}: {len(rows)} questions ({', '.join(f'{k}={v}' for k, v in sorted(langs.items()))})")
    print("per kind:      " + ", ".join(f"{k}={by_kind[k]}" for k in sorted(KINDS)))
    for lang in sorted(LANGS):
        print(f"  {lang}:          " + ", ".join(f"{k}={by_lang_kind[(lang, k)]}" for k in sorted(KINDS)))
    print("per source (answerable questions citing it):")
    for s in corpus:
        print(f"  {by_source[s]:3d}  {s} ({len(corpus[s]):,} chars)")
    if ev_lens:
        ev_lens.sort()
        print(
            f"evidence strings: {len(ev_lens)}, length min/median/max "
            f"{ev_lens[0]}/{ev_lens[len(ev_lens) // 2]}/{ev_lens[-1]}"
        )
    if warnings and not args.quiet:
        print(f"\n{len(warnings)} warning(s):")
        for w in warnings:
            print("  WARN " + w)
    if errors:
        print(f"\n{len(errors)} error(s):", file=sys.stderr)
        for msg in errors:
            print("  ERROR " + msg, file=sys.stderr)
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
