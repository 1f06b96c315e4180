import pytest

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


def test_coverage_is_reported_but_does_not_move_confidence():
    low = _weigh(quoted=frozenset())
    high = _weigh(quoted=frozenset({"会合", "成果", "14"}))
    assert high.coverage == 1.0 and low.coverage == 0.0
    assert high.confidence == low.confidence


def test_english_questions_get_the_cross_lingual_offset():
    kwargs = dict(sentence=0.8, dense=0.8, question_terms=set(), quoted_terms=set(), retrieved_texts=[])
    en = weigh_evidence(question="Where?", language="en", **kwargs)
    ja = weigh_evidence(question="どこ?", language="ja", **kwargs)
    assert en.confidence - ja.confidence == pytest.approx(0.035)


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


def test_ordinals_in_questions():
    from bot.evidence import ordinal_units

    def ordinals(text: str) -> set[str]:
        return {number for number, _ in ordinal_units(text)}

    assert ordinals("第１５回の会合は？") == {"15"}
    assert ordinals("the 13th Japan-US dialogue") == {"13"}
    assert ordinals("2番目に採用した国") == {"2"}
    assert ordinals("2013年の会合") == set()


def test_missing_ordinal_is_a_strong_signal():
    near_miss = _weigh(question="第15回の会合の成果は?", texts=("第14回会合を開催 15名が参加",))
    match = _weigh(question="第14回の会合の成果は?", texts=("第14回会合を開催 15名が参加",))
    assert near_miss.missing_ordinals == ("15",)
    assert near_miss.missing_numbers == ()
    assert match.missing_ordinals == ()
    assert match.confidence - near_miss.confidence >= 0.25


def test_an_ordinal_counts_something_and_must_count_the_same_thing():
    from bot.evidence import ordinal_units

    assert ordinal_units("第１５回の会合") == {("15", "回")}
    assert ordinal_units("15回目の会合") == {("15", "回")}
    assert ordinal_units("２番目に採用") == {("2", "目")} == ordinal_units("2か国目の採用")
    assert ordinal_units("第2節参照") == {("2", "節")}
    assert ordinal_units("the 2nd country") == {("2", None)}
    # "the second to adopt" is not answered by a text that only has chapter 2 or meeting 2
    second = _weigh(question="アフリカで２番目に採用した国は？", texts=("第2節参照", "第2回会合"))
    assert second.missing_ordinals == ("2",)
    assert _weigh(question="アフリカで２番目に採用した国は？", texts=("2か国目の採用",)).missing_ordinals == ()
    # meetings match across the ways of writing them, and an English ordinal matches any unit
    assert _weigh(question="第15回会合では？", texts=("15回目の会合",)).missing_ordinals == ()
    assert _weigh(question="What happened at the 15th meeting?", texts=("第15回会合",)).missing_ordinals == ()
    assert _weigh(question="第15回会合では？", texts=("the 15th meeting",)).missing_ordinals == ()
    assert _weigh(question="第15回会合では？", texts=("第15節",)).missing_ordinals == ("15",)



def test_a_question_about_nothing_the_documents_mention_is_refused():
    base = dict(sentence=0.9, dense=0.9, question_terms=set(), quoted_terms=set(), question="?", retrieved_texts=())
    unknown = weigh_evidence(**base, known_words=0)
    one = weigh_evidence(**base, known_words=1)
    assert one.confidence - unknown.confidence == pytest.approx(0.3)
    assert weigh_evidence(**base).confidence == one.confidence  # not counted: no penalty
    assert unknown.known_words == 0
