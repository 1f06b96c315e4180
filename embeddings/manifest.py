"""``manifest.json``: what an index version holds and how it was made.

It records the format version, the embedder (id and dimensions), the chunking settings, the
tokenizer and embedding-text recipes, the counts, and one entry per document with the content
hash and the rows its passages and sentences occupy. Loading checks it before anything else and
explains any problem with the command that fixes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embeddings.stored import read_json
from knowledge.errors import IndexCorruptError, IndexMismatchError
from knowledge.passage import ChunkSettings

__all__ = [
    "FORMAT_VERSION",
    "DocInfo",
    "Manifest",
    "SkippedFile",
    "corrupt",
    "incompatibility",
    "manifest_to_json",
    "read_manifest",
]

# 2: passages.offsets.npy beside passages.jsonl, and a checksum of passages.jsonl in the
# manifest, so that an index opens without parsing every passage.
# 3: each passage records the places it touches (PDF pages, slides, cells) so a quote cites its
# own page, not the passage's first; the manifest lists the files not indexed, with why.
FORMAT_VERSION = 3
REBUILD = "Run `kotae index --full` to rebuild it."
MANIFEST_LIMIT = 1 << 30  # bytes; ~600 per document, so far beyond any real index


@dataclass(frozen=True)
class DocInfo:
    """One indexed document. ``passages``/``sentences`` are ``(first_row, count)``.

    ``source_meta`` is the document's entry in the metadata file as it was when indexed, kept
    to notice a changed title or URL without reading the document.
    """

    path: str
    title: str
    url: str | None
    date: str | None
    attribution: str | None
    sha256: str
    kind: str
    encoding: str = ""
    passages: tuple[int, int] = (0, 0)
    sentences: tuple[int, int] = (0, 0)
    source_meta: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    # The file's size and modification time when it was indexed: a cheap first check of whether
    # it changed since (embeddings.staleness); None in indexes written before they were kept.
    size: int | None = field(default=None, compare=False)
    mtime_ns: int | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        stat = {} if self.size is None else {"size": self.size, "mtime_ns": self.mtime_ns}
        return {
            **stat,
            "sha256": self.sha256,
            "title": self.title,
            "url": self.url,
            "date": self.date,
            "attribution": self.attribution,
            "kind": self.kind,
            "encoding": self.encoding,
            "passages": list(self.passages),
            "sentences": list(self.sentences),
            "source_meta": dict(self.source_meta),
        }


@dataclass(frozen=True)
class SkippedFile:
    """A file of the documents folder that is not in the index, and why.

    ``sha256`` is the hash of the bytes that could not be used (None when the file was not
    read: an unsupported type, a file that could not be opened); a later refresh does not read
    the same bytes again, and reports the same reason.
    """

    path: str
    category: str  # one of knowledge.errors.SKIP_CATEGORIES
    reason: str
    sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"category": self.category, "reason": self.reason, "sha256": self.sha256}


@dataclass(frozen=True)
class Manifest:
    format_version: int
    created_at: str
    embedder_id: str
    dim: int
    chunking: ChunkSettings
    vector_dtype: str
    tokenizer: str
    embedding_text: str
    counts: Mapping[str, int]
    documents: Mapping[str, DocInfo]
    checksums: Mapping[str, str] = field(default_factory=dict)  # file name -> "crc32:…"
    ann: bool = False  # an approximate (HNSW) graph over the passage vectors is part of this version
    skipped: Mapping[str, SkippedFile] = field(default_factory=dict)  # files of the folder not indexed


def corrupt(where: Path, detail: str) -> IndexCorruptError:
    return IndexCorruptError(f"The index at {where} is damaged: {detail}. {REBUILD}")


def manifest_to_json(m: Manifest) -> str:
    data = {
        "format_version": m.format_version,
        "created_at": m.created_at,
        "embedder": {"id": m.embedder_id, "dim": m.dim},
        "chunking": m.chunking.as_dict(),
        "vector_dtype": m.vector_dtype,
        "tokenizer": m.tokenizer,
        "embedding_text": m.embedding_text,
        "counts": dict(m.counts),
        "checksums": dict(sorted(m.checksums.items())),
        "ann": m.ann,
        "documents": {rel: info.to_json() for rel, info in sorted(m.documents.items())},
        "skipped": {rel: s.to_json() for rel, s in sorted(m.skipped.items())},
    }
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def _reason(exc: Exception) -> str:
    """An error's own words, without the path the message already names."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _span(value: Any) -> tuple[int, int]:
    first, count = value
    if not (isinstance(first, int) and isinstance(count, int)) or first < 0 or count < 0:
        raise ValueError(f"bad row range {value!r}")
    return first, count


