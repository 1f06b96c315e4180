"""The second half of a PostgreSQL refresh: BM25 files for the new generation, the switch, pruning.

BM25 stays in Kotae (bm25s over fugashi morphemes; PostgreSQL's own ranking is far too slow for
Japanese). The refresh tokenises every passage of the new generation in reader row order (path,
then passage order — the embedded store's order), saves the BM25 files and the English glossary,
and stores them as one tar archive in the generation's row; every bot replica loads it when the
generation changes. The switch is one transaction: the generation becomes ``ready`` and
``meta.current`` names it. Rows no generation being served can still see are then deleted.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from embeddings.glossary import build_glossary, save_glossary
from embeddings.lexical import LexicalBuilder
from embeddings.postgres.schema import quoted, visible
from embeddings.texts import passage_text
from embeddings.tokenizer import tokenize

__all__ = ["generation_rows", "pack_lexical", "publish", "unpack_lexical"]

_FETCH = 2000


def generation_rows(schema: str) -> str:
    """SQL (one ``%s``: the generation twice): the generation's passages in reader row order."""
    s = quoted(schema)
    return (
        f"FROM {s}.passages p JOIN {s}.documents d ON d.id = p.doc "
        f"WHERE {visible('d', '%s')} ORDER BY d.path, p.ordinal"
    )


def build_lexical(conn: Any, schema: str, gen: int) -> tuple[bytes, int]:
    """The generation's BM25 files (and glossary) as a tar archive, and its passage count."""
    words = LexicalBuilder()
    n = 0
    with conn.transaction(), conn.cursor(name=f"kotae_lexical_{gen}") as cur:
        cur.itersize = _FETCH
        cur.execute(f"SELECT d.info->>'title', p.record->'section', p.record->>'text' {generation_rows(schema)}",
                    (gen, gen))
        for title, section, text in cur:
            words.add(tokenize(passage_text(title, list(section or ()), text)))
            n += 1
    lexical = words.build()
    with tempfile.TemporaryDirectory(prefix="kotae-bm25-") as folder:
        target = Path(folder) / "lexical"
        lexical.save(target)
        save_glossary(target, build_glossary(lexical.words()))
        return pack_lexical(target), n


def pack_lexical(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name, recursive=False)
    return buffer.getvalue()


def unpack_lexical(data: bytes, folder: Path) -> None:
    """Write the files of :func:`pack_lexical` into ``folder`` (plain files only, no paths)."""
    folder.mkdir(mode=0o700, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        for member in tar.getmembers():
            if not member.isfile() or "/" in member.name or member.name.startswith("."):
                raise ValueError(f"unexpected entry {member.name!r} in the stored BM25 files")
            source = tar.extractfile(member)
            assert source is not None
            (folder / member.name).write_bytes(source.read())


def publish(conn: Any, schema: str, gen: int, base: int | None) -> tuple[int, int]:
    """Build the BM25 files, switch readers to ``gen`` in one transaction, prune; the
    generation's passage and sentence counts."""
    s = quoted(schema)
    lexical, n_passages = build_lexical(conn, schema, gen)
    n_sentences = int(conn.execute(
        f"SELECT count(*) FROM {s}.sentences t JOIN {s}.documents d ON d.id = t.doc WHERE {visible('d', '%s')}",
        (gen, gen),
    ).fetchone()[0])
    with conn.transaction():
        conn.execute(f"SELECT 1 FROM {s}.generations WHERE gen = %s FOR UPDATE", (gen,))
        conn.execute(
            f"UPDATE {s}.generations SET state = 'ready', published_at = now(), lexical = %s, passages = %s, "
            f"sentences = %s WHERE gen = %s AND state = 'building'",
            (lexical, n_passages, n_sentences, gen),
        )
        conn.execute(f"UPDATE {s}.meta SET current = %s", (gen,))
    prune(conn, schema, base)
    return n_passages, n_sentences


def prune(conn: Any, schema: str, base: int | None) -> None:
    """Delete what neither the new generation nor ``base`` (readers may still serve it until they
    notice the switch) can see, and the BM25 files of older generations."""
    if base is None:
        return
    s = quoted(schema)
    with conn.transaction():
        conn.execute(f"DELETE FROM {s}.documents WHERE died IS NOT NULL AND died <= %s", (base,))
        conn.execute(f"UPDATE {s}.generations SET lexical = NULL WHERE gen < %s AND lexical IS NOT NULL", (base,))
