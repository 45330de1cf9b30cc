"""Store one captured note in Membrane: the write every capture path's background writer runs.

A message's statements become a semantic record ``<role> said <text>``; an extracted note (role
``note``) a record shown as the fact alone (:data:`~membrane_integrations.membrane.recall.
NOTE_PREDICATE`). Both carry the tags ``msg.<key>`` and ``role.<role>`` and the view's scope.
A note that names the memory it ``replaces`` supersedes that record of the container when one
is shown with exactly that text; otherwise it is ingested. Every call has the deadline as its
timeout (the client's own default is none) and is sent once (ingests are never re-sent).
"""

from __future__ import annotations

import dataclasses

from ..core.background import remaining
from ..core.notes import Note
from ..core.ttl import Expiry
from .client import MembraneClient
from .expiry import with_expiry
from .recall import NOTE_PREDICATE, PREDICATE, record_text
from .tenancy import MembraneView
from .types import MemoryRecord, SemanticPayload

__all__ = ["find_shown", "write_note"]

RATIONALE = "replaced by a newer fact of the conversation"


def find_shown(
    client: MembraneClient, view: MembraneView, text: str, deadline: float
) -> MemoryRecord | None:
    """The container's live semantic record shown as ``text`` (as recall showed it), if any."""
    wanted = text.strip()
    records: list[MemoryRecord] = client.retrieve(
        wanted, trust=view.trust, min_salience=1e-6, limit=0, timeout=remaining(deadline)
    )
    for record in records:
        if not view.visible(record) or record.salience <= 0.0:
            continue
        if isinstance(record.payload, SemanticPayload) and wanted in (
            record_text(record),
            str(record.payload.object).strip(),
        ):
            return record
    return None


def write_note(
    client: MembraneClient,
    view: MembraneView,
    role: str,
    note: Note,
    key: str,
    deadline: float,
    *,
    sensitivity: str,
    source: str,
    actor: str,
    expiry: Expiry | None = None,
) -> None:
    """Ingest ``note`` into the view's scope, or supersede the record it replaces.

    ``expiry`` gives the record a TTL (``membrane.expiry``: retracted by a sweep once expired).
    """
    subject, predicate = ("user", NOTE_PREDICATE) if role == "note" else (role, PREDICATE)
    tags = with_expiry([f"msg.{key}", f"role.{role}"], expiry)
    if note.replaces is not None:
        old = find_shown(client, view, note.replaces, deadline)
        if old is not None and isinstance(old.payload, SemanticPayload):
            payload = dataclasses.replace(
                old.payload, subject=subject, predicate=predicate, object=note.text
            )
            new = dataclasses.replace(old, payload=payload, tags=tags)
            client.supersede(old.id, new, actor, RATIONALE, timeout=remaining(deadline))
            return
    client.ingest_observation(
        subject,
        predicate,
        note.text,
        sensitivity=view.write_sensitivity(sensitivity),
        source=source,
        tags=tags,
        scope=view.scope,
        timeout=remaining(deadline),
    )
