"""Slack's checks on a posted message, as the stand-in applies them.

Deliberately written apart from the renderer (numbers from Slack's documentation, not from
:mod:`bot.slack.limits`), so a renderer bug cannot hide behind a shared constant.
"""

from __future__ import annotations

from typing import Any

__all__ = ["message_error"]

_BLOCK_TYPES = {
    "section", "context", "divider", "actions", "header", "rich_text", "markdown", "image",
    "context_actions", "input", "file", "video",
}
_SLACK_MAX_BLOCKS = 50
_SLACK_MAX_SECTION = 3000
_SLACK_MAX_HEADER = 150
_SLACK_MAX_MARKDOWN = 12000
_SLACK_MAX_BLOCKS_TEXT = 12000
_SLACK_MAX_TEXT = 40000
_SLACK_MAX_CONTEXT_ELEMENTS = 10
_SLACK_MAX_ACTIONS_ELEMENTS = 25
_SLACK_MAX_BUTTON_TEXT = 75
_SLACK_MAX_BUTTON_VALUE = 2000
_SLACK_MAX_ACTION_ID = 255
_RICH_CONTAINERS = {"rich_text_section", "rich_text_list", "rich_text_quote", "rich_text_preformatted"}
_RICH_LEAVES = {"text", "link", "emoji", "user", "usergroup", "channel", "broadcast", "date", "color"}
_RICH_STYLES = {"bold", "italic", "strike", "code", "underline"}


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        if node.get("type") in {"mrkdwn", "plain_text", "text"} and isinstance(node.get("text"), str):
            return [node["text"]]
        return [t for value in node.values() for t in _texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    return []


def _rich_leaf_error(leaf: Any) -> str | None:
    if not isinstance(leaf, dict) or leaf.get("type") not in _RICH_LEAVES:
        return "invalid_blocks"
    style = leaf.get("style", {})
    if not isinstance(style, dict) or set(style) - _RICH_STYLES or not all(isinstance(v, bool) for v in style.values()):
        return "invalid_blocks"
    if leaf["type"] == "text" and (not isinstance(leaf.get("text"), str) or not leaf["text"]):
        return "invalid_blocks"
    if leaf["type"] == "link" and not isinstance(leaf.get("url"), str):
        return "invalid_blocks"
    if leaf["type"] == "broadcast" and leaf.get("range") not in {"here", "channel", "everyone"}:
        return "invalid_blocks"
    return None


def _rich_text_error(block: dict[str, Any]) -> str | None:
    """A ``rich_text`` block: sections, lists, quotes and preformatted runs of leaf elements."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return "invalid_blocks"
    for element in elements:
        if not isinstance(element, dict) or element.get("type") not in _RICH_CONTAINERS:
            return "invalid_blocks"
        inner = element.get("elements")
        if not isinstance(inner, list) or not inner:
            return "invalid_blocks"
        if element["type"] == "rich_text_list":
            if element.get("style") not in {"bullet", "ordered"}:
                return "invalid_blocks"
            nested = [_rich_text_error({"elements": [item]}) for item in inner
                      if isinstance(item, dict) and item.get("type") == "rich_text_section"]
            if len(nested) != len(inner) or any(nested):
                return "invalid_blocks"
            continue
        for leaf in inner:
            error = _rich_leaf_error(leaf)
            if error:
                return error
    return None


def _block_error(block: Any) -> str | None:
    if not isinstance(block, dict) or block.get("type") not in _BLOCK_TYPES:
        return "invalid_blocks"
    kind = block["type"]
    if kind == "section":
        text = block.get("text")
        if text is None and not block.get("fields"):
            return "invalid_blocks"
        if text is not None and (not isinstance(text.get("text"), str) or not text["text"]):
            return "invalid_blocks"
        if text is not None and len(text["text"]) > _SLACK_MAX_SECTION:
            return "invalid_blocks"
    if kind == "rich_text":
        return _rich_text_error(block)
    if kind == "header" and len(block.get("text", {}).get("text", "")) > _SLACK_MAX_HEADER:
        return "invalid_blocks"
    if kind == "markdown" and len(block.get("text", "")) > _SLACK_MAX_MARKDOWN:
        return "invalid_blocks"
    if kind == "context":
        elements = block.get("elements") or []
        if not elements or len(elements) > _SLACK_MAX_CONTEXT_ELEMENTS:
            return "invalid_blocks"
    if kind == "actions":
        elements = block.get("elements") or []
        if not elements or len(elements) > _SLACK_MAX_ACTIONS_ELEMENTS:
            return "invalid_blocks"
        for element in elements:
            if element.get("type") == "button":
                if len(element.get("text", {}).get("text", "")) > _SLACK_MAX_BUTTON_TEXT:
                    return "invalid_blocks"
                if len(str(element.get("value", ""))) > _SLACK_MAX_BUTTON_VALUE:
                    return "invalid_blocks"
                if len(str(element.get("action_id", ""))) > _SLACK_MAX_ACTION_ID:
                    return "invalid_blocks"
    return None


def message_error(args: dict[str, Any]) -> str | None:
    """The ``error`` Slack would answer for this message, or ``None`` when it is accepted."""
    blocks = args.get("blocks")
    text = args.get("text")
    if blocks is None and not text and not args.get("markdown_text"):
        return "no_text"
    if text is not None and not isinstance(text, str):
        return "invalid_arguments"
    if text and len(text) > _SLACK_MAX_TEXT:
        return "msg_too_long"
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > _SLACK_MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        error = _block_error(block)
        if error:
            return error
    if sum(len(t) for t in _texts(blocks)) > _SLACK_MAX_BLOCKS_TEXT:
        return "msg_blocks_too_long"
    return None
