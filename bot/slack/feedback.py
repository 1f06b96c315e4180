"""👍/👎 clicks, recorded append-only as JSON lines in a file only its owner can read."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from embeddings.layout import make_private_dir

__all__ = ["FeedbackEntry", "FeedbackLog", "parse_feedback_value"]


@dataclass(frozen=True)
class FeedbackEntry:
    time: str  # ISO 8601, UTC
    vote: str  # "up" or "down"
    user: str
    channel: str
    message_ts: str
    answer_id: str
    question: str
    index_version: str
    sources: tuple[str, ...]


def parse_feedback_value(value: str) -> dict[str, Any]:
    """The button value written by :func:`bot.slack.blocks.feedback_value` (tolerant)."""
    try:
        data = json.loads(value)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackLog:
    """Appends one JSON object per line; creates the file with mode 0o600 and any missing
    folder above it with mode 0o700."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, entry: FeedbackEntry) -> None:
        line = json.dumps(asdict(entry), ensure_ascii=False) + "\n"
        with self._lock:
            make_private_dir(self.path.parent)  # 0700 like the index folders, whatever the umask
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
