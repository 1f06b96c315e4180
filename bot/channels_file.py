"""The channels file (``KOTAE_CHANNELS_FILE``): several knowledge bases in one bot.

A YAML file names each knowledge base (a documents folder with its own index) and the Slack
channels that may see it; ``default`` serves every channel not listed, and ``direct_messages``
lists what DMs and the AI-app panel may search (they have no channel to map). The file is read
and checked once, at start-up: every mistake is a :class:`ChannelsFileError` naming the line and
key to fix. See ``slack/kotae-channels.example.yaml`` for a commented example.

Only the shape is decided here; :class:`bot.knowledge_bases.KnowledgeBases` routes questions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.errors import ChannelsFileError
from knowledge.files import FileTooLargeError, read_regular

__all__ = ["ChannelsConfig", "KnowledgeBaseSpec", "load_channels_file"]

_TOP_KEYS = ("knowledge_bases", "default", "direct_messages")
_BASE_KEYS = ("name", "docs", "index", "channels")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{5,}")
_NULL = "tag:yaml.org,2002:null"
_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class KnowledgeBaseSpec:
    """One knowledge base as the file declares it (paths resolved, index folder decided)."""

    name: str
    docs_dir: Path
    index_dir: Path
    channels: frozenset[str]
    line: int  # where its entry starts in the file, for later messages


@dataclass(frozen=True)
class ChannelsConfig:
    path: Path
    bases: tuple[KnowledgeBaseSpec, ...]
    default: str | None  # for channels no knowledge base lists; None: they are refused
    direct_messages: tuple[str, ...]  # what DMs and the AI-app panel may search; (): refused

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.bases)


IndexFor = Callable[[Path, Path | None], Path]


def load_channels_file(path: Path, index_for: IndexFor) -> ChannelsConfig:
    """Read and check the channels file. ``index_for(docs_dir, index_dir_or_None)`` gives a
    knowledge base's index folder (``Settings.for_documents`` decides the default)."""
    return _Reader(Path(path), index_for).read()


