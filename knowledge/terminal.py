"""Text for a terminal: control characters shown, never obeyed.

Document text, titles, section headings and file names reach the terminal through ``kotae ask``,
``kotae index`` (problem reports, progress bars) and ``kotae eval``. A document may hold escape
sequences that retitle the window, clear the screen or forge an OSC 8 hyperlink; a file name may
hold a newline that splits a citation line in two. :func:`printable` turns every such character
into visible text (``\\x1b``, ``\\u202e``) and every line-breaking space into a plain space, so
what is printed is exactly one line per line Kotae meant. ``--json`` output keeps the text
exact: JSON escapes the characters instead (:func:`json_for_terminal`).
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["json_for_terminal", "printable"]

# Whitespace that moves the cursor to another line or column: shown as one space.
_SPACES = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029"
# C0 and C1 controls and DEL (escape sequences, bell, backspace, 8-bit CSI), and the invisible
# bidirectional controls that make a terminal show text in another order than it is stored.
_CONTROLS = "\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_CONTROLS}\u2028\u2029]")


def _show(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _SPACES:
        return " "
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` safe to write to a terminal on one line: controls made visible, line breaks
    and tabs made spaces. Text without such characters is returned unchanged."""
    return _UNSAFE.sub(_show, text)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def json_for_terminal(value: Any, **options: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **options)`` with the control characters JSON
    leaves raw (DEL, C1, bidirectional controls, line separators) written as ``\\uXXXX`` escapes:
    the same JSON value, exactly, but nothing a terminal would obey."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
