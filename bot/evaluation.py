"""``kotae eval``: answer a file of questions and, when it carries evidence, score the answers.

Input: JSONL with ``id`` and ``question``; optional ``lang``, ``kind``, ``evidence`` (verbatim
strings a relevant passage must contain), ``evidence_mode`` ("any" or "all"), ``answer``
(verbatim answer-bearing text, a string or a list). A question with ``kind: unanswerable`` (or an
empty evidence list) should be refused.
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from bot.answer import Answer
from bot.question_type import question_type
from bot.render_text import reply_to_json
from knowledge.errors import KotaeError

__all__ = [
    "CaseResult",
    "EvalCase",
    "ThresholdRow",
    "load_cases",
    "run_eval",
    "score_case",
    "suggest_threshold",
    "summarize",
    "threshold_table",
]

# The suggested abstain threshold refuses as many unanswerable questions as it can while refusing
# at most this share of the answerable ones.
MAX_FALSE_REFUSALS = 0.05


class Answers(Protocol):
    def answer_in_full(self, question: str) -> Answer: ...


@dataclass(frozen=True)
class EvalCase:
    id: str
    question: str
    lang: str = ""
    kind: str = ""
    evidence: tuple[str, ...] = ()
    evidence_mode: str = "any"
    answers: tuple[str, ...] = ()
    scored: bool = False  # the line had an 'evidence' field

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable" and bool(self.evidence)


@dataclass(frozen=True)
class CaseResult:
    case: EvalCase
    answered: bool
    rank: int | None  # 1-based rank of the first passage holding evidence
    all_found_in_top5: bool  # every evidence string in some top-5 passage
    quote_carries_answer: bool | None  # None when not applicable
    top5_chars: int
    confidence: float | None
    seconds: float
    top_sources: tuple[str, ...] = field(default=())
    quoted: bool = False  # the reply had quotes to give (a reply without any is a refusal at any threshold)


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def load_cases(path: Path) -> list[EvalCase]:
    cases = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise KotaeError(f"Cannot read {path}: {exc.strerror}. Check the path of the questions file.") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            answers = raw.get("answer")
            cases.append(
                EvalCase(
                    id=str(raw.get("id", number)),
                    question=str(raw["question"]),
                    lang=str(raw.get("lang") or ""),
                    kind=str(raw.get("kind") or ""),
                    evidence=tuple(raw.get("evidence") or ()),
                    evidence_mode=str(raw.get("evidence_mode") or "any"),
                    answers=tuple(answers) if isinstance(answers, list) else ((answers,) if answers else ()),
                    scored="evidence" in raw,
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise KotaeError(
                f"{path}:{number}: not a question object ({exc}). Each line needs at least a 'question' field."
            ) from None
    return cases


def score_case(case: EvalCase, result: Answer, seconds: float) -> CaseResult:
    reply = result.reply
    texts = [_norm(p.text) for p in reply.passages]
    evidence = [_norm(e) for e in case.evidence]
    rank = next((i for i, t in enumerate(texts, start=1) if any(e in t for e in evidence)), None)
    top5 = texts[:5]
    all_found = bool(evidence) and all(any(e in t for t in top5) for e in evidence)
    carries: bool | None = None
    if case.answerable and reply.answered and case.answers:
        quoted = [_norm(q.text) for q in reply.quotes]
        carries = any(_norm(a) in q for a in case.answers for q in quoted)
    return CaseResult(
        case=case,
        answered=reply.answered,
        rank=rank,
        all_found_in_top5=all_found,
        quote_carries_answer=carries,
        top5_chars=sum(len(p.text) for p in reply.passages[:5]),
        confidence=result.evidence.confidence if result.evidence else None,
        seconds=seconds,
        top_sources=tuple(f"{p.source}:{p.start_line}" for p in reply.passages[:3]),
        quoted=bool(reply.quotes),
    )


def _share(results: Sequence[CaseResult]) -> float:
    return sum(bool(r.quote_carries_answer) for r in results) / len(results) if results else float("nan")


def _hits(results: Sequence[CaseResult]) -> dict[str, float]:
    n = len(results) or 1
    return {
        "n": len(results),
        "hit@1": sum(r.rank == 1 for r in results) / n,
        "hit@3": sum(r.rank is not None and r.rank <= 3 for r in results) / n,
        "hit@5": sum(r.rank is not None and r.rank <= 5 for r in results) / n,
        "mrr@10": sum(1 / r.rank for r in results if r.rank is not None and r.rank <= 10) / n,
    }


@dataclass(frozen=True)
class ThresholdRow:
    """What an abstain threshold would do to a scored question set."""

    threshold: float
    refused_unanswerable: int
    unanswerable: int
    refused_answerable: int
    answerable: int

    @property
    def recall(self) -> float:
        """Share of the unanswerable questions refused."""
        return self.refused_unanswerable / self.unanswerable if self.unanswerable else float("nan")

    @property
    def false_refusals(self) -> float:
        """Share of the answerable questions refused."""
        return self.refused_answerable / self.answerable if self.answerable else float("nan")

    @property
    def precision(self) -> float:
        """Share of the refusals that were right."""
        refused = self.refused_unanswerable + self.refused_answerable
        return self.refused_unanswerable / refused if refused else float("nan")


def _refused_at(r: CaseResult, threshold: float) -> bool:
    return r.confidence is None or not r.quoted or r.confidence < threshold


def threshold_table(results: Sequence[CaseResult], thresholds: Sequence[float]) -> list[ThresholdRow]:
    """Refusals each threshold would make, from the confidences the run recorded (exact: a reply
    is refused when its confidence is under the threshold or it has nothing to quote)."""
    answerable = [r for r in results if r.case.answerable]
    unanswerable = [r for r in results if not r.case.answerable]
    return [
        ThresholdRow(
            t,
            sum(_refused_at(r, t) for r in unanswerable),
            len(unanswerable),
            sum(_refused_at(r, t) for r in answerable),
            len(answerable),
        )
        for t in thresholds
    ]


def suggest_threshold(results: Sequence[CaseResult], max_false_refusals: float = MAX_FALSE_REFUSALS) -> float | None:
    """The highest threshold that refuses at most ``max_false_refusals`` of the answerable
    questions, midway between the two recorded confidences it separates: it refuses the most
    unanswerable questions (and off-topic ones, which the set may not hold) that this budget
    allows. None unless both kinds of question were scored."""
    if not any(r.case.answerable for r in results) or all(r.case.answerable for r in results):
        return None
    confidences = sorted({r.confidence for r in results if r.confidence is not None})
    candidates = [confidences[0] - 0.005] if confidences else []
    candidates += [(a + b) / 2 for a, b in itertools.pairwise(confidences)]
    best: float | None = None
    for row in threshold_table(results, candidates):
        if row.false_refusals > max_false_refusals:
            break
        best = row.threshold
    return None if best is None else round(best, 3)


def _calibration_rows(
    results: Sequence[CaseResult], current: float | None, suggested: float | None
) -> list[ThresholdRow]:
    """A handful of thresholds around the suggested (else the current) one, both included."""
    centre = suggested if suggested is not None else current
    if centre is None:
        return []
    grid = {round(centre + step / 100, 2) for step in range(-4, 5, 2)}
    grid |= {t for t in (current, suggested) if t is not None}
    return threshold_table(results, sorted(grid))


def summarize(results: Sequence[CaseResult], threshold: float | None = None) -> dict[str, Any]:
    """Every metric of a scored run; ``threshold`` is the abstain threshold it ran with (shown
    beside the suggested one in the calibration table)."""
    answerable = [r for r in results if r.case.answerable]
    unanswerable = [r for r in results if not r.case.answerable]
    summary: dict[str, Any] = {"overall": _hits(answerable)}
    for key in ("lang", "kind"):
        groups: dict[str, list[CaseResult]] = defaultdict(list)
        for r in answerable:
            groups[getattr(r.case, key) or "?"].append(r)
        summary[f"by_{key}"] = {g: _hits(rs) for g, rs in sorted(groups.items())}
    multi = [r for r in answerable if r.case.evidence_mode == "all" and len(r.case.evidence) > 1]
    summary["multi_all_in_top5"] = [sum(r.all_found_in_top5 for r in multi), len(multi)]
    refused_unans = sum(not r.answered for r in unanswerable)
    refused_ans = sum(not r.answered for r in answerable)
    refused = refused_unans + refused_ans
    summary["abstention"] = {
        "precision": refused_unans / refused if refused else float("nan"),
        "recall": refused_unans / len(unanswerable) if unanswerable else float("nan"),
        "false_refusal_rate": refused_ans / len(answerable) if answerable else float("nan"),
        "suggested_threshold": (suggested := suggest_threshold(results)),
        "calibration": _calibration_rows(results, threshold, suggested),
    }
    carried = [r for r in answerable if r.quote_carries_answer is not None]
    summary["quote_carries_answer"] = _share(carried)
    by_type: dict[str, list[CaseResult]] = defaultdict(list)
    for r in carried:
        by_type[f"lang={r.case.lang or '?'}"].append(r)
        by_type[f"asks={question_type(r.case.question) or 'other'}"].append(r)
    summary["quote_carries_by"] = {
        k: (sum(bool(r.quote_carries_answer) for r in v), len(v)) for k, v in sorted(by_type.items())
    }
    summary["top5_chars_mean"] = statistics.fmean(r.top5_chars for r in results) if results else 0.0
    times = sorted(r.seconds for r in results)
    if times:
        summary["latency_ms"] = {
            "median": 1000 * statistics.median(times),
            "p95": 1000 * times[min(len(times) - 1, int(0.95 * len(times)))],
        }
    return summary


def _print_summary(summary: dict[str, Any], results: Sequence[CaseResult], out: TextIO) -> None:
    def row(name: str, h: dict[str, float]) -> str:
        scores = "  ".join(f"{k} {h[k]:.2f}" for k in ("hit@1", "hit@3", "hit@5", "mrr@10"))
        return f"  {name:<16} n={h['n']:<3} {scores}"

    print("Retrieval (answerable questions):", file=out)
    print(row("all", summary["overall"]), file=out)
    for key in ("by_lang", "by_kind"):
        for name, h in summary[key].items():
            print(row(f"{key[3:]}={name}", h), file=out)
    m = summary["multi_all_in_top5"]
    print(f"  two-part questions with every evidence in top 5: {m[0]}/{m[1]}", file=out)
    a = summary["abstention"]
    print(
        f"Abstention: precision {a['precision']:.2f}  recall {a['recall']:.2f}  "
        f"false refusals {a['false_refusal_rate']:.2f}",
        file=out,
    )
    _print_calibration(a["calibration"], a["suggested_threshold"], out)
    by = "  ".join(f"{k} {c}/{n}" for k, (c, n) in summary["quote_carries_by"].items())
    print(f"Quote carries the answer: {summary['quote_carries_answer']:.2f}  ({by})", file=out)
    print(f"Top-5 passages, mean characters: {summary['top5_chars_mean']:.0f}", file=out)
    if "latency_ms" in summary:
        lat = summary["latency_ms"]
        print(f"Latency per question: median {lat['median']:.0f} ms, p95 {lat['p95']:.0f} ms", file=out)
    misses = [
        r
        for r in results
        if (r.case.answerable and (r.rank != 1 or not r.answered or r.quote_carries_answer is False))
        or (not r.case.answerable and r.answered)
    ]
    if misses:
        print("\nMisses (rank of first evidence passage; answered; quote carries answer; top sources):", file=out)
        for r in misses:
            conf = f"{r.confidence:.3f}" if r.confidence is not None else "-"
            print(
                f"  {r.case.id:<14} rank={r.rank if r.rank else '-':<3} answered={'Y' if r.answered else 'N'} "
                f"carries={'-' if r.quote_carries_answer is None else 'Y' if r.quote_carries_answer else 'N'} "
                f"conf={conf}  {r.case.question[:50]}  → {', '.join(r.top_sources)}",
                file=out,
            )


def _print_calibration(rows: Sequence[ThresholdRow], suggested: float | None, out: TextIO) -> None:
    if not rows:
        return
    print("  threshold  unanswerable refused  answerable refused  precision", file=out)
    for r in rows:
        mark = "  ← suggested" if suggested is not None and abs(r.threshold - suggested) < 1e-9 else ""
        print(
            f"  {r.threshold:9.3f}  {r.refused_unanswerable:>4}/{r.unanswerable:<4} {r.recall:5.2f}"
            f"     {r.refused_answerable:>4}/{r.answerable:<4} {r.false_refusals:5.2f}  {r.precision:9.2f}{mark}",
            file=out,
        )
    if suggested is not None:
        print(
            f"  suggested: KOTAE_ABSTAIN_THRESHOLD={suggested:.3f} (the highest that refuses at most "
            f"{MAX_FALSE_REFUSALS:.0%} of the answerable questions)",
            file=out,
        )


def run_eval(
    service: Answers, questions: Path, out_path: Path | None, out: TextIO, threshold: float | None = None
) -> int:
    cases = load_cases(questions)
    results: list[CaseResult] = []
    sink = out_path.open("w", encoding="utf-8") if out_path else None
    try:
        for case in cases:
            started = time.perf_counter()
            result = service.answer_in_full(case.question)
            seconds = time.perf_counter() - started
            if sink:
                sink.write(json.dumps({"id": case.id, **reply_to_json(result.reply)}, ensure_ascii=False) + "\n")
            if case.scored:
                results.append(score_case(case, result, seconds))
    finally:
        if sink:
            sink.close()
    if results:
        _print_summary(summarize(results, threshold), results, out)
    else:
        print(f"Answered {len(cases)} questions" + (f"; results in {out_path}" if out_path else "") + ".", file=out)
    return 0
