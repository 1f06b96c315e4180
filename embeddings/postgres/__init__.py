"""A second index store: PostgreSQL with pgvector, for many bot replicas and refresh workers.

Selected by ``KOTAE_DATABASE_URL`` (read in :mod:`bot.settings`); the embedded store stays the
default. One schema per documents folder; refreshes make generations switched in one
transaction (:mod:`~embeddings.postgres.schema`). Importing this package loads no driver.
"""

from embeddings.postgres.refresh import embedder_for_recipe, refresh_database
from embeddings.postgres.schema import DatabaseError
from embeddings.postgres.store import DatabaseIndex, current_generation, open_database_index
from embeddings.postgres.worker import WorkResult, work

__all__ = [
    "DatabaseError",
    "DatabaseIndex",
    "WorkResult",
    "current_generation",
    "embedder_for_recipe",
    "open_database_index",
    "refresh_database",
    "work",
]
