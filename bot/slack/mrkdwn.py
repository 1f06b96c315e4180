"""Making untrusted text safe for Slack ``mrkdwn``, and shortening it without breaking it.

Everything shown in Slack that comes from a document or from a question goes through
:func:`escape`: ``&``, ``<`` and ``>`` become entities (so ``<!channel>``, ``<@U123>``,
``<!subteam^S1>`` and ``<http://x|y>`` are shown as text, never acted on), and bare
``@channel``/``@here``/``@everyone`` get an invisible word joiner after the ``@`` so that no
client or ``link_names`` setting can turn them into a notification.

:func:`trim` shortens text to a character budget *measured after escaping*, preferring a
sentence boundary (``。！？.!?`` or a line break), and never cuts between a character and the
combining marks, variation selectors or joiners that belong to it.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import accumulate

__all__ = ["ELLIPSIS", "defang", "escape", "escaped_length", "link", "trim", "trim_escaped"]

ELLIPSIS = "…"
_WORD_JOINER = "\u2060"
_BROADCAST = re.compile(r"([@＠])(?=(channel|here|everyone)\b)", re.IGNORECASE)
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SENTENCE_END = frozenset("。！？!?.\n")
# Characters that attach to the previous one: a cut must not separate them from it.
_JOINERS = frozenset("\u200d\u200c\u2060\ufe0e\ufe0f")


def escape(text: str) -> str:
    """Escape ``&<>`` and neutralise broadcast mentions. Idempotence is not needed: call once."""
    return defang("".join(_ENTITIES.get(ch, ch) for ch in text))


def defang(text: str) -> str:
    """Only neutralise ``@channel``/``@here``/``@everyone`` (an invisible word joiner after the
    ``@``): for literal text, such as ``rich_text`` elements, which Slack never parses."""
    return _BROADCAST.sub(lambda m: m.group(1) + _WORD_JOINER, text)


def escaped_length(text: str) -> int:
    return len(escape(text))


def _attached(ch: str) -> bool:
    if ch in _JOINERS or unicodedata.combining(ch):
        return True
    code = ord(ch)
    return 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F  # skin tones, tag chars


def _safe_cut(text: str, end: int) -> int:
    """The largest cut position <= end that does not split a character from its marks."""
    while 0 < end < len(text) and (_attached(text[end]) or text[end - 1] in _JOINERS):
        end -= 1
    return end


def trim(text: str, limit: int, *, literal: bool = False) -> str:
    """``text`` escaped, shortened to at most ``limit`` characters, ending in an ellipsis if cut.

    ``literal``: for text Slack shows as it is (``rich_text``): only :func:`defang`, no entities.
    """
    made_safe = defang if literal else escape
    entities = {} if literal else _ENTITIES
    escaped = made_safe(text)
    if len(escaped) <= limit:
        return escaped
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:max(limit, 0)]
    budget = limit - len(ELLIPSIS)
    # Escaped length of each prefix: an entity (&amp;) is never cut, because we cut raw text.
    # The broadcast neutraliser adds one character per match; count it conservatively by
    # escaping the candidate again below.
    lengths = [0, *accumulate(len(entities.get(ch, ch)) for ch in text)]
    end = max(i for i, n in enumerate(lengths) if n <= budget)
    end = _safe_cut(text, end)
    while end > 0 and len(made_safe(text[:end])) > budget:
        end = _safe_cut(text, end - 1)
    head = text[:end]
    boundary = max((i + 1 for i, ch in enumerate(head) if ch in _SENTENCE_END), default=0)
    if boundary >= len(head) // 2 and boundary > 0:
        head = head[:boundary]
    else:
        space = head.rfind(" ")
        if space >= len(head) * 3 // 4:
            head = head[:space]
    return made_safe(head.rstrip()) + ELLIPSIS


def trim_escaped(text: str, limit: int) -> str:
    """Shorten already-escaped text without breaking an entity (used for our own markup)."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:max(limit, 0)]
    end = _safe_cut(text, limit - len(ELLIPSIS))
    amp = text.rfind("&", 0, end)
    if amp != -1 and ";" not in text[amp:end]:
        end = amp
    return text[:end] + ELLIPSIS


def link(url: str | None, label: str) -> str:
    """A mrkdwn link ``<url|label>`` for http(s) URLs; otherwise just the escaped label.

    ``label`` must already be escaped. The URL is percent-encoded where it could end the link.
    """
    if not url or not re.match(r"https?://", url, re.IGNORECASE):
        return label
    safe = url
    for ch, code in (("|", "%7C"), ("<", "%3C"), (">", "%3E"), (" ", "%20"), ("&", "&amp;")):
        safe = safe.replace(ch, code)
    safe = "".join(c for c in safe if c.isprintable())
    return f"<{safe}|{label.replace('|', '¦')}>"
