"""Which knowledge base may answer where: the one place that decides.

Without a channels file there is one knowledge base, ``default``, for every channel and DM —
Kotae as it always was. With one (:mod:`bot.channels_file`), each knowledge base is its own
:class:`~bot.service.AnswerService` over its own index, all sharing one embedding model, and
:meth:`KnowledgeBases.route` tells the Slack handlers which may answer a question asked in a
channel:

- a channel a knowledge base lists → that knowledge base, and only it;
- any other channel → the ``default`` one, or none (the asker is told so);
- a DM or the AI-app panel (no channel to map) → the knowledge bases of ``direct_messages``
  (default: the default one only); with several, each is searched and the reply with the
  strongest evidence is sent, quoting and citing only the knowledge base it came from.

A thread follow-up, ``/ask`` and "post to channel" are routed by the channel they happen in, so an
answer never reaches a channel that may not see its knowledge base.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.channels_file import ChannelsConfig, load_channels_file
from bot.reply import Reply
from bot.settings import Settings
from knowledge.errors import ConfigError, NoKnowledgeBaseError

__all__ = ["DEFAULT_NAME", "KnowledgeBase", "KnowledgeBases", "Route", "open_knowledge_bases"]

DEFAULT_NAME = "default"


@dataclass(frozen=True)
class KnowledgeBase:
    name: str
    service: Any  # an AnswerService (in Slack tests, anything with bot.slack.answering.Answerer's methods)


@dataclass(frozen=True)
class Route:
    """The knowledge bases a question may be answered from (never empty)."""

    bases: tuple[KnowledgeBase, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.bases)

    def answer(self, question: str, context: tuple[str, ...] = ()) -> tuple[KnowledgeBase, Reply]:
        """The reply of the knowledge base with the strongest evidence (one that answers beats
        one that abstains); quotes and citations all come from that one knowledge base."""
        best: tuple[tuple[bool, float], KnowledgeBase, Reply] | None = None
        for base in self.bases:
            reply = base.service.answer(question, context=context) if context else base.service.answer(question)
            rank = (reply.answered, max((p.score for p in reply.passages), default=float("-inf")))
            if best is None or rank > best[0]:
                best = (rank, base, reply)
        assert best is not None
        return best[1], best[2]

    def suggested_questions(self, limit: int = 4) -> list[str]:
        """Suggestions drawn from each knowledge base in turn."""
        pools = [base.service.suggested_questions(limit) for base in self.bases]
        picked: list[str] = []
        for row in range(limit):
            for pool in pools:
                if row < len(pool) and pool[row] not in picked and len(picked) < limit:
                    picked.append(pool[row])
        return picked


class KnowledgeBases:
    """The knowledge bases of one bot and the rule of which channel sees which."""

    def __init__(self, bases: Sequence[KnowledgeBase], *, channels: Mapping[str, str] | None = None,
                 default: str | None = DEFAULT_NAME, direct_messages: Sequence[str] | None = None) -> None:
        self._bases = {b.name: b for b in bases}
        if len(self._bases) != len(bases) or not bases:
            raise ConfigError("knowledge bases need distinct names, and there must be at least one.")
        known = set(self._bases)
        dms = tuple(direct_messages) if direct_messages is not None else ((default,) if default else ())
        unknown = ({default} - {None}) | set(dms) | set((channels or {}).values())
        if not unknown <= known:
            raise ConfigError(f"unknown knowledge base(s) {sorted(str(u) for u in unknown - known)}; "
                              f"the names are: {', '.join(self._bases)}.")
        self._channels = dict(channels or {})
        self._default = default
        self._dms = Route(tuple(self._bases[n] for n in dms)) if dms else None

    @classmethod
    def single(cls, service: Any, name: str = DEFAULT_NAME) -> KnowledgeBases:
        """One knowledge base for every channel and DM (no channels file)."""
        return cls([KnowledgeBase(name, service)], default=name)

    @classmethod
    def from_config(cls, config: ChannelsConfig, settings: Settings, embedder: Any = None) -> KnowledgeBases:
        """One :class:`AnswerService` per knowledge base of ``config``, sharing ``embedder``
        (by default the settings' model, loaded once on first use)."""
        from bot.service import AnswerService

        if embedder is None:
            from embeddings import embedder_id, load_embedder
            from embeddings.lazy import LazyEmbedder

            embedder = LazyEmbedder(embedder_id(settings.model), lambda: load_embedder(settings.model))
        bases = [KnowledgeBase(spec.name, AnswerService(settings.for_documents(spec.docs_dir, spec.index_dir),
                                                        embedder=embedder))
                 for spec in config.bases]
        channels = {channel: spec.name for spec in config.bases for channel in spec.channels}
        return cls(bases, channels=channels, default=config.default, direct_messages=config.direct_messages)

    # -- the rule ---------------------------------------------------------------------------------
    def route(self, channel: str, *, is_dm: bool) -> Route | None:
        """Which knowledge base(s) may answer a question asked in ``channel``; ``None``: none."""
        if is_dm:
            return self._dms
        name = self._channels.get(channel, self._default)
        return Route((self._bases[name],)) if name is not None else None

    # -- all of them (the CLI, and one watcher/refresh per knowledge base) -------------------------
    def __iter__(self) -> Iterator[KnowledgeBase]:
        return iter(self._bases.values())

    def services(self) -> list[tuple[str, Any]]:
        """``(name, service)`` of every knowledge base: what refreshes and watchers iterate."""
        return [(b.name, b.service) for b in self]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._bases)

    @property
    def default(self) -> str | None:
        return self._default

    def summary(self) -> list[str]:
        """One line per knowledge base: who may see it (for the operator at start-up)."""
        lines = []
        dms = self._dms.names if self._dms else ()
        for name in self._bases:
            seen = sorted(c for c, n in self._channels.items() if n == name)
            parts = [f"channels {', '.join(seen)}"] if seen else []
            if name == self._default:
                parts.append("every other channel")
            if name in dms:
                parts.append("DMs and the AI-app panel")
            lines.append(f"{name}: {'; '.join(parts) or 'no channel (kotae ask --kb only)'}")
        if self._default is None:
            lines.append("channels not listed: refused (no default)")
        if not dms:
            lines.append("DMs and the AI-app panel: refused (direct_messages is empty)")
        return lines

    def get(self, name: str | None) -> KnowledgeBase:
        """The knowledge base called ``name`` (``None``: the default one), for ``--kb``."""
        if name is None:
            if self._default is None:
                raise NoKnowledgeBaseError(f"the channels file has no default knowledge base; choose one with "
                                           f"--kb NAME ({', '.join(self._bases)}).")
            name = self._default
        if name not in self._bases:
            raise NoKnowledgeBaseError(f"no knowledge base is named {name!r}; choose one of: "
                                       f"{', '.join(self._bases)}.")
        return self._bases[name]


def open_knowledge_bases(settings: Settings, embedder: Any = None) -> KnowledgeBases:
    """The knowledge bases ``settings`` describe: those of the channels file, else one."""
    if settings.channels_file is None:
        from bot.service import AnswerService

        return KnowledgeBases.single(AnswerService(settings, embedder=embedder))
    config = load_channels_file(settings.channels_file, settings_index_for(settings))
    return KnowledgeBases.from_config(config, settings, embedder)


def settings_index_for(settings: Settings) -> Any:
    """``(docs_dir, index_dir_or_None) -> index_dir`` as ``--docs``/``--index`` decide it."""
    return lambda docs, index: settings.for_documents(docs, index).index_dir
