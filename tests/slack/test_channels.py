"""Several knowledge bases in one bot, end to end: the real App over real HTTP and Socket Mode,
real indexes (built with the fake model) behind a real channels file. Every way of asking —
mention, DM, thread follow-up, /ask, "post to channel", the AI-app panel — tries to reach the HR
documents from somewhere that may not see them; none may."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.channels_file import load_channels_file
from bot.knowledge_bases import KnowledgeBases, settings_index_for
from bot.settings import Settings
from bot.slack.blocks import ACTION_POST_TO_CHANNEL
from bot.slack.standin import StandIn
from bot.slack.standin import payloads as P
from bot.slack.standin.validation import message_error
from tests.embeddings.helpers import DOCS, build
from tests.fakes import FakeEmbedder, FakeEmbedderFactory
from tests.reliability.helpers import write_tree
from tests.slack.conftest import make_settings, socket_bot_running

HR = "C0HRCHAN01"  # the channel listed under the hr knowledge base
GENERAL = "C0GENERAL1"  # not listed: the default (general) knowledge base
SECRET = "人事部限定"  # in every HR title and passage
HR_DOCS = {
    "leave.md": f"# {SECRET} 休暇規程\n\n年次有給休暇は入社6か月後に10日付与される。{SECRET}の規程である。\n",
    "pay.txt": f"{SECRET} 給与規程\n\n給与は毎月25日に支払われる。賞与は{SECRET}の基準で年2回支給する。\n",
}
GENERAL_DOCS = {**DOCS, "strategy.md": "# 国際戦略の重点\n\n我が国はICT分野の国際競争力の強化を目指す。\n"}
HR_QUESTION = "年次有給休暇は何日付与される？"  # shares no marker of SECRETS: the reply echoes it
SECRETS = (SECRET, "leave.md", "pay.txt", "休暇規程", "給与規程")


def leaked(payload: dict) -> list[str]:
    text = json.dumps(payload, ensure_ascii=False)
    return [s for s in SECRETS if s in text]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Two documents folders with real indexes, built once for the module."""
    root = tmp_path_factory.mktemp("channels")
    write_tree(root / "general", GENERAL_DOCS)
    write_tree(root / "hr", HR_DOCS)
    build(root / "general", root / "index-general", FakeEmbedderFactory())
    build(root / "hr", root / "index-hr", FakeEmbedderFactory())
    return root


def knowledge_bases(root: Path, tail: str = "default: general\n") -> tuple[KnowledgeBases, FakeEmbedder]:
    path = root / f"channels-{abs(hash(tail))}.yaml"
    path.write_text(
        "knowledge_bases:\n"
        "  - name: general\n    docs: general\n    index: index-general\n"
        f"  - name: hr\n    docs: hr\n    index: index-hr\n    channels: [{HR}]\n" + tail,
        encoding="utf-8",
    )
    settings = Settings.load({"channels_file": str(path)}, env={"KOTAE_DATA_DIR": str(root / "data")})
    settings = settings.with_(abstain_threshold=-10.0)  # the fake model's scores are low: always answer
    embedder = FakeEmbedder()
    config = load_channels_file(path, settings_index_for(settings))
    return KnowledgeBases.from_config(config, settings, embedder), embedder


def answered_from(logs, count: int = 1) -> list[str]:
    """The knowledge base named by each question log line, once there are ``count``."""
    return [json.loads(line)["knowledge_base"] for line in logs.wait_for_all('"event": "question"', count)]


# -- mentions ---------------------------------------------------------------------------------------
def test_a_mention_is_answered_only_from_the_channels_knowledge_base(http_bot, slack, built, logs):
    bases, _ = knowledge_bases(built)
    bot = http_bot(bases)
    bot.sender.event(P.event_callback(P.mention(HR_QUESTION, channel=GENERAL)))
    general = slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == GENERAL)[0].args
    assert message_error(general) is None and leaked(general) == []
    assert "isdb.txt" in json.dumps(general, ensure_ascii=False) or "日本方式" in json.dumps(general,
                                                                                          ensure_ascii=False)
    bot.sender.event(P.event_callback(P.mention(HR_QUESTION, channel=HR)))
    hr = slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == HR)[0].args
    assert SECRET in json.dumps(hr, ensure_ascii=False) and "年次有給休暇" in json.dumps(hr, ensure_ascii=False)
    assert sorted(answered_from(logs, 2)) == ["general", "hr"]


