from bot.evidence import weigh_evidence


def _weigh(question="第14回の会合の成果は?", texts=("第14回会合を開催",), quoted=frozenset({"会合", "成果"})):
    return weigh_evidence(
        sentence=0.85,
        dense=0.8,
        question_terms={"会合", "成果", "14"},
        quoted_terms=set(quoted),
        question=question,
        retrieved_texts=list(texts),
    )


def test_coverage_raises_confidence():
    low = _weigh(quoted=frozenset())
    high = _weigh(quoted=frozenset({"会合", "成果", "14"}))
    assert high.coverage == 1.0 and low.coverage == 0.0
    assert high.confidence > low.confidence


def test_numbers_absent_from_retrieved_text_lower_confidence():
    near_miss = _weigh(question="第15回の会合の成果は?")
    match = _weigh(question="第14回の会合の成果は?")
    assert near_miss.missing_numbers == ("15",)
    assert match.missing_numbers == ()
    assert near_miss.confidence < match.confidence


def test_full_width_numbers_count_as_present():
    ev = _weigh(question="第14回は?", texts=("第１４回会合",))
    assert ev.missing_numbers == ()


def test_threshold_decides():
    ev = _weigh()
    assert ev.answers(ev.confidence)
    assert not ev.answers(ev.confidence + 0.001)
