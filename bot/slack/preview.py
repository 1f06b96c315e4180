"""A plain-text picture of a Block Kit message, as Slack would roughly display it."""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = ["readable"]

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")
_MENTION = re.compile(r"<@([A-Z0-9]+)>")


def _mrkdwn(text: str) -> str:
    text = _LINK.sub(lambda m: f"{m.group(2)} ({html.unescape(m.group(1))})", text)
    text = _MENTION.sub(lambda m: f"@{m.group(1)}", text)
    text = html.unescape(text).replace("\u2060", "")
    return re.sub(r"(?<!\w)\*([^*\n]+)\*(?!\w)", r"\1", text)


def _rich_text(block: dict[str, Any]) -> list[str]:
    """Rich text is literal: its characters are shown as they are (quotes with a bar)."""
    lines: list[str] = []
    for element in block.get("elements", []):
        text = "".join(leaf.get("text", "") for leaf in element.get("elements", [])
                       if isinstance(leaf, dict)).replace("\u2060", "")
        bar = "  │ " if element.get("type") == "rich_text_quote" else ""
        lines.extend(bar + line for line in text.splitlines() or [""])
    return lines


def readable(blocks: list[dict[str, Any]], width: int = 78) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            text = _mrkdwn(block["text"]["text"])
            lines.extend("  │ " + line[2:] if line.startswith("> ") else line
                         for line in text.splitlines())
        elif kind == "rich_text":
            lines.extend(_rich_text(block))
        elif kind == "divider":
            lines.append("─" * width)
        elif kind == "context":
            lines.append("  " + "  ".join(_mrkdwn(e.get("text", "")) for e in block["elements"]))
        elif kind == "actions":
            lines.append(" ".join(f"[ {e['text']['text']} ]" for e in block["elements"]))
    return "\n".join(lines) + "\n"
