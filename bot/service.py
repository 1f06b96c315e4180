"""A long-lived answerer: one embedder, one index, swapped when a refresh lands.

The CLI uses it for one question; the Slack bot for many, from several threads. A refreshed
index is loaded beside the one in use and swapped in with a single reference assignment, so a
request in flight finishes on the index it started with and none fails during the swap.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

from bot.answer import Answer, AnswerIndex, AnswerParams, QueryEmbedder, answer_in_full
from bot.reply import Reply
from bot.settings import Settings
from knowledge.errors import DocumentError, IndexMissingError, KotaeError

__all__ = ["AnswerService", "params_from_settings"]


def params_from_settings(settings: Settings) -> AnswerParams:
    return AnswerParams(top_k=settings.top_k, abstain_threshold=settings.abstain_threshold)


class AnswerService:
    """Thread-safe answering over the index that ``settings`` points at."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: QueryEmbedder | None = None,
        params: AnswerParams | None = None,
    ) -> None:
        self._settings = settings
        self._embedder = embedder
        self._given_embedder = embedder is not None  # given by the caller: the only model to use
        self._params = params or params_from_settings(settings)
        self._index: AnswerIndex | None = None
        self._unloadable: str | None = None  # a published version that failed to load
        self._lock = threading.Lock()

    # -- what it serves ---------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def embedder_id(self) -> str:
        if self._embedder is not None:
            return str(getattr(self._embedder, "id", self._settings.model))
        from embeddings import embedder_id

        return embedder_id(self._settings.model)

    @property
    def index(self) -> AnswerIndex:
        index = self._index
        if index is None:
            with self._lock:
                if self._index is None:
                    self._index = self._open()
                index = self._index
        return index

    @property
    def index_version(self) -> str:
        return self.index.version

    @property
    def embedder(self) -> QueryEmbedder:
        embedder = self._embedder
        if embedder is None:
            with self._lock:
                if self._embedder is None:
                    from embeddings import load_embedder

                    self._embedder = load_embedder(self._settings.model, threads=self._settings.embed_threads)
                embedder = self._embedder
        assert embedder is not None
        return embedder

    def _open(self) -> AnswerIndex:
        database = self._settings.database_url
        if database is not None:
            from embeddings.postgres import open_database_index

            found: Any = open_database_index(database.reveal(), self._settings.database_schema,
                                             expect_embedder_id=self.embedder_id, ann=self._settings.ann)
            return cast(AnswerIndex, found)  # vectors are fetched by row, not held in an ndarray
        from embeddings import open_index

        index: AnswerIndex = open_index(self._settings.index_dir, expect_embedder_id=self.embedder_id)
        return index

    # -- building and refreshing ------------------------------------------------------------
    def ensure_index(
        self,
        *,
        progress: bool = True,
        on_problem: Callable[[DocumentError], None] | None = None,
        before_build: Callable[[], None] | None = None,
    ) -> Any | None:
        """Build the index when there is none yet; returns the refresh report, or None.

        ``before_build`` runs just before a build starts (the CLI says what is about to happen).
        """
        try:
            _ = self.index
            return None
        except IndexMissingError:
            if before_build is not None:
                before_build()
            return self.refresh(progress=progress, on_problem=on_problem)

    def refresh(
        self,
        *,
        full: bool = False,
        progress: bool = True,
        on_problem: Callable[[DocumentError], None] | None = None,
        workers: int | None = None,
        share_model: bool = True,
    ) -> Any:
        """Bring the index up to date with the documents folder, then serve the result.

        ``workers`` embedding processes for a large build (default: the ``build_workers``
        setting; a server refreshing in the background passes 1 to leave the cores to questions).
        ``share_model=False`` embeds with a model of its own, so that questions answered meanwhile
        do not queue behind the refresh's batches on the model's lock.
        """
        from embeddings import refresh_index

        # A model in memory is reused, not loaded again (a given one always is).
        loaded = self._embedder if share_model or self._given_embedder else None
        factory: Any = (lambda model: loaded) if loaded is not None else None
        database = self._settings.database_url
        if database is not None:
            from embeddings.postgres import refresh_database

            report = refresh_database(self._settings.docs_dir, database.reveal(), self._settings.database_schema,
                                      model=self._settings.model, chunking=self._settings.chunking, full=full,
                                      ann=self._settings.ann, on_problem=on_problem, embedder_factory=factory)
            self.reload_if_changed()
            return report
        report = refresh_index(
            self._settings.docs_dir,
            self._settings.index_dir,
            model=self._settings.model,
            chunking=self._settings.chunking,
            full=full,
            progress=progress,
            on_problem=on_problem,
            embedder_factory=factory,
            ann=self._settings.ann,
            workers=self._settings.build_workers if workers is None else workers,
            threads=self._settings.embed_threads,
        )
        self.reload_if_changed()
        return report

    def reload_if_changed(self) -> bool:
        """Swap in a refreshed index if one has landed; cheap when nothing changed."""
        current = self._index
        version = self._published_version(current)
        if version is None or (current is not None and version == current.version):
            return False
        if current is not None and version == self._unloadable:
            return False  # already reported; keep serving the loaded index without re-reading it
        try:
            fresh = self._open()
        except KotaeError:
            self._unloadable = version
            raise
        with self._lock:
            self._index = fresh
        return True

    def _published_version(self, current: AnswerIndex | None) -> str | None:
        from embeddings import current_version

        database = self._settings.database_url
        if database is None:
            return current_version(self._settings.index_dir)
        ask = getattr(current, "serving_generation", None)
        if callable(ask):
            found: str | None = ask()
            return found
        from embeddings.postgres import current_generation

        return current_generation(database.reveal(), self._settings.database_schema)

    # -- answering --------------------------------------------------------------------------
    def answer_in_full(self, question: str, context: Sequence[str] = ()) -> Answer:
        """``context``: earlier questions of the same conversation (see :func:`answer_in_full`)."""
        if self._settings.database_url is not None and self._index is not None:
            # A database index is shared by many replicas: a refresh (a deletion, say) is served
            # from the next question on, on every replica, not after a polling interval.
            self.reload_if_changed()
        return answer_in_full(self.index, self.embedder, question, self._params, context=context)

    def answer(self, question: str, context: Sequence[str] = ()) -> Reply:
        return self.answer_in_full(question, context).reply

    def suggested_questions(self, limit: int = 4) -> list[str]:
        """Questions a newcomer could ask, drawn from the corpus's section headings."""
        index = self.index
        picked: list[str] = []
        seen_docs: set[str] = set()
        for passage in index.passages:  # one per document first, then more from any
            if passage.doc_path in seen_docs or not passage.section:
                continue
            seen_docs.add(passage.doc_path)
            picked.append(_question_about(passage.section[-1]))
            if len(picked) == limit:
                return picked
        for passage in index.passages:
            if passage.section:
                question = _question_about(passage.section[-1])
                if question not in picked:
                    picked.append(question)
            if len(picked) == limit:
                break
        return picked


def _question_about(heading: str) -> str:
    marker = r"^\s*(?:(?:第\d+[節章]|\d+|[ア-ン])\s+|[（(][0-9０-９ア-ン]{1,3}[）)]\s*)"
    topic = re.sub(marker, "", heading).strip()
    return f"{topic or heading}について教えて"
