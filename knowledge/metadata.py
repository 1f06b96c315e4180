"""The optional ``kotae-metadata.yaml`` of a documents folder.

It maps a document's relative POSIX path to what the file itself cannot say well::

    reports/2013.txt:
      title: 情報通信白書（平成25年版）
      url: https://example.org/2013
      date: "2013"
      attribution: 出典：総務省ウェブサイト

Every key is optional. Unknown keys are refused (a misspelt ``titel`` would otherwise be
silently ignored).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge import limits
from knowledge.confined import OutsideFolderError, read_inside
from knowledge.errors import DocumentError
from knowledge.files import FileTooLargeError, NotRegularFileError
from knowledge.yamltext import YamlProblem, load_yaml

__all__ = ["METADATA_FILENAME", "DocMeta", "load_metadata"]

METADATA_FILENAME = "kotae-metadata.yaml"
_KEYS = ("title", "url", "date", "attribution")


@dataclass(frozen=True)
class DocMeta:
    """What the metadata file says about one document."""

    title: str | None = None
    url: str | None = None
    date: str | None = None
    attribution: str | None = None


def _scalar(value: object) -> str | None:
    """A YAML scalar as text; ``None`` for a value that is not a scalar."""
    if isinstance(value, bool):
        return None
    if isinstance(value, dt.date):  # also datetime
        return value.isoformat()
    if isinstance(value, str | int | float):
        text = str(value).strip()
        return text or None
    return None


def _entry(rel: str, value: object) -> DocMeta:
    if value is None:
        return DocMeta()
    if not isinstance(value, dict):
        raise DocumentError(
            METADATA_FILENAME,
            f"the entry for {rel!r} must be a mapping of {', '.join(_KEYS)}; "
            f"got {type(value).__name__}",
        )
    fields: dict[str, str | None] = {}
    for key, item in value.items():
        if key not in _KEYS:
            raise DocumentError(
                METADATA_FILENAME,
                f"unknown key {key!r} in the entry for {rel!r}; allowed keys: {', '.join(_KEYS)}",
            )
        if item is None:
            continue
        text = _scalar(item)
        if text is None:
            raise DocumentError(
                METADATA_FILENAME,
                f"{key!r} of {rel!r} must be a single text value, got {type(item).__name__}",
            )
        fields[key] = text
    return DocMeta(**fields)


def load_metadata(docs_dir: Path) -> dict[str, DocMeta]:
    """Read ``docs_dir/kotae-metadata.yaml``; an empty mapping when there is none.

    Raises :class:`DocumentError` (path ``kotae-metadata.yaml``) when the file cannot be read
    or is not a mapping of relative paths to ``title``/``url``/``date``/``attribution``. It is
    read only if it is a regular file inside ``docs_dir`` (a link may lead to one) of at most
    :data:`knowledge.limits.MAX_METADATA_BYTES`, nested at most
    :data:`knowledge.limits.MAX_YAML_DEPTH` levels.
    """
    path = Path(docs_dir) / METADATA_FILENAME
    try:
        raw = read_inside(path, docs_dir, limit=limits.MAX_METADATA_BYTES)
    except FileNotFoundError:
        return {}
    except OutsideFolderError as exc:
        raise DocumentError(
            METADATA_FILENAME,
            "is a symbolic link to a place outside the documents folder and is not followed; "
            "copy the file into the folder instead",
        ) from exc
    except NotRegularFileError as exc:
        raise DocumentError(
            METADATA_FILENAME, f"is a {exc.kind}, not a regular file; replace it with a YAML file"
        ) from exc
    except FileTooLargeError as exc:
        raise DocumentError(
            METADATA_FILENAME,
            f"is larger than the limit of {exc.limit:,} bytes; keep only the entries you need",
        ) from exc
    except OSError as exc:
        raise DocumentError(
            METADATA_FILENAME, f"cannot be read ({exc.strerror}); check its permissions"
        ) from exc
    try:
        data = load_yaml(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DocumentError(METADATA_FILENAME, "is not UTF-8; re-save it as UTF-8") from exc
    except YamlProblem as exc:
        raise DocumentError(METADATA_FILENAME, exc.reason) from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise DocumentError(
            METADATA_FILENAME, f"is not valid YAML{at}; fix the syntax or remove the file"
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DocumentError(
            METADATA_FILENAME,
            "must be a mapping from document paths (relative to the folder) to their "
            f"title/url/date/attribution; got {type(data).__name__}",
        )
    result: dict[str, DocMeta] = {}
    for key, value in data.items():
        rel = str(key).strip().replace("\\", "/").removeprefix("./")
        result[rel] = _entry(rel, value)
    return result
