"""Slack's message limits, with the safety margins Kotae renders to."""

from __future__ import annotations

__all__ = [
    "MAX_BLOCKS",
    "MAX_BUTTON_TEXT",
    "MAX_BUTTON_VALUE",
    "MAX_CONTEXT_TEXT",
    "MAX_FALLBACK_TEXT",
    "MAX_SECTION_TEXT",
    "MAX_TOTAL_TEXT",
    "block_texts",
]

MAX_BLOCKS = 50  # per message
MAX_SECTION_TEXT = 3000  # section text object
MAX_CONTEXT_TEXT = 3000  # per context element; we keep them short anyway
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
# Slack rejects a message whose blocks hold roughly 12-13k characters (msg_blocks_too_long);
# we render to 11,000 to stay clear of the exact threshold.
MAX_TOTAL_TEXT = 11_000
# The top-level `text` is a notification fallback; Slack recommends <= 4,000 characters.
MAX_FALLBACK_TEXT = 3000


def block_texts(blocks: list[dict] | tuple[dict, ...]) -> list[str]:
    """Every text string inside ``blocks`` (section, context, header, button labels, rich text)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in {"mrkdwn", "plain_text", "text"} and isinstance(node.get("text"), str):
                found.append(node["text"])
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item)

    walk(list(blocks))
    return found
