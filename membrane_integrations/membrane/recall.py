"""Recall for memory layers: a container's own records for a query, and their text for a model.

Every Membrane memory surface recalls the same way. With a recall index attached to the client
(the default, see :mod:`.recall_index`), the index ranks the container's records for the query
and the daemon returns each candidate under the view's trust. Without one: retrieve with the
view's trust (the daemon's order: salience, whatever the query), keep only the records of its
one scope that are not retracted, over-fetching (and then fetching everything) when foreign
unscoped records take places under the limit. Either way each record shows as one line of text.

Example:
    >>> from membrane_integrations.membrane.types import SemanticPayload
    >>> record_text(MemoryRecord(id="r", payload=SemanticPayload(
    ...     subject="user", predicate="said", object="I am vegan")))
    'user said: I am vegan'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .client import AsyncMembraneClient, MembraneClient
from .tenancy import MembraneView
from .types import EpisodicPayload, MemoryRecord, MemoryType, SemanticPayload, WorkingPayload

__all__ = ["NOTE_PREDICATE", "PREDICATE", "arecall_records", "recall_records", "record_text"]

# Retracted and cleared records have salience 0; any positive floor hides them server-side.
_VISIBLE = 1e-6
_MAX_LIMIT = 10000
_OVERFETCH = 4
# The predicate of a captured message: ``<role> said <text>``.
PREDICATE = "said"
# The predicate of an extracted note (a third-person fact): shown as the fact alone.
NOTE_PREDICATE = "membrane_integrations.note"


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def record_text(record: MemoryRecord) -> str | None:
    """One record as the text a model reads; ``None`` for a record with nothing to show."""
    payload = record.payload
    text: str | None = None
    if isinstance(payload, SemanticPayload):
        value = _as_text(payload.object)
        sep = ":" if payload.predicate == PREDICATE else ""
        text = (
            value
            if payload.predicate == NOTE_PREDICATE
            else f"{payload.subject} {payload.predicate}{sep} {value}"
        )
    elif isinstance(payload, EpisodicPayload) and payload.tool_graph:
        node = payload.tool_graph[0]
        text = f"{node.tool} returned {_as_text(node.result)}"
    elif isinstance(payload, EpisodicPayload) and payload.timeline:
        text = payload.timeline[0].summary
    elif isinstance(payload, WorkingPayload):
        text = payload.context_summary
    return text if text and text.strip() else None


def _first_fetch(limit: int) -> int:
    return min(_MAX_LIMIT, max(limit * _OVERFETCH, 20))


def _own(view: MembraneView, records: list[MemoryRecord]) -> list[MemoryRecord]:
    return [r for r in records if view.visible(r) and r.salience > 0.0]


def recall_records(
    client: MembraneClient,
    view: MembraneView,
    query: str,
    limit: int,
    min_salience: float,
    *,
    memory_types: Sequence[MemoryType | str] | None = None,
) -> list[MemoryRecord]:
    """Up to ``limit`` records of the view's scope for ``query``, best first (sync)."""
    index = getattr(client, "recall_index", None)
    if index is not None:
        return index.recall(  # type: ignore[no-any-return]
            client, view, query, limit, min_salience=min_salience, memory_types=memory_types
        )
    fetch = _first_fetch(limit)
    while True:
        records = client.retrieve(
            query,
            trust=view.trust,
            memory_types=memory_types,
            min_salience=max(min_salience, _VISIBLE),
            limit=fetch,
        )
        own = _own(view, records)
        # Foreign unscoped records may have taken places under the limit: fetch them all.
        if fetch == 0 or len(own) >= limit or len(records) < fetch:
            return own[:limit]
        fetch = 0


async def arecall_records(
    client: AsyncMembraneClient,
    view: MembraneView,
    query: str,
    limit: int,
    min_salience: float,
    *,
    memory_types: Sequence[MemoryType | str] | None = None,
) -> list[MemoryRecord]:
    """Like :func:`recall_records`, async."""
    index = getattr(client, "recall_index", None)
    if index is not None:
        return await index.arecall(  # type: ignore[no-any-return]
            client, view, query, limit, min_salience=min_salience, memory_types=memory_types
        )
    fetch = _first_fetch(limit)
    while True:
        records = await client.retrieve(
            query,
            trust=view.trust,
            memory_types=memory_types,
            min_salience=max(min_salience, _VISIBLE),
            limit=fetch,
        )
        own = _own(view, records)
        if fetch == 0 or len(own) >= limit or len(records) < fetch:
            return own[:limit]
        fetch = 0
