"""What the Slack layer needs from the answer service (``bot.service.AnswerService``)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.reply import Reply

__all__ = ["Answerer"]


@runtime_checkable
class Answerer(Protocol):
    """The same answering the CLI uses. Implementations must be thread-safe: Slack listeners
    run concurrently."""

    def answer(self, question: str, context: tuple[str, ...] = ()) -> Reply:
        """``context``: the earlier questions of a thread (see ``bot.answer.answer_in_full``)."""
        ...

    def suggested_questions(self, limit: int = 4) -> list[str]: ...

    @property
    def index_version(self) -> str: ...

    def reload_if_changed(self) -> bool: ...
