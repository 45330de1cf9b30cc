"""A record as the index keeps it: the text the surfaces render, its terms, its vector.

Example:
    >>> from membrane_integrations.membrane.types import MemoryRecord, SemanticPayload
    >>> index_text(MemoryRecord(id="r", payload=SemanticPayload(
    ...     subject="user", predicate="said", object="I drink green tea")))
    'user said: I drink green tea'
"""

from __future__ import annotations

from ..models import CompetencePayload, MemoryRecord, PlanGraphPayload
from ..recall import record_text

__all__ = ["index_text"]


def index_text(record: MemoryRecord) -> str | None:
    """The text indexed for ``record`` (the surfaces' one line; skills and plans by name)."""
    text = record_text(record)
    if text is not None:
        return text
    payload = record.payload
    parts: list[str] = []
    if isinstance(payload, CompetencePayload):
        parts = [payload.skill_name, *(t.signal for t in payload.triggers)]
    elif isinstance(payload, PlanGraphPayload):
        parts = [payload.intent, payload.plan_id]
    joined = " ".join(p for p in parts if p)
    return joined or None