def read_manifest(version_dir: Path) -> Manifest:
    """Parse and check ``manifest.json`` of one version directory."""
    path = version_dir / "manifest.json"
    try:
        raw = read_json(path, limit=MANIFEST_LIMIT)
    except FileNotFoundError:
        raise corrupt(version_dir, "manifest.json is missing") from None
    except (OSError, ValueError) as exc:  # not a regular file, too large, not JSON, nested too deeply
        raise corrupt(version_dir, f"manifest.json cannot be read ({_reason(exc)})") from None
    if not isinstance(raw, dict):
        raise corrupt(version_dir, "manifest.json does not hold an object")
    fmt = raw.get("format_version")
    if fmt != FORMAT_VERSION:
        raise IndexMismatchError(
            f"The index at {version_dir} is in format {fmt!r}, but this version of Kotae reads "
            f"format {FORMAT_VERSION}. {REBUILD}"
        )
    try:
        documents = {
            str(rel): DocInfo(
                path=str(rel),
                title=str(d["title"]),
                url=_opt_str(d.get("url")),
                date=_opt_str(d.get("date")),
                attribution=_opt_str(d.get("attribution")),
                sha256=str(d["sha256"]),
                kind=str(d["kind"]),
                encoding=str(d.get("encoding") or ""),
                passages=_span(d["passages"]),
                sentences=_span(d["sentences"]),
                source_meta={str(k): str(v) for k, v in (d.get("source_meta") or {}).items()},
                size=_opt_int(d.get("size")),
                mtime_ns=_opt_int(d.get("mtime_ns")),
            )
            for rel, d in raw["documents"].items()
        }
        chunk = raw["chunking"]
        counts = {str(k): int(v) for k, v in raw["counts"].items()}
        manifest = Manifest(
            format_version=fmt,
            created_at=str(raw["created_at"]),
            embedder_id=str(raw["embedder"]["id"]),
            dim=int(raw["embedder"]["dim"]),
            chunking=ChunkSettings(int(chunk["max_chars"]), int(chunk["overlap_chars"])),
            vector_dtype=str(raw["vector_dtype"]),
            tokenizer=str(raw["tokenizer"]),
            embedding_text=str(raw["embedding_text"]),
            counts=counts,
            documents=documents,
            checksums={str(k): str(v) for k, v in (raw.get("checksums") or {}).items()},
            ann=bool(raw.get("ann", False)),
            skipped={
                str(rel): SkippedFile(str(rel), str(s["category"]), str(s["reason"]), _opt_str(s.get("sha256")))
                for rel, s in (raw.get("skipped") or {}).items()
            },
        )
        for key in ("documents", "passages", "sentences"):
            if counts[key] < 0:
                raise ValueError(f"negative count {key}")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"manifest.json is incomplete ({type(exc).__name__}: {exc})"
        raise corrupt(version_dir, detail) from None
    if manifest.dim <= 0 or manifest.vector_dtype not in ("float32", "float16"):
        raise corrupt(version_dir, "manifest.json has impossible vector settings")
    if counts["documents"] != len(documents):
        raise corrupt(
            version_dir,
            f"manifest.json counts {counts['documents']} documents but lists {len(documents)}",
        )
    return manifest


def incompatibility(
    m: Manifest,
    *,
    embedder_id: str | None = None,
    chunking: ChunkSettings | None = None,
    tokenizer: str | None = None,
    embedding_text: str | None = None,
) -> str | None:
    """Why an index made as ``m`` cannot serve (or be extended) with these settings, or None.

    The reason reads after "The index was …": "built with model A but Kotae is configured for B".
    """
    if embedder_id is not None and m.embedder_id != embedder_id:
        return f"built with model {m.embedder_id} but Kotae is configured for {embedder_id}"
    if chunking is not None and m.chunking != chunking:
        return (
            f"built with passages of {m.chunking.max_chars} characters (overlap "
            f"{m.chunking.overlap_chars}) but Kotae is configured for {chunking.max_chars} "
            f"(overlap {chunking.overlap_chars})"
        )
    if embedding_text is not None and m.embedding_text != embedding_text:
        return f"built from {m.embedding_text} texts but this version of Kotae embeds {embedding_text} texts"
    if tokenizer is not None and m.tokenizer != tokenizer:
        return f"built with tokenizer {m.tokenizer} but this version of Kotae uses {tokenizer}"
    return None
