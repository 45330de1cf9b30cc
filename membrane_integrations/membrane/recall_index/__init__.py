"""The Membrane recall index: candidates by meaning per container, beside the daemon.

membraned v0.2.0 ranks ``Retrieve`` by salience whatever the query (spec 4.10, 4.15), so every
Membrane memory surface recalls through this index by default: our clients update it after each
accepted write, a background sync adds records other programs wrote, and each recall ranks the
container's entries (full-text + vectors, fused by ``core.ranking``) and reads the best from the
daemon under the caller's trust context, which alone decides what comes back.
See ``docs/recall-index.md``.

Example:
    >>> from membrane_integrations.membrane.recall_index import RecallIndex, SQLiteStore
    >>> RecallIndex.__name__, SQLiteStore.__name__
    ('RecallIndex', 'SQLiteStore')
"""

from .defaults import (
    ENV_VAR,
    attach_default,
    attach_to,
    default_embedder,
    location_for,
    open_index,
)
from .index import Missing, RecallIndex
from .sqlite_store import SQLiteStore
from .store import Entry, IndexStore
from .sync import sync_once

__all__ = [
    "ENV_VAR",
    "Entry",
    "IndexStore",
    "Missing",
    "PostgresStore",
    "RecallIndex",
    "SQLiteStore",
    "attach_default",
    "attach_to",
    "default_embedder",
    "location_for",
    "open_index",
    "sync_once",
]


def __getattr__(name: str) -> object:
    # psycopg is optional: import the PostgreSQL store only when asked for.
    if name == "PostgresStore":
        from .postgres_store import PostgresStore

        return PostgresStore
    raise AttributeError(name)
