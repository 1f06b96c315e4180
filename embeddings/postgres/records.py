"""Rows as stored in PostgreSQL ↔ the values the rest of Kotae uses.

A passage row keeps the embedded store's whole record (``passages.jsonl`` line) as JSONB, with
its sentence spans naming global sentence ids, so fields added to passage records later flow
through unchanged; a :class:`Passage` is made from whichever of its fields the record holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from embeddings.manifest import FORMAT_VERSION, DocInfo, Manifest
from embeddings.texts import EMBEDDING_TEXT_VERSION
from embeddings.tokenizer import TOKENIZER_VERSION
from knowledge.passage import ChunkSettings, Passage

__all__ = ["doc_info", "info_json", "passage_of", "recipe", "recipe_manifest", "spans_of"]

_PASSAGE_FIELDS = tuple(f.name for f in dataclasses.fields(Passage))


def passage_of(record: Mapping[str, Any]) -> Passage:
    """The :class:`Passage` a stored record describes (``doc`` is its ``doc_path``)."""
    values = {name: record[name] for name in _PASSAGE_FIELDS if name in record}
    values["doc_path"] = str(record["doc"])
    values["section"] = tuple(str(s) for s in record.get("section") or ())
    if "places" in values:  # JSON gives lists; a Passage holds tuples, as the embedded store's do
        values["places"] = tuple((int(offset), str(name)) for offset, name in record.get("places") or ())
    return Passage(**values)


def spans_of(record: Mapping[str, Any]) -> tuple[tuple[int, int, int], ...]:
    """``(start, end, sentence_id)`` of the passage's sentences."""
    return tuple((int(s), int(e), int(r)) for s, e, r in record.get("sentences") or ())


def info_json(info: DocInfo) -> dict[str, Any]:
    return {**info.to_json(), "path": info.path}


def doc_info(d: Mapping[str, Any], passages: int = 0, sentences: int = 0) -> DocInfo:
    def opt(key: str) -> str | None:
        value = d.get(key)
        return None if value is None else str(value)

    return DocInfo(
        path=str(d["path"]),
        title=str(d["title"]),
        url=opt("url"),
        date=opt("date"),
        attribution=opt("attribution"),
        sha256=str(d["sha256"]),
        kind=str(d["kind"]),
        encoding=str(d.get("encoding") or ""),
        passages=(0, passages),
        sentences=(0, sentences),
        source_meta={str(k): str(v) for k, v in (d.get("source_meta") or {}).items()},
    )


def recipe(embedder_id: str, dim: int, chunking: ChunkSettings) -> dict[str, Any]:
    """What a generation was made with; a change of any of it but the tokenizer is a full rebuild."""
    return {
        "embedder_id": embedder_id,
        "dim": int(dim),
        "chunking": chunking.as_dict(),
        "embedding_text": EMBEDDING_TEXT_VERSION,
        "tokenizer": TOKENIZER_VERSION,
    }


def recipe_manifest(r: Mapping[str, Any]) -> Manifest:
    """A manifest carrying a generation's recipe, for :func:`~embeddings.manifest.incompatibility`."""
    chunk = r["chunking"]
    return Manifest(
        format_version=FORMAT_VERSION,
        created_at="",
        embedder_id=str(r["embedder_id"]),
        dim=int(r["dim"]),
        chunking=ChunkSettings(int(chunk["max_chars"]), int(chunk["overlap_chars"])),
        vector_dtype="float32",
        tokenizer=str(r["tokenizer"]),
        embedding_text=str(r["embedding_text"]),
        counts={},
        documents={},
    )
