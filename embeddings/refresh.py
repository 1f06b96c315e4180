"""Bringing the index up to date with the documents folder, re-embedding only what changed.

Steps: take the lock; hash every file (cheap) and compare with the current version's manifest;
if nothing changed, stop there — the model is not loaded and nothing is written. Otherwise copy
the rows of unchanged documents, read, chunk and embed the added and changed ones, drop the
removed ones, write a new version beside the old and switch ``current`` to it atomically.

Rules worth knowing:

* A change of model, chunking or embedding recipe (or an unreadable or foreign-format previous
  index) forces a full rebuild; ``full=True`` asks for one. The report says why. A change of
  tokenizer only rebuilds the BM25 files (every refresh that writes does), embedding nothing.
* A malformed ``kotae-metadata.yaml`` stops the refresh with its :class:`DocumentError` before
  anything is written: titles would otherwise change and every document be re-embedded twice.
* Every file of the folder is either indexed or listed in ``skipped`` with its category
  (unsupported type, unreadable, empty, no text layer) — recorded in the manifest, with the hash
  of the bytes that failed. A later refresh does not read those same bytes again: it reports
  them again, and when that is all the news it says "up to date" and writes nothing.
* A document that cannot be read (:class:`DocumentError`, or an I/O error while hashing) is
  reported through ``on_problem`` and in ``failed``. If the previous version had it and its rows
  can be reused, they are kept when the file could not be read at all (permission denied, a
  named pipe, …) or its bytes are unchanged: a transient read error does not delete knowledge.
  A document whose bytes changed into something that cannot be used (emptied, truncated
  mid-character, over a limit) is dropped and listed in ``removed`` too: its old passages quote
  text the file no longer holds. A document is also dropped when its file is gone (or when a
  full rebuild cannot read it).
* An interrupted refresh (exception, Ctrl-C, crash) leaves the previous version current; its
  half-written ``.tmp`` directory is removed on the way out, or by the next run after a crash.
  The version that was current before the switch is kept (a server may still be reading it);
  older ones are deleted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.batching import Progress, embed_into
from embeddings.embedder import DEFAULT_THREADS, DefaultEmbedderFactory, Embedder, EmbedderFactory
from embeddings.index import Index, _open
from embeddings.layout import (
    SENTENCE_VECTORS,
    TMP_SUFFIX,
    VECTORS,
    VERSIONS,
    clean_leftovers,
    current_version,
    index_lock,
    make_private_dir,
    new_version_id,
    prune_versions,
    publish_version,
)
from embeddings.manifest import REBUILD, DocInfo, SkippedFile, incompatibility
from embeddings.pool import embed_pool
from embeddings.report import RefreshReport
from embeddings.texts import EMBEDDING_TEXT_VERSION
from embeddings.tokenizer import TOKENIZER_VERSION
from embeddings.vector_store import NumpyVectorStore
from embeddings.writer import (
    DocPart,
    Scratch,
    Spool,
    SpooledDoc,
    VectorFile,
    copied_part,
    prepare_document,
    spooled_part,
    write_version,
)
from knowledge.chunking import iter_passages
from knowledge.errors import (
    DocumentError,
    EmbedderError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
)
from knowledge.passage import ChunkSettings
from knowledge.terminal import printable

__all__ = ["OnProblem", "RefreshReport", "refresh_index"]

OnProblem = Callable[[DocumentError], None]  # the same handler knowledge.discover takes
PROGRESS_MIN_CHARS = 1_000_000  # a document this long shows a bar while it is cut into passages


def refresh_index(
    docs_dir: str | os.PathLike[str],
    index_dir: str | os.PathLike[str],
    *,
    model: str,
    chunking: ChunkSettings,
    full: bool = False,
    progress: bool = True,
    on_problem: OnProblem | None = None,
    embedder_factory: EmbedderFactory | Callable[[str], Embedder] | None = None,
    ann: bool = False,
    workers: int = 1,
    threads: int | None = DEFAULT_THREADS,
) -> RefreshReport:
    """Make the index at ``index_dir`` reflect the documents in ``docs_dir``.

    ``workers > 1`` embeds a large batch of texts in that many worker processes (see
    :mod:`embeddings.pool`; only with the default factory, which loads models by name), each
    call using ``threads`` threads (the default factory's models too).

    ``ann`` adds an approximate (HNSW, ``usearch``) graph for dense search; switching it on or
    off rewrites the version without embedding anything again.

    ``embedder_factory(model) -> Embedder`` replaces :func:`~embeddings.embedder.load_embedder`
    (tests inject a fake). If it also has ``embedder_id(model) -> str``, the id is known without
    loading anything; a plain callable is called once up front to learn it.
    Raises :class:`IndexBusyError` when another refresh holds the lock, :class:`EmbedderError`
    when the model cannot be loaded.
    """
    started = time.perf_counter()
    factory = embedder_factory if embedder_factory is not None else DefaultEmbedderFactory(threads=threads)
    index_path = Path(index_dir)
    if not Path(docs_dir).is_dir():  # before anything is created: a typo must leave no index folder
        import knowledge

        knowledge.discover(Path(docs_dir))  # raises the ConfigError that names the setting
    make_private_dir(index_path)
    make_private_dir(index_path / VERSIONS)
    with index_lock(index_path):
        clean_leftovers(index_path)
        run = _Run(Path(docs_dir), index_path, model, chunking, factory, on_problem, progress, ann)
        run.workers = workers
        report = run.execute(full=full)
    return dataclasses.replace(report, seconds=round(time.perf_counter() - started, 3))


class _Run:
    """One refresh, under the lock."""

    def __init__(
        self,
        docs_dir: Path,
        index_dir: Path,
        model: str,
        chunking: ChunkSettings,
        factory: EmbedderFactory | Callable[[str], Embedder],
        on_problem: OnProblem | None,
        progress: bool,
        ann: bool = False,
    ) -> None:
        self.docs_dir, self.index_dir, self.model, self.chunking = docs_dir, index_dir, model, chunking
        self.ann = ann
        self.factory = factory
        self.on_problem: OnProblem = on_problem or (lambda problem: None)
        self.progress = progress
        self.failed: list[tuple[str, str]] = []
        self.skipped: dict[str, SkippedFile] = {}
        self.workers = 1
        self._embedder: Embedder | None = None
        ident = getattr(factory, "embedder_id", None)
        self.target_id: str = ident(model) if callable(ident) else self.embedder().id

    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self.factory(self.model)
        return self._embedder

    def skip(self, problem: DocumentError, sha256: str | None = None) -> None:
        """A file of the folder that is not indexed: listed, and reported."""
        self.skipped[problem.path] = SkippedFile(problem.path, problem.category, problem.reason, sha256)
        self.on_problem(problem)

    def fail(self, rel: str, problem: DocumentError, sha256: str | None = None) -> None:
        self.failed.append((rel, problem.reason))
        self.skip(DocumentError(rel, problem.reason, problem.category), sha256)

    def _known_failures(self, previous: Index | None, hashes: Mapping[str, str], candidates: list[str]) -> set[str]:
        """Files among ``candidates`` whose very bytes the previous version could not use: not read
        again, reported again with the same reason."""
        known = previous.manifest.skipped if previous is not None else {}
        out = set()
        for rel in candidates:
            entry = known.get(rel)
            if entry is not None and entry.sha256 is not None and entry.sha256 == hashes.get(rel):
                self.fail(rel, DocumentError(rel, entry.reason, entry.category), entry.sha256)
                out.add(rel)
        return out

    def _skipped_list(self) -> list[SkippedFile]:
        return [self.skipped[rel] for rel in sorted(self.skipped)]

    # -- the steps -------------------------------------------------------------------------
    def execute(self, *, full: bool) -> RefreshReport:
        import knowledge

        serving = current_version(self.index_dir)  # kept after the switch, whatever its state

        sources = {s.rel: s for s in knowledge.discover(self.docs_dir, on_problem=self.skip)}
        metas = knowledge.load_metadata(self.docs_dir)
        hashes: dict[str, str] = {}
        for rel, source in sorted(sources.items()):
            try:
                hashes[rel] = knowledge.file_sha256(source)
            except DocumentError as exc:
                self.fail(rel, DocumentError(rel, exc.reason))
        source_meta = {rel: _meta_dict(metas.get(rel)) for rel in sources}

        previous, reason = self._previous(full=full)
        if full:
            reason = "a full rebuild was requested"
        old_docs = previous.documents if previous is not None else {}
        reuse = previous is not None and reason is None
        added, changed, unchanged = _classify(hashes, source_meta, old_docs)
        removed = sorted(rel for rel in old_docs if rel not in sources)
        kept = [rel for rel in sources if rel not in hashes and rel in old_docs] if reuse else []
        if reuse:
            known = self._known_failures(previous, hashes, added + changed)
            added = [rel for rel in added if rel not in known]
            changed = [rel for rel in changed if rel not in known]
            # Bytes the previous version already failed on, and that differ from the rows it
            # holds: those rows quote text the file no longer has (the drop rule above).
            removed = sorted({*removed, *(rel for rel in known if rel in old_docs)})

        same_files = (
            previous is not None
            and previous.manifest.tokenizer == TOKENIZER_VERSION
            and previous.manifest.ann == self.ann
        )
        same_skips = previous is not None and dict(previous.manifest.skipped) == self.skipped
        if reuse and previous is not None and same_files and same_skips and not (added or changed or removed):
            return RefreshReport(
                unchanged=unchanged,
                failed=self.failed,
                skipped=self._skipped_list(),
                passages_total=len(previous.passages),
                sentences_total=len(previous.sentence_store),
                version=previous.version,
                nothing_changed=True,
            )

        to_read = added + changed if reuse else added + changed + unchanged
        scratch = Scratch(self.index_dir)
        try:
            spool = scratch.spool()
            spooled: dict[str, SpooledDoc] = {}
            for rel in to_read:
                doc = self._prepare(sources[rel], metas.get(rel), source_meta[rel], knowledge, spool, hashes.get(rel))
                if doc is not None:
                    spooled[rel] = doc
                elif reuse and rel in old_docs:
                    # Unreadable as it is now: keep the old rows only if the bytes are the same.
                    (kept if hashes[rel] == old_docs[rel].sha256 else removed).append(rel)
            removed.sort()
            added = [rel for rel in added if rel in spooled]
            changed = [rel for rel in changed if rel in spooled]
            if not reuse:
                unchanged = [rel for rel in unchanged if rel in spooled]
            copied = sorted(set(unchanged + kept)) if reuse and previous is not None else []

            # The model is loaded only when there is something to embed.
            embedder = self._checked_embedder() if len(spool) else None
            dim = self._dim(previous if reuse else None)
            parts, vectors, sentence_vectors = self._lay_out(scratch, spool, spooled, previous, copied, dim)
            if embedder is not None:
                self._embed(embedder, spool, spooled, parts, vectors, sentence_vectors)
            stores = (vectors.store(_ranges(parts, "passages")), sentence_vectors.store(_ranges(parts, "sentences")))
            parts = [_with_stat(part, sources.get(part.info.path)) for part in parts]
            version = self._write(parts, stores, dim, serving)
        finally:
            scratch.remove()
        return RefreshReport(
            added=added,
            changed=changed,
            removed=removed,
            unchanged=unchanged,
            failed=self.failed,
            passages_embedded=sum(d.passages for d in spooled.values()),
            sentences_embedded=sum(d.sentences for d in spooled.values()),
            passages_total=sum(p.info.passages[1] for p in parts),
            sentences_total=sum(p.info.sentences[1] for p in parts),
            rebuilt_reason=reason,
            version=version,
            skipped=self._skipped_list(),
        )

    def _previous(self, *, full: bool = False) -> tuple[Index | None, str | None]:
        """The current version if it can be extended, else why everything is rebuilt.

        A full rebuild reads the previous version only to report what changed: whatever state
        it is in, the rebuild goes on (it is the fix every "damaged index" message names)."""
        try:
            previous = _open(self.index_dir, None, None, for_refresh=True)
        except IndexMissingError:
            return None, "there was no index yet"
        except IndexMismatchError:
            return None, "the previous index was written in another format"
        except IndexCorruptError as exc:
            detail = str(exc).removesuffix(" " + REBUILD)
            return None, f"the previous index could not be used: {detail}"
        except Exception as exc:  # damage no check foresaw: a full rebuild still replaces it
            if not full:
                raise
            return None, f"the previous index could not be read ({type(exc).__name__}: {exc})"
        why = incompatibility(
            previous.manifest,
            embedder_id=self.target_id,
            chunking=self.chunking,
            embedding_text=EMBEDDING_TEXT_VERSION,
        )
        return previous, (f"the previous index was {why}" if why else None)

    def _prepare(
        self, source: Any, meta: Any, source_meta: Mapping[str, str], knowledge: Any, spool: Spool,
        sha256: str | None = None,
    ) -> SpooledDoc | None:
        try:
            doc = knowledge.read_document(source, meta=meta)
            chunks = iter_passages(doc, self.chunking)
        except DocumentError as exc:
            self.fail(source.rel, exc, sha256)
            return None
        large = self.progress and len(doc.text) >= PROGRESS_MIN_CHARS
        bar = Progress(len(doc.text), enabled=large, desc=f"Chunking {printable(source.rel)}", unit="char")
        try:
            return prepare_document(spool, source.rel, doc, source_meta, chunks, knowledge.split_sentences, bar)
        finally:
            bar.close()

    def _checked_embedder(self) -> Embedder:
        embedder = self.embedder()
        if embedder.id != self.target_id:
            raise EmbedderError(
                f"The model loaded for {self.model!r} identifies as {embedder.id}, expected "
                f"{self.target_id}. Check KOTAE_MODEL, then run `kotae index --full`."
            )
        return embedder

    def _dim(self, previous: Index | None) -> int:
        if self._embedder is not None:
            return self._embedder.dim
        if previous is not None:
            return previous.dim
        return self.embedder().dim  # an empty index still records its dimensions

    def _lay_out(
        self,
        scratch: Scratch,
        spool: Spool,
        spooled: Mapping[str, SpooledDoc],
        previous: Index | None,
        copied: list[str],
        dim: int,
    ) -> tuple[list[DocPart], VectorFile, VectorFile]:
        """Number the rows of every document in path order, and make the two vector files with
        the unchanged documents' vectors copied in (the fresh ones are filled by embedding)."""
        parts: list[DocPart] = []
        first = sfirst = 0
        for rel in sorted([*spooled, *copied]):
            if rel in spooled:
                part = spooled_part(spool, spooled[rel], first, sfirst)
            else:
                assert previous is not None
                part = copied_part(previous, rel, first, sfirst)
            parts.append(part)
            first += part.info.passages[1]
            sfirst += part.info.sentences[1]
        vectors = scratch.vectors(VECTORS, first, dim)
        sentence_vectors = scratch.vectors(SENTENCE_VECTORS, sfirst, dim)
        if previous is not None:
            for part in parts:
                rel = part.info.path
                if rel not in spooled:
                    vectors.copy_from(part.info.passages[0], previous.vector_store.vectors_of(rel))
                    sentence_vectors.copy_from(part.info.sentences[0], previous.sentence_store.vectors_of(rel))
        return parts, vectors, sentence_vectors

    def _embed(
        self,
        embedder: Embedder,
        spool: Spool,
        spooled: Mapping[str, SpooledDoc],
        parts: list[DocPart],
        vectors: VectorFile,
        sentence_vectors: VectorFile,
    ) -> None:
        """Embed every spooled text, each vector written to its row as its batch comes back."""
        total = len(spool)
        # Where text n goes: row target[n] of the sentence matrix when is_sentence[n], else of
        # the passage matrix.
        target = np.zeros(total, dtype=np.int64)
        is_sentence = np.zeros(total, dtype=bool)
        for part in parts:
            doc = spooled.get(part.info.path)
            if doc is None:
                continue
            at, n = doc.first_text, doc.passages
            target[at : at + n] = np.arange(part.info.passages[0], part.info.passages[0] + n)
            target[at + n : at + doc.texts] = np.arange(part.info.sentences[0], part.info.sentences[0] + doc.sentences)
            is_sentence[at + n : at + doc.texts] = True

        def store(numbers: np.ndarray, batch: np.ndarray) -> None:
            sentences = is_sentence[numbers]
            vectors.write_rows(target[numbers[~sentences]], batch[~sentences])
            sentence_vectors.write_rows(target[numbers[sentences]], batch[sentences])

        bar = Progress(total, enabled=self.progress)
        pooled = getattr(self.factory, "loads_by_name", False)  # workers can load the same model
        try:
            with embed_pool(self.model, self.workers if pooled else 1, texts=total,
                            threads=getattr(self.factory, "threads", 1),
                            local_files_only=getattr(self.factory, "local_files_only", False)) as pool:
                embed_into(embedder, spool.lengths(), spool.texts, store, bar, pool=pool)
        finally:
            bar.close()

    def _write(self, parts: list[DocPart], stores: tuple[NumpyVectorStore, NumpyVectorStore], dim: int,
               serving: str | None) -> str:
        version = new_version_id()
        tmp = self.index_dir / VERSIONS / (version + TMP_SUFFIX)
        tmp.mkdir(mode=0o700)
        try:
            write_version(tmp, parts, *stores, embedder_id=self.target_id, dim=dim, chunking=self.chunking,
                          ann=self.ann, progress=self.progress, skipped=self.skipped)
            publish_version(self.index_dir, tmp, version)
        except BaseException:
            with contextlib.suppress(OSError):
                shutil.rmtree(tmp)
            raise
        prune_versions(self.index_dir, keep={version, serving or version})
        return version


def _with_stat(part: DocPart, source: Any) -> DocPart:
    """The entry with the file's size and mtime as discovered (for the cheap staleness check)."""
    if source is None:
        return part
    info = dataclasses.replace(part.info, size=source.size, mtime_ns=source.mtime_ns)
    return dataclasses.replace(part, info=info)


def _ranges(parts: Sequence[DocPart], kind: str) -> dict[str, tuple[int, int]]:
    return {part.info.path: getattr(part.info, kind) for part in parts}


def _classify(
    hashes: Mapping[str, str], source_meta: Mapping[str, Mapping[str, str]], old: Mapping[str, DocInfo]
) -> tuple[list[str], list[str], list[str]]:
    """(added, changed, unchanged): by content hash and metadata-file entry."""
    added, changed, unchanged = [], [], []
    for rel in sorted(hashes):
        info = old.get(rel)
        if info is None:
            added.append(rel)
        elif info.sha256 == hashes[rel] and dict(info.source_meta) == dict(source_meta[rel]):
            unchanged.append(rel)
        else:
            changed.append(rel)
    return added, changed, unchanged


def _meta_dict(meta: Any) -> dict[str, str]:
    """A metadata-file entry as plain strings, for comparing with the manifest's copy."""
    if meta is None:
        return {}
    fields: Mapping[str, Any]
    if dataclasses.is_dataclass(meta) and not isinstance(meta, type):
        fields = dataclasses.asdict(meta)
    elif isinstance(meta, Mapping):
        fields = meta
    else:
        fields = vars(meta)
    return {str(k): str(v) for k, v in fields.items() if v is not None and v != ""}