class _Reader:
    def __init__(self, path: Path, index_for: IndexFor) -> None:
        self.path = path
        self.index_for = index_for

    def fail(self, node: yaml.Node | None, key: str, problem: str) -> ChannelsFileError:
        line = node.start_mark.line + 1 if node is not None else 0
        return ChannelsFileError(str(self.path), line, key, problem)

    # -- the file as a whole -------------------------------------------------------------------
    def read(self) -> ChannelsConfig:
        root = self._compose()
        top = self._mapping(root, "", _TOP_KEYS)
        if "knowledge_bases" not in top:
            raise self.fail(root, "", "no 'knowledge_bases:' list; name at least one knowledge base "
                            "with its 'name' and 'docs' folder (see slack/kotae-channels.example.yaml).")
        items = self._sequence(top["knowledge_bases"], "knowledge_bases")
        if not items:
            raise self.fail(top["knowledge_bases"], "knowledge_bases", "the list is empty; name at least one "
                            "knowledge base with its 'name' and 'docs' folder.")
        bases = [self._base(item, f"knowledge_bases[{n}]") for n, item in enumerate(items)]
        self._check_unique(bases, items)
        names = tuple(b.name for b in bases)
        default = self._optional_name(top.get("default"), "default", names)
        if "direct_messages" in top:
            node = top["direct_messages"]
            dms = () if node.tag == _NULL else tuple(
                self._known_name(item, f"direct_messages[{n}]", names)
                for n, item in enumerate(self._sequence(node, "direct_messages")))
        else:
            dms = (default,) if default else ()
        return ChannelsConfig(self.path, tuple(bases), default, tuple(dict.fromkeys(dms)))

    def _compose(self) -> yaml.Node:
        where = "KOTAE_CHANNELS_FILE"
        try:
            raw = read_regular(self.path, limit=_MAX_BYTES)
        except FileNotFoundError:
            raise ChannelsFileError(str(self.path), 0, "", f"no such file. Check {where} or --channels-file, "
                                    "or start from slack/kotae-channels.example.yaml.") from None
        except FileTooLargeError:
            raise ChannelsFileError(str(self.path), 0, "", "is over 1 MB; is this the right file?") from None
        except OSError as exc:
            raise ChannelsFileError(str(self.path), 0, "", f"cannot be read ({exc.strerror or exc}); "
                                    "check that it is a file and its permissions.") from None
        try:
            node = yaml.compose(raw.decode("utf-8-sig"), Loader=yaml.SafeLoader)
        except UnicodeDecodeError:
            raise ChannelsFileError(str(self.path), 0, "", "is not UTF-8; re-save it as UTF-8.") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise ChannelsFileError(str(self.path), mark.line + 1 if mark else 0, "",
                                    f"not valid YAML ({problem}); fix the syntax.") from None
        if node is None:
            raise ChannelsFileError(str(self.path), 0, "", "is empty; name at least one knowledge base "
                                    "(see slack/kotae-channels.example.yaml).")
        return node

    # -- one knowledge base ---------------------------------------------------------------------
    def _base(self, node: yaml.Node, key: str) -> KnowledgeBaseSpec:
        fields = self._mapping(node, key, _BASE_KEYS)
        for required in ("name", "docs"):
            if required not in fields:
                raise self.fail(node, key, f"'{required}:' is missing; each knowledge base needs a 'name' "
                                "and a 'docs' folder.")
        name = self._text(fields["name"], f"{key}.name")
        if not _NAME.fullmatch(name):
            raise self.fail(fields["name"], f"{key}.name", f"{name!r} is not a usable name; use up to 40 "
                            "letters, digits, '-' or '_' (it appears in logs and in `kotae ask --kb NAME`).")
        docs = self._folder(fields["docs"], f"{key}.docs")
        if not docs.is_dir():
            raise self.fail(fields["docs"], f"{key}.docs", f"documents folder {docs} does not exist or is not "
                            "a folder; create it or fix the path (relative paths start at the file's folder).")
        index = self._folder(fields["index"], f"{key}.index") if "index" in fields else None
        channels: set[str] = set()
        if "channels" in fields and fields["channels"].tag != _NULL:
            for n, item in enumerate(self._sequence(fields["channels"], f"{key}.channels")):
                channels.add(self._channel(item, f"{key}.channels[{n}]"))
        return KnowledgeBaseSpec(name, docs, self.index_for(docs, index), frozenset(channels),
                                 node.start_mark.line + 1)

    def _channel(self, node: yaml.Node, key: str) -> str:
        text = self._text(node, key)
        if text.startswith("D") and _CHANNEL_ID.fullmatch("C" + text[1:]):
            raise self.fail(node, key, f"{text} is a direct-message channel; DMs and the AI-app panel are "
                            "set with 'direct_messages:' (a list of knowledge base names).")
        if not _CHANNEL_ID.fullmatch(text):
            raise self.fail(node, key, f"{text!r} is not a channel ID. Channel names change, so the file "
                            "lists IDs: in Slack open the channel's details; the ID (e.g. C0123ABCD) is at "
                            "the bottom.")
        return text

    def _check_unique(self, bases: list[KnowledgeBaseSpec], items: list[yaml.Node]) -> None:
        names: dict[str, int] = {}
        owner: dict[str, str] = {}
        indexes: dict[Path, str] = {}
        for n, (base, item) in enumerate(zip(bases, items, strict=True)):
            key = f"knowledge_bases[{n}]"
            if base.name in names:
                raise self.fail(item, f"{key}.name", f"the name {base.name!r} is already used at line "
                                f"{names[base.name]}; give each knowledge base its own name.")
            names[base.name] = base.line
            for channel in sorted(base.channels):
                if channel in owner:
                    raise self.fail(item, f"{key}.channels", f"channel {channel} is already listed under "
                                    f"{owner[channel]!r}; a channel sees exactly one knowledge base.")
                owner[channel] = base.name
            if base.index_dir in indexes:
                raise self.fail(item, key, f"{base.name!r} and {indexes[base.index_dir]!r} would share the "
                                f"index folder {base.index_dir}; give one of them its own 'index:' folder.")
            indexes[base.index_dir] = base.name

    # -- small readers --------------------------------------------------------------------------
    def _mapping(self, node: yaml.Node, key: str, allowed: tuple[str, ...]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, key, f"expected keys ({', '.join(allowed)}), found {_kind(node)}.")
        fields: dict[str, yaml.Node] = {}
        for key_node, value in node.value:
            name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else ""
            here = f"{key}.{name}" if key else name
            if name not in allowed:
                raise self.fail(key_node, here or key, f"unknown key {name!r}; expected one of: "
                                f"{', '.join(allowed)}.")
            if name in fields:
                raise self.fail(key_node, here, f"{name!r} appears twice; keep one.")
            fields[name] = value
        return fields

    def _sequence(self, node: yaml.Node, key: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, key, f"expected a list (e.g. [a, b] or lines starting with '- '), "
                            f"found {_kind(node)}.")
        return list(node.value)

    def _text(self, node: yaml.Node, key: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL or not str(node.value).strip():
            raise self.fail(node, key, f"expected a single value, found {_kind(node)}.")
        return str(node.value).strip()

    def _folder(self, node: yaml.Node, key: str) -> Path:
        folder = Path(self._text(node, key)).expanduser()
        return (folder if folder.is_absolute() else self.path.parent / folder).resolve()

    def _known_name(self, node: yaml.Node, key: str, names: tuple[str, ...]) -> str:
        name = self._text(node, key)
        if name not in names:
            raise self.fail(node, key, f"no knowledge base is named {name!r}; the names are: "
                            f"{', '.join(names)}.")
        return name

    def _optional_name(self, node: yaml.Node | None, key: str, names: tuple[str, ...]) -> str | None:
        if node is None or node.tag == _NULL:
            return None
        return self._known_name(node, key, names)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _NULL or not str(node.value).strip():
        return "nothing"
    return f"{node.value!r}"