# -- DMs and the AI-app panel -----------------------------------------------------------------------
def test_a_dm_and_the_ai_panel_see_the_default_only(http_bot, slack, built, logs):
    bases, _ = knowledge_bases(built)
    bot = http_bot(bases)
    bot.sender.event(P.event_callback(P.message(HR_QUESTION, channel="D0DMCHAN01")))
    bot.sender.event(P.event_callback(P.message(HR_QUESTION, channel="D0ASSIST11",
                                                thread_ts="1700000000.000111")))
    posts = slack.recorder.wait_for("chat.postMessage", count=2)
    assert {c.args["channel"] for c in posts} == {"D0DMCHAN01", "D0ASSIST11"}
    assert all(leaked(c.args) == [] and message_error(c.args) is None for c in posts)
    assert answered_from(logs, 2) == ["general", "general"]
    # The panel's suggested prompts come from what DMs may see, never from HR headings.
    bot.sender.event(P.event_callback(P.assistant_thread_started(channel="D0ASSIST12")))
    prompts = slack.recorder.wait_for("assistant.threads.setSuggestedPrompts")[0].args
    assert "国際戦略の重点について教えて" in json.dumps(prompts, ensure_ascii=False) and leaked(prompts) == []


def test_dms_may_be_given_a_restricted_knowledge_base_explicitly(http_bot, slack, built, logs):
    bases, _ = knowledge_bases(built, "default: general\ndirect_messages: [general, hr]\n")
    bot = http_bot(bases)
    bot.sender.event(P.event_callback(P.message(HR_QUESTION, channel="D0DMCHAN02")))
    post = slack.recorder.wait_for("chat.postMessage")[0].args
    assert SECRET in json.dumps(post, ensure_ascii=False)  # the best-supported of the two
    assert answered_from(logs) == ["hr"]
    bot.sender.event(P.event_callback(P.mention(HR_QUESTION, channel=GENERAL)))
    general = slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == GENERAL)[0].args
    assert leaked(general) == []  # channels are unaffected by the DM setting


# -- threads ----------------------------------------------------------------------------------------
def test_thread_follow_ups_are_answered_from_the_threads_channel(http_bot, slack, built, logs):
    bases, _ = knowledge_bases(built)
    bot = http_bot(bases, slack_mention_only=False)
    for channel in (GENERAL, HR):
        root = slack.add_message(channel, "<@U0KOTAEBOT> 最初の質問")
        slack.add_message(channel, "answer", thread_ts=root, bot=True)
        follow = P.message(HR_QUESTION, channel=channel, channel_type="channel", thread_ts=root)
        bot.sender.event(P.event_callback(follow))
        post = slack.recorder.wait_for("chat.postMessage", lambda c, ch=channel: c.args["channel"] == ch)[0].args
        assert post["thread_ts"] == root
        assert (leaked(post) == []) == (channel == GENERAL)
    # And with a mention in the thread (mention_only's way of following up).
    root = slack.add_message(GENERAL, "<@U0KOTAEBOT> 最初の質問")
    bot.sender.event(P.event_callback(P.mention(HR_QUESTION, channel=GENERAL, thread_ts=root)))
    posts = slack.recorder.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") == root)
    assert leaked(posts[0].args) == []
    assert answered_from(logs, 3) == ["general", "hr", "general"]


