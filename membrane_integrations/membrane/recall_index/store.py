"""What a recall index store keeps and the one small interface both stores implement.

An :class:`Entry` is one record as the index knows it: its id, its scope (the container), the
text the surfaces render, its lexical terms (``core.ranking.tokenize``, space-joined) and, when
an embedder is configured, its L2-normalised vector. A store ranks ids of one scope (or of every
scope) lexically and by vector; it never decides what a caller may see.

Example:
    >>> e = Entry(id="r1", scope="bob", text="user said: I am vegan", terms="user said vegan")
    >>> e.vector is None
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["Entry", "IndexStore"]


@dataclass(frozen=True)
class Entry:
    """One indexed record (``vector``: a float32 numpy vector, or ``None``)."""

    id: str
    scope: str
    text: str
    terms: str
    vector: Any = None
    status: str = "active"


@runtime_checkable
class IndexStore(Protocol):
    """The storage of a recall index: an embedded SQLite file or a PostgreSQL schema."""

    def upsert(self, entries: Sequence[Entry]) -> None:
        """Add or replace entries (by id)."""

    def remove(self, ids: Sequence[str]) -> None:
        """Forget these ids (unknown ids are ignored)."""

    def set_status(self, record_id: str, status: str) -> None:
        """Record a revision status (``contested``) for a known id."""

    def known(self, ids: Sequence[str]) -> set[str]:
        """The subset of ``ids`` the store holds."""

    def lexical(self, scope: str | None, terms: Sequence[str], limit: int) -> list[str]:
        """Ids of ``scope`` (every scope: ``None``) best first by full-text rank of ``terms``."""

    def semantic(self, scope: str | None, vector: Any, limit: int) -> list[str]:
        """Ids of ``scope`` best first by cosine to ``vector`` (entries without one: none)."""

    def contents(self, ids: Sequence[str]) -> dict[str, tuple[str, Any]]:
        """The text and vector (or ``None``) of each known id."""

    def recent(self, scope: str | None, limit: int) -> list[str]:
        """Ids of ``scope``, newest indexed first."""

    def count(self, scope: str | None) -> int:
        """How many entries ``scope`` (or the whole store) holds."""

    def clear(self, scope: str | None) -> None:
        """Forget every entry of ``scope`` (or every entry)."""

    def close(self) -> None:
        """Release connections (idempotent)."""
