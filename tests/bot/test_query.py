from bot.query import detect_language, parse_query


def test_language_follows_script():
    assert detect_language("日本方式を採用した国は？") == "ja"
    assert detect_language("ｼｽｺ の話") == "ja"  # half-width katakana
    assert detect_language("Which countries adopted ISDB-T?") == "en"


def test_normalisation_is_for_matching_only():
    q = parse_query("  ２０１４年の会合は？ ")
    assert q.text == "２０１４年の会合は？"
    assert q.normalized == "2014年の会合は?"


def test_era_years_gain_their_western_year():
    assert "2013年" in parse_query("平成25年の白書").normalized
    assert "2019年" in parse_query("令和元年に何があった").normalized
    assert "平成25年" in parse_query("平成25年の白書").normalized  # original kept for lexical match


def test_slack_mentions_and_controls_are_removed():
    q = parse_query("<@U123ABC> <!channel>\u202e地デジ\u200bの国は？\x07")
    assert "U123ABC" not in q.normalized
    assert "channel" not in q.normalized
    assert q.normalized == "地デジの国は?"


def test_empty_questions_are_recognised():
    assert parse_query("").is_empty
    assert parse_query("   \n\t").is_empty
    assert parse_query("<@U0123456>").is_empty
    assert parse_query("？！…").is_empty
    assert not parse_query("ITU?").is_empty


def test_lone_surrogates_from_a_mis_decoded_terminal_are_dropped():
    q = parse_query("ボツワナ\udc82\udca0は？")
    assert q.normalized == "ボツワナは?"
    assert "\ufffd" in q.text
    q.text.encode("utf-8")  # printable: no lone surrogate left
