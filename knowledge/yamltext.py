"""Loading YAML written by users (the metadata file, Markdown front matter), with bounds.

``yaml.safe_load`` builds nested collections recursively, so a file nested a few thousand
levels deep raises ``RecursionError``; and a plain ``date: 2024-02-30`` raises ``ValueError``
from the date constructor. Here nesting is counted first on the parser's events (which does not
recurse), and an impossible date is reported with its value and line.
"""

from __future__ import annotations

import yaml

from knowledge import limits

__all__ = ["YamlProblem", "load_yaml"]

_NESTED_START = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_NESTED_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class YamlProblem(ValueError):
    """Valid YAML syntax that cannot be loaded; ``reason`` is a sentence for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _check_depth(text: str) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, _NESTED_START):
            depth += 1
            if depth > limits.MAX_YAML_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else 0
                raise YamlProblem(
                    f"is nested more than {limits.MAX_YAML_DEPTH:,} levels deep at line {line} "
                    "(the limit); flatten it"
                )
        elif isinstance(event, _NESTED_END):
            depth -= 1


def _bad_date(text: str) -> tuple[str, int] | None:
    """The first plain scalar that reads as a timestamp but is not a real date, and its line."""
    resolver = yaml.SafeLoader("")
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if not isinstance(event, yaml.ScalarEvent) or not event.implicit[0]:
            continue
        if resolver.resolve(yaml.ScalarNode, event.value, (True, False)) != _TIMESTAMP:
            continue
        try:
            yaml.safe_load(event.value)
        except ValueError:
            return event.value, (event.start_mark.line + 1 if event.start_mark is not None else 0)
    return None


def load_yaml(text: str) -> object:
    """``yaml.safe_load(text)``; :class:`YamlProblem` for deep nesting or an impossible date.

    Syntax errors are raised as ``yaml.YAMLError``, as by ``yaml.safe_load``.
    """
    _check_depth(text)
    try:
        return yaml.safe_load(text)
    except (ValueError, OverflowError) as exc:
        found = _bad_date(text)
        what = f"{found[0]!r} at line {found[1]}" if found else f"a value ({exc})"
        raise YamlProblem(
            f"has {what}, which reads as a date that does not exist; fix it, or quote it to keep "
            "it as text"
        ) from exc
