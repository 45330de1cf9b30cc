"""Expiring records on Membrane: the expiry lives in the record's tags, forgetting is a revision.

A record with a TTL carries the two tokens of
:meth:`~membrane_integrations.core.ttl.Expiry.tokens` among its tags (``ttl.expires.<epoch
ms>`` and ``ttl.minutes.<ttl>``), set at ingest like any tag: any writer (the LangGraph store, a
capture path) gives a record a TTL with :func:`with_expiry`, and a reader tells an expired
record with :func:`expiry_of` / :func:`is_expired`.

The daemon has no expiry of its own: its decay lowers salience on its own clock (every
``decay_interval``, from the last reinforcement), and a record's lifecycle can only be set by a
new version. So forgetting is done by a client (:func:`forget`), in the daemon's own terms:

* a semantic, working, competence or plan-graph record is **retracted** (salience 0, revision
  status ``retracted``, a ``delete`` audit entry with the actor; kept for audit until the
  daemon's next decay pass prunes it);
* an episodic record cannot be retracted (the daemon refuses), so it is **decayed**: penalized
  down to its salience floor, which drops it from every ``min_salience > 0`` read and lets the
  next decay pass prune it.

:func:`sweep` / :func:`asweep` forget every expired record the view can see in its scope.

Example:
    >>> from datetime import datetime, timezone
    >>> from membrane_integrations.core.ttl import Expiry
    >>> from .daemon import LocalMembraned, find_membraned
    >>> from .tenancy import MembraneView
    >>> from .types import TrustContext
    >>> start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> view = MembraneView(TrustContext(), actor="app", scope="bob")
    >>> with LocalMembraned(find_membraned(quiet=True)) as daemon, daemon.client() as client:
    ...     _ = client.ingest_observation("bob", "is in", "Paris", scope="bob",
    ...                                   tags=with_expiry([], Expiry.start(start, 60)))
    ...     _ = client.ingest_observation("bob", "likes", "tea", scope="bob")
    ...     print(sweep(client, view, start), sweep(client, view, start.replace(hour=1)))
    ...     print(sorted(r.payload.object for r in client.retrieve("", trust=view.trust,
    ...                                                           min_salience=0.01)))
    0 1
    ['tea']
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..core.ttl import Expiry, without_ttl_tokens
from .models import MemoryRecord
from .tenancy import MembraneView
from .types import MemoryType, RevisionStatus

__all__ = [
    "aforget",
    "asweep",
    "expired_records",
    "expiry_of",
    "forget",
    "is_expired",
    "sweep",
    "with_expiry",
]

RATIONALE = "ttl expired"


def with_expiry(tags: Iterable[str], expiry: Expiry | None) -> list[str]:
    """The tags with ``expiry`` in place of any earlier one (none: no TTL)."""
    kept = without_ttl_tokens(tags)
    return [*kept, *expiry.tokens()] if expiry is not None else kept


def expiry_of(record: MemoryRecord) -> Expiry | None:
    """The expiry a record's tags carry, if any."""
    return Expiry.from_tokens(record.tags)


def is_expired(record: MemoryRecord, now: datetime) -> bool:
    """True when the record has a TTL and it has run out at ``now``."""
    expiry = expiry_of(record)
    return expiry is not None and expiry.expired(now)


def _forgotten(record: MemoryRecord) -> bool:
    revision = getattr(record.payload, "revision", None)
    if revision is not None and revision.status == RevisionStatus.RETRACTED:
        return True
    # a retracted non-semantic record, or a decayed episodic one, sits at its floor
    return record.type != MemoryType.SEMANTIC and record.salience <= _floor(record)


def _floor(record: MemoryRecord) -> float:
    decay = record.lifecycle.decay if record.lifecycle is not None else None
    return float(getattr(decay, "min_salience", 0.0) or 0.0)


def expired_records(
    records: Iterable[MemoryRecord], view: MembraneView, now: datetime
) -> list[MemoryRecord]:
    """The records of the view's scope that expired at ``now`` and are not forgotten yet."""
    return [r for r in records if view.visible(r) and is_expired(r, now) and not _forgotten(r)]


def _forget_call(record: MemoryRecord, actor: str) -> tuple[str, tuple[Any, ...]]:
    if record.type == MemoryType.EPISODIC:
        return "penalize", (record.id, max(0.0, record.salience - _floor(record)), actor, RATIONALE)
    return "retract", (record.id, actor, RATIONALE)


def forget(client: Any, record: MemoryRecord, actor: str) -> None:
    """Retract the record (decay it to its floor when episodic); see the module doc."""
    method, args = _forget_call(record, actor)
    getattr(client, method)(*args)


async def aforget(client: Any, record: MemoryRecord, actor: str) -> None:
    """The async twin of :func:`forget`."""
    method, args = _forget_call(record, actor)
    await getattr(client, method)(*args)


def _retrieve_args(view: MembraneView) -> dict[str, Any]:
    return {"trust": view.trust, "min_salience": 0.0, "limit": 0}


def sweep(client: Any, view: MembraneView, now: datetime) -> int:
    """Forget every record of the view's scope expired at ``now``; how many were forgotten."""
    records = client.retrieve("", **_retrieve_args(view))
    expired = expired_records(records, view, now)
    for record in expired:
        forget(client, record, view.trust.actor_id)
    return len(expired)


async def asweep(client: Any, view: MembraneView, now: datetime) -> int:
    """The async twin of :func:`sweep`."""
    records = await client.retrieve("", **_retrieve_args(view))
    expired = expired_records(records, view, now)
    for record in expired:
        await aforget(client, record, view.trust.actor_id)
    return len(expired)
