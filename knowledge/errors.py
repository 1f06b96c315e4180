"""The one error hierarchy of Kotae.

Every package raises subclasses of :class:`KotaeError`; only the edges (the command line,
the Slack error handler) turn them into exit codes and messages. Each message says what to
do about the problem, not only what went wrong.
"""

from __future__ import annotations

__all__ = [
    "EMPTY",
    "NO_TEXT_LAYER",
    "SKIP_CATEGORIES",
    "UNREADABLE",
    "UNSUPPORTED",
    "ChannelsFileError",
    "ConfigError",
    "DocumentError",
    "EmbedderError",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexMissingError",
    "KotaeError",
    "NoKnowledgeBaseError",
    "SlackAuthError",
    "SlackUnavailableError",
]


class KotaeError(Exception):
    """Base class: a problem Kotae can explain to its user."""


class ConfigError(KotaeError):
    """A setting (flag, environment variable) is missing or malformed."""


UNSUPPORTED = "unsupported type"
UNREADABLE = "unreadable"
EMPTY = "empty"
NO_TEXT_LAYER = "no text layer"
SKIP_CATEGORIES = (UNSUPPORTED, UNREADABLE, EMPTY, NO_TEXT_LAYER)
"""Why a file of the documents folder is not indexed, in the order summaries list them."""


class ChannelsFileError(ConfigError):
    """The channels file (``KOTAE_CHANNELS_FILE``) is unreadable or says something impossible.

    The message starts with the file, line and key to fix; ``line`` is 1-based (0: the file as a
    whole) and ``key`` the dotted path of the entry, e.g. ``knowledge_bases[1].channels``.
    """

    def __init__(self, path: str, line: int, key: str, problem: str) -> None:
        where = f"{path}, line {line}" if line else path
        super().__init__(f"{where}{f' ({key})' if key else ''}: {problem}")
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem


class NoKnowledgeBaseError(KotaeError):
    """A question came from a place (channel, DM, name) that may see no knowledge base."""


class DocumentError(KotaeError):
    """One document cannot be read; the run reports it and goes on with the others.

    ``category`` is one of :data:`SKIP_CATEGORIES`: what a summary counts it as.
    """

    def __init__(self, path: str, reason: str, category: str = UNREADABLE) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.category = category


class EmbedderError(KotaeError):
    """The embedding model cannot be loaded or used."""


class IndexMissingError(KotaeError):
    """No index exists where one was expected."""


class IndexMismatchError(KotaeError):
    """The index was built with another model, chunking or format version."""


class IndexCorruptError(KotaeError):
    """The index files are damaged or inconsistent with each other."""


class IndexBusyError(KotaeError):
    """Another process is refreshing the same index."""


class SlackAuthError(ConfigError):
    """Slack refused a token or secret at start-up (revoked, wrong app, missing scope)."""


class SlackUnavailableError(KotaeError):
    """Slack could not be reached, or answered with a server error, at start-up."""