# -- /ask and "post to channel" ---------------------------------------------------------------------
def test_ask_answers_from_the_channel_it_was_typed_in_and_posting_never_leaks(http_bot, slack, built, logs):
    bases, _ = knowledge_bases(built)
    bot = http_bot(bases)
    bot.sender.form(P.slash_command(HR_QUESTION, slack.response_url("ask-general"), channel=GENERAL))
    in_general = slack.recorder.wait_for("response_url", lambda c: c.args["_key"] == "ask-general")[0].args
    assert leaked(in_general) == []
    bot.sender.form(P.slash_command(HR_QUESTION, slack.response_url("ask-hr"), channel=HR))
    in_hr = slack.recorder.wait_for("response_url", lambda c: c.args["_key"] == "ask-hr")[0].args
    assert SECRET in json.dumps(in_hr, ensure_ascii=False)
    button = in_hr["blocks"][-1]["elements"][-1]
    assert button["action_id"] == ACTION_POST_TO_CHANNEL
    # The HR answer's button, clicked (or forged) in #general: answered again from general.
    forged = P.block_action(ACTION_POST_TO_CHANNEL, button["value"], slack.response_url("post-general"),
                            channel=GENERAL, ephemeral=True)
    assert bot.sender.form(P.form_of(forged)).status == 200
    posted = slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == GENERAL)[0].args
    assert leaked(posted) == []
    # Clicked where it was shown, it posts the HR answer to #hr.
    click = P.block_action(ACTION_POST_TO_CHANNEL, button["value"], slack.response_url("post-hr"),
                           channel=HR, ephemeral=True)
    bot.sender.form(P.form_of(click))
    posted = slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == HR)[0].args
    assert SECRET in json.dumps(posted, ensure_ascii=False)
    assert answered_from(logs, 4) == ["general", "hr", "general", "hr"]


# -- no default: unlisted channels and DMs are refused with a note ----------------------------------
def test_without_a_default_unlisted_channels_and_dms_are_refused_with_a_note(http_bot, slack, built, logs):
    bases, embedder = knowledge_bases(built, "")
    bot = http_bot(bases, slack_mention_only=False)
    bot.sender.event(P.event_callback(P.mention(HR_QUESTION, channel=GENERAL)))
    note = slack.recorder.wait_for("chat.postEphemeral")[0].args
    assert note["channel"] == GENERAL and "検索できる文書は設定されていません" in note["text"]
    ack = bot.sender.form(P.slash_command("What is ISDB-T?", slack.response_url("refused"), channel=GENERAL))
    assert "No documents are shared with this channel" in ack.json()["text"]
    bot.sender.event(P.event_callback(P.message(HR_QUESTION, channel="D0DMCHAN03")))
    dm_note = slack.recorder.wait_for("chat.postEphemeral", count=2)[1].args
    assert dm_note["channel"] == "D0DMCHAN03" and "DMで検索できる文書" in dm_note["text"]
    bot.sender.event(P.event_callback(P.message(HR_QUESTION, channel="D0ASSIST13", thread_ts="1700000000.000113")))
    panel = slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == "D0ASSIST13")[0].args
    assert "DMで検索できる文書" in panel["text"] and leaked(panel) == []
    bot.sender.event(P.event_callback(P.assistant_thread_started(channel="D0ASSIST14")))
    greeting = slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == "D0ASSIST14")[0].args
    assert "No documents are shared with direct messages" in greeting["text"]
    # A thread follow-up in an unlisted channel is ignored; a forged "post" click posts nothing.
    root = slack.add_message(GENERAL, "<@U0KOTAEBOT> 最初の質問")
    slack.add_message(GENERAL, "answer", thread_ts=root, bot=True)
    bot.sender.event(P.event_callback(P.message(HR_QUESTION, channel=GENERAL, channel_type="channel",
                                                thread_ts=root)))
    click = P.block_action(ACTION_POST_TO_CHANNEL, json.dumps({"q": HR_QUESTION}), slack.response_url("p"),
                           channel=GENERAL, ephemeral=True)
    bot.sender.form(P.form_of(click))
    # The listed channel still works, and is the only question ever searched.
    bot.sender.event(P.event_callback(P.mention(HR_QUESTION, channel=HR)))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == HR)
    assert answered_from(logs) == ["hr"] and len(embedder.queries) == 1
    assert all(c.args["channel"] in {HR, "D0ASSIST13", "D0ASSIST14"} for c in slack.recorder.calls("chat.postMessage"))


