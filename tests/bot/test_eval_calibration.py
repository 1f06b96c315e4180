"""``kotae eval`` suggests an abstain threshold and shows what nearby ones would do."""

from __future__ import annotations

import io

from bot.evaluation import CaseResult, EvalCase, _print_calibration, suggest_threshold, summarize, threshold_table


def _result(n: int, answerable: bool, confidence: float, quoted: bool = True) -> CaseResult:
    case = EvalCase(
        id=f"q{n}",
        question="q",
        kind="fact" if answerable else "unanswerable",
        evidence=("x",) if answerable else (),
        answers=("x",) if answerable else (),
        scored=True,
    )
    return CaseResult(
        case, confidence >= 0.8, 1 if answerable else None, answerable, True, 0, confidence, 0.0, (), quoted
    )


def _set() -> list[CaseResult]:
    answerable = [_result(i, True, 0.80 + i / 100) for i in range(20)]  # 0.80 … 0.99
    unanswerable = [_result(100 + i, False, c) for i, c in enumerate((0.70, 0.75, 0.79, 0.815, 0.90))]
    return answerable + unanswerable


def test_table_counts_refusals_at_each_threshold():
    rows = threshold_table(_set(), [0.5, 0.8, 0.805, 0.83])
    assert [(r.refused_unanswerable, r.refused_answerable) for r in rows] == [(0, 0), (3, 0), (3, 1), (4, 3)]
    assert rows[2].recall == 3 / 5 and rows[2].false_refusals == 1 / 20 and rows[2].precision == 3 / 4
    assert threshold_table([_result(1, True, 0.95, quoted=False)], [0.5])[0].refused_answerable == 1  # nothing to quote


def test_suggestion_is_the_highest_threshold_within_five_percent_false_refusals():
    # Refusing the answerable 0.80 (1 of 20: 5 %) is allowed: midway between 0.80 and 0.81, which
    # refuses 0.70, 0.75 and 0.79. Refusing 0.815 too would refuse 0.81 as well (10 %): too many.
    assert suggest_threshold(_set()) == 0.805
    assert suggest_threshold(_set(), max_false_refusals=0.10) == 0.818  # midway 0.815 / 0.82
    assert suggest_threshold([_result(1, True, 0.9)]) is None  # no unanswerable question to refuse


def test_summary_prints_a_small_table_with_the_suggestion():
    summary = summarize(_set(), threshold=0.82)
    a = summary["abstention"]
    assert a["suggested_threshold"] == 0.805
    thresholds = [r.threshold for r in a["calibration"]]
    assert 0.82 in thresholds and 0.805 in thresholds and len(thresholds) <= 7
    out = io.StringIO()
    _print_calibration(a["calibration"], a["suggested_threshold"], out)
    text = out.getvalue()
    assert "← suggested" in text and "KOTAE_ABSTAIN_THRESHOLD=0.805" in text
