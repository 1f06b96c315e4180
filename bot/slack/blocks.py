"""Rendering a :class:`~bot.reply.Reply` as a Slack message: pure functions, no I/O.

The output always respects Slack's limits (:mod:`bot.slack.limits`): at most 50 blocks, at most
3,000 characters per section, at most ~11k characters of block text in total. Long quotes are
shortened at a sentence boundary with an ellipsis; what does not fit is dropped from the end,
never silently from the middle, and the sources list always stays.

Quotes are ``rich_text`` quote blocks: their text elements are shown as they are, never parsed as
mrkdwn, so ``*``, ``_``, ``~``, backticks, ``&``, ``<`` and ``>`` in a document look exactly as in
the document, and ``<!channel>`` or ``<@U…>`` stay text (a mention in rich text needs a ``user``
or ``broadcast`` element, which Kotae never makes). Bare ``@here``/``@channel``/``@everyone``
still get an invisible word joiner (:func:`~bot.slack.mrkdwn.defang`), for any client that
would link them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from bot.render_text import describe_place
from bot.reply import Citation, Reply
from bot.slack import limits
from bot.slack.labels import Labels, labels_for
from bot.slack.mrkdwn import ELLIPSIS, defang, escape, link, trim, trim_escaped

__all__ = [
    "ACTION_FEEDBACK_DOWN",
    "ACTION_FEEDBACK_UP",
    "ACTION_POST_TO_CHANNEL",
    "Rendered",
    "answer_id",
    "render_notice",
    "render_reply",
]

ACTION_FEEDBACK_UP = "kotae_feedback_up"
ACTION_FEEDBACK_DOWN = "kotae_feedback_down"
ACTION_POST_TO_CHANNEL = "kotae_post_to_channel"

_LEAD_LIMIT = 500
_QUESTION_LIMIT = 300
_SOURCE_ENTRY_LIMIT = 400
_SOURCES_LIMIT = 2800
_FOOTER_LIMIT = 200
_CLOSEST_SHOWN = 3
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
Block = dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    """A message ready for ``chat.postMessage``: ``text`` is the notification fallback."""

    text: str
    blocks: tuple[Block, ...]
    answer_id: str = ""

    def blocks_list(self) -> list[Block]:
        return [dict(b) for b in self.blocks]


def answer_id(reply: Reply) -> str:
    """A short stable id for one answer (question, index version and quoted spans)."""
    digest = hashlib.sha256()
    quoted = (f"{q.citation}:{q.text}" for q in reply.quotes)
    for part in (reply.index_version, reply.question, *quoted):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text[: limits.MAX_BUTTON_TEXT], "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _quote_block(text: str, n: int, limit: int) -> Block:
    """The quote as literal rich text, then its bold ``[n]``: at most ``limit`` characters."""
    marker = f"  [{n}]"
    body = trim(text.strip(), max(limit - len(marker), 1), literal=True) or ELLIPSIS
    quoted = [{"type": "text", "text": body}, {"type": "text", "text": marker, "style": {"bold": True}}]
    return {"type": "rich_text", "elements": [{"type": "rich_text_quote", "elements": quoted}]}


def _location(citation: Citation, labels: Labels) -> str:
    parts = []
    if citation.start_line and citation.end_line and citation.end_line != citation.start_line:
        parts.append(labels.lines.format(start=citation.start_line, end=citation.end_line))
    elif citation.start_line:
        parts.append(labels.line.format(start=citation.start_line))
    place = describe_place(citation, labels.language)
    if place is not None:
        parts.append(escape(place))  # a sheet's name may hold & < >
    return " · ".join(parts)


def source_entry(citation: Citation, labels: Labels) -> str:
    """``*[n]* <url|Title> › Section · lines a–b · p. N · `file``` within a size limit."""
    title = trim(citation.title or citation.source, 150)
    head = link(citation.url, title)
    if citation.section:
        head += " › " + trim(" › ".join(citation.section), 150)
    tail = [t for t in (_location(citation, labels),) if t]
    if not citation.url and citation.source:
        tail.append("`" + trim(citation.source.replace("`", "'"), 120) + "`")
    entry = f"*[{citation.n}]* {head}"
    if tail:
        entry += " · " + " · ".join(tail)
    if len(entry) > _SOURCE_ENTRY_LIMIT:
        # Drop the link rather than break it, then shorten the plain text.
        entry = trim_escaped(f"*[{citation.n}]* {title} · " + " · ".join(tail), _SOURCE_ENTRY_LIMIT)
    return entry


def _sources_text(heading: str, citations: tuple[Citation, ...], labels: Labels) -> str:
    lines = [f"*{heading}*"]
    used = len(lines[0])
    for i, citation in enumerate(citations):
        entry = source_entry(citation, labels)
        rest = len(citations) - i
        if used + 1 + len(entry) > _SOURCES_LIMIT - 40:
            lines.append("_" + labels.more_sources.format(count=rest) + "_")
            break
        lines.append(entry)
        used += 1 + len(entry)
    return "\n".join(lines)


def _footer(reply: Reply, labels: Labels) -> str:
    version = reply.index_version
    text = labels.footer.format(index=escape(version)) if version else labels.footer_unknown
    return trim_escaped(text, _FOOTER_LIMIT)


def _json_value(data: dict[str, Any], shrink_key: str) -> str:
    """JSON for a button value, shortening ``data[shrink_key]`` until it fits 2,000 chars."""
    text = str(data.get(shrink_key, ""))
    while True:
        value = json.dumps({**data, shrink_key: text}, ensure_ascii=False, separators=(",", ":"))
        if len(value) <= limits.MAX_BUTTON_VALUE:
            return value
        text = text[: max(len(text) - (len(value) - limits.MAX_BUTTON_VALUE) - 1, 0)]


def feedback_value(reply: Reply, aid: str) -> str:
    sources = [f"{c.source}#L{c.start_line}-{c.end_line}" for c in reply.citations[:10]]
    data = {
        "a": aid,
        "v": reply.index_version[:100],
        "s": [s[:120] for s in sources],
        "q": reply.question,
    }
    return _json_value(data, "q")


def post_value(question: str) -> str:
    return _json_value({"q": question}, "q")


def _water_fill(lengths: list[int], budget: int) -> list[int]:
    """Share ``budget`` among items: small ones get all they need, large ones an equal share."""
    shares = [0] * len(lengths)
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    remaining = budget
    for k, i in enumerate(order):
        fair = remaining // (len(order) - k)
        shares[i] = min(lengths[i], fair)
        remaining -= shares[i]
    return shares


def render_reply(
    reply: Reply,
    *,
    show_question: bool = False,
    post_button: bool = False,
    feedback: bool = True,
    asked_by: str | None = None,
) -> Rendered:
    """The Slack message for ``reply``.

    ``show_question`` adds the question on top (for ``/ask``, whose command is not shown in
    the channel); ``post_button`` adds "post to channel" (ephemeral answers); ``asked_by`` (a
    user ID) credits the asker when an answer is posted on their behalf.
    """
    labels = labels_for(reply.language)
    aid = answer_id(reply)
    head: list[Block] = []
    if asked_by and _USER_ID.fullmatch(asked_by):
        head.append(_context(labels.posted_by.format(user=asked_by)))
    if show_question or asked_by:
        head.append(_context(f"*{labels.question}:* " + trim(reply.question, _QUESTION_LIMIT)))
    head.append(_section(trim(reply.lead, _LEAD_LIMIT) or " "))

    tail: list[Block] = []
    if reply.answered:
        if reply.citations:
            tail.append({"type": "divider"})
            tail.append(_section(_sources_text(labels.sources, reply.citations, labels)))
    elif reply.citations:
        closest = reply.citations[:_CLOSEST_SHOWN]
        tail.append(_section(_sources_text(labels.closest, closest, labels)))
    tail.append(_context(_footer(reply, labels)))
    buttons = []
    if feedback:
        value = feedback_value(reply, aid)
        buttons.append(_button(labels.helpful, ACTION_FEEDBACK_UP, value))
        buttons.append(_button(labels.not_helpful, ACTION_FEEDBACK_DOWN, value))
    if post_button:
        value = post_value(reply.question)
        buttons.append(_button(labels.post_to_channel, ACTION_POST_TO_CHANNEL, value, "primary"))
    if buttons:
        tail.append({"type": "actions", "block_id": f"kotae_actions_{aid}", "elements": buttons})

    quotes = reply.quotes if reply.answered else ()
    room = limits.MAX_BLOCKS - len(head) - len(tail)
    quotes = quotes[: max(room, 0)]
    fixed = sum(len(t) for t in limits.block_texts(head + tail))
    overhead = 8  # the "  [n]" marker of each quote
    budget = max(limits.MAX_TOTAL_TEXT - fixed - overhead * len(quotes), 0)
    wanted = [min(len(defang(q.text.strip())) + overhead, limits.MAX_SECTION_TEXT) for q in quotes]
    shares = _water_fill(wanted, budget)
    body = [
        _quote_block(q.text, q.citation, share)
        for q, share, want in zip(quotes, shares, wanted, strict=True)
        # A quote squeezed below 40 characters says nothing: leave it to the sources.
        if share >= min(want, 40)
    ]
    blocks = tuple(head + body + tail)
    return Rendered(text=fallback_text(reply), blocks=blocks, answer_id=aid)


def fallback_text(reply: Reply) -> str:
    """The notification text: the lead and the start of the first quote."""
    text = trim(reply.lead, _LEAD_LIMIT)
    if reply.answered and reply.quotes:
        first = reply.quotes[0]
        text += "\n" + trim(first.text, 300) + f" [{first.citation}]"
    return trim_escaped(text, limits.MAX_FALLBACK_TEXT)


def render_notice(text: str) -> Rendered:
    """A one-line message of our own (apology, progress, refusal); ``text`` is trusted mrkdwn."""
    body = trim_escaped(text, limits.MAX_SECTION_TEXT)
    return Rendered(text=body, blocks=(_section(body),))