def test_the_channel_allow_list_still_applies_first(http_bot, slack, built):
    bases, embedder = knowledge_bases(built)
    bot = http_bot(bases, slack_channels=frozenset({HR}))
    bot.sender.event(P.event_callback(P.mention(HR_QUESTION, channel=GENERAL)))
    note = slack.recorder.wait_for("chat.postEphemeral")[0].args
    assert "管理者が許可したチャンネル" in note["text"]  # the allow-list's own note
    bot.sender.event(P.event_callback(P.mention(HR_QUESTION, channel=HR)))
    slack.recorder.wait_for("chat.postMessage", lambda c: c.args["channel"] == HR)
    assert len(embedder.queries) == 1  # only the question asked in #hr was searched


# -- the same over Socket Mode ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def socket_bot(standin: StandIn, built, tmp_path_factory):
    bases, _ = knowledge_bases(built)
    settings = make_settings(standin, tmp_path_factory.mktemp("socket-channels"))
    with socket_bot_running(standin, settings, bases) as app:
        yield app


def test_over_socket_mode_no_entry_point_reaches_another_channels_documents(socket_bot, slack):
    slack.push(P.event_callback(P.mention(HR_QUESTION, channel=GENERAL)))
    slack.push(P.event_callback(P.message(HR_QUESTION, channel="D0SOCKDM21")))
    slack.push(P.event_callback(P.message(HR_QUESTION, channel="D0SOCKAI21", thread_ts="1700000000.000121")))
    slack.push(P.slash_command(HR_QUESTION, slack.response_url("sock-ask"), channel=GENERAL), kind="slash_commands")
    slack.push(P.event_callback(P.mention(HR_QUESTION, channel=HR)))
    posts = slack.recorder.wait_for("chat.postMessage", count=4, timeout=20)
    ask = slack.recorder.wait_for("response_url", lambda c: "blocks" in c.args)[0].args
    by_channel = {c.args["channel"]: c.args for c in posts}
    assert set(by_channel) == {GENERAL, "D0SOCKDM21", "D0SOCKAI21", HR}
    for channel in (GENERAL, "D0SOCKDM21", "D0SOCKAI21"):
        assert leaked(by_channel[channel]) == [], channel
    assert leaked(ask) == []
    assert SECRET in json.dumps(by_channel[HR], ensure_ascii=False)


# -- with the real model -------------------------------------------------------------------------------
@pytest.mark.model
def test_real_model_answers_hr_questions_in_hr_only(http_bot, slack, tmp_path):
    """Both knowledge bases indexed with the real bundled model, loaded once and shared."""
    from embeddings import load_embedder

    write_tree(tmp_path / "general", GENERAL_DOCS)
    write_tree(tmp_path / "hr", HR_DOCS)
    path = tmp_path / "kotae-channels.yaml"
    path.write_text("knowledge_bases:\n  - {name: general, docs: general}\n"
                    f"  - {{name: hr, docs: hr, channels: [{HR}]}}\ndefault: general\n", encoding="utf-8")
    settings = Settings.load({"channels_file": str(path)}, env={"KOTAE_DATA_DIR": str(tmp_path / "data")})
    bases = KnowledgeBases.from_config(load_channels_file(path, settings_index_for(settings)), settings,
                                       load_embedder(settings.model))
    for _, service in bases.services():
        service.refresh(progress=False)
    bot = http_bot(bases)
    question = "年次有給休暇は入社後いつ何日付与されますか？"
    bot.sender.event(P.event_callback(P.mention(question, channel=GENERAL)))
    bot.sender.event(P.event_callback(P.mention(question, channel=HR)))
    posts = slack.recorder.wait_for("chat.postMessage", count=2, timeout=60)
    by_channel = {c.args["channel"]: json.dumps(c.args, ensure_ascii=False) for c in posts}
    assert all(message_error(c.args) is None for c in posts)
    assert not any(s in by_channel[GENERAL] for s in SECRETS)
    assert "年次有給休暇は入社6か月後に10日付与される。" in by_channel[HR]  # quoted verbatim
