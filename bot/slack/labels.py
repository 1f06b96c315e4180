"""Every fixed string Kotae shows in Slack, in Japanese and English.

The language follows :attr:`bot.reply.Reply.language` (or :func:`guess_language` of the
question when there is no reply yet, e.g. in an apology).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.query import detect_language

__all__ = ["Labels", "guess_language", "labels_for"]


@dataclass(frozen=True)
class Labels:
    question: str
    sources: str
    closest: str
    footer: str  # formatted with index=
    footer_unknown: str
    lines: str  # formatted with start=, end=
    line: str  # formatted with start=
    language: str  # "ja" or "en": pages, slides and cells are named by bot.render_text.describe_place
    helpful: str
    not_helpful: str
    post_to_channel: str
    posted_by: str  # formatted with user=
    searching: str
    apology: str
    busy: str  # too many questions in flight
    slow_down: str  # this user asked too many questions in the last minute
    thanks: str
    not_allowed: str
    invite_first: str  # "post to channel" in a channel Kotae is not a member of
    no_documents: str  # a channel that may see no knowledge base of the channels file
    no_documents_dm: str  # DMs and the AI-app panel, when they may see none
    empty_question: str
    empty_mention: str
    greeting: str
    prompts_title: str
    more_sources: str  # formatted with count=


_JA = Labels(
    question="質問",
    sources="出典",
    closest="近い資料",
    footer="Kotae · 索引 {index}",
    footer_unknown="Kotae",
    lines="{start}–{end}行",
    line="{start}行",
    language="ja",
    helpful="👍 役に立った",
    not_helpful="👎 役に立たなかった",
    post_to_channel="チャンネルに投稿",
    posted_by="<@{user}> さんの質問への回答",
    searching="文書を検索しています…",
    apology="すみません、回答中に問題が発生しました。しばらくしてからもう一度お試しください。",
    busy="ただいま質問が集中していて、すぐにはお答えできません。1分ほどしてから、もう一度お尋ねください。",
    slow_down="短い時間にたくさんの質問をいただきました。1分ほどしてから、もう一度お尋ねください。",
    thanks="フィードバックありがとうございます。",
    not_allowed="このチャンネルでは回答できません。管理者が許可したチャンネルかDMでお尋ねください。",
    invite_first=(
        "Kotaeはこのチャンネルに参加していないため投稿できません。チャンネルで `/invite @Kotae` と"
        "送って招待してから、もう一度「チャンネルに投稿」を押してください。"
    ),
    no_documents="このチャンネルで検索できる文書は設定されていません。文書が共有されているチャンネルでお尋ねください。",
    no_documents_dm="DMで検索できる文書は設定されていません。文書が共有されているチャンネルでお尋ねください。",
    empty_question="質問を書いてください。例: `/ask 国際戦略の重点分野は？`",
    empty_mention="質問を書いてください。例: `@Kotae 国際戦略の重点分野は？`",
    greeting="こんにちは、Kotaeです。チームの文書から、出典つきの引用で答えます。",
    prompts_title="例えば、こんな質問ができます:",
    more_sources="ほか{count}件",
)

_EN = Labels(
    question="Question",
    sources="Sources",
    closest="Closest documents",
    footer="Kotae · index {index}",
    footer_unknown="Kotae",
    lines="lines {start}–{end}",
    line="line {start}",
    language="en",
    helpful="👍 Helpful",
    not_helpful="👎 Not helpful",
    post_to_channel="Post to channel",
    posted_by="Answer to <@{user}>'s question",
    searching="Searching the documents…",
    apology="Sorry, something went wrong while answering. Please try again in a moment.",
    busy="I'm answering a lot of questions right now and can't take this one. Please ask again in a minute.",
    slow_down="You've asked a lot of questions in the last minute. Please ask again in a minute.",
    thanks="Thanks for the feedback.",
    not_allowed=(
        "I can't answer in this channel. Ask in a channel where Kotae is enabled, or in a DM."
    ),
    invite_first=(
        "I can't post here because Kotae is not a member of this channel. Type `/invite @Kotae` "
        "in the channel, then press “Post to channel” again."
    ),
    no_documents="No documents are shared with this channel, so I can't answer here. Ask in a channel "
                 "whose documents Kotae may search.",
    no_documents_dm="No documents are shared with direct messages, so I can't answer here. Ask in a "
                    "channel whose documents Kotae may search.",
    empty_question="Please write a question, e.g. `/ask What are the priorities of the strategy?`",
    empty_mention="Please write a question, e.g. `@Kotae What are the priorities of the strategy?`",
    greeting="Hi, I'm Kotae. I answer from your team's documents with cited quotes.",
    prompts_title="Try asking:",
    more_sources="and {count} more",
)

def guess_language(text: str) -> str:
    """'ja' when the text contains any kana or kanji, else 'en'."""
    return detect_language(text or "")


def labels_for(language: str) -> Labels:
    return _JA if language == "ja" else _EN
