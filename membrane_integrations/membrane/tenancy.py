"""The whole Membrane tenancy rule: whom a tool or memory reads as, and what it may see (pure).

Every layer over Membrane (the LangChain tools, toolkit and retriever, the AutoGen memory, and
any added later) confines itself through :class:`MembraneView`; none keeps its own copy.

membraned decides visibility from the ``TrustContext`` sent with each read: a record is shown
when its sensitivity is at most ``max_sensitivity`` and, if ``scopes`` is non-empty, its scope
is *exactly* one of them (a plain string comparison, case-sensitive) or it has no scope at all;
a record one level above the ceiling comes back redacted. The application fixes the view once:

* **Trust.** :attr:`MembraneView.trust` is what every read sends: the application's ceiling,
  its actor (``trust.actor_id``, else ``actor``) and its scopes (``list(trust.scopes)``, else
  ``[scope]``). It is a fresh copy each time, so nothing downstream can widen the original.
  No tool argument, metadata key or model output reaches it.
* **In view.** With a ``scope``, only records whose scope equals it are shown or acted on:
  the daemon also returns unscoped records (empty scope) to every caller, and redacted copies
  are skipped unless the application asked for them. A record id outside the view is "not
  found", exactly as a missing one.
* **Writes.** New records get ``scope`` (never one from the caller: metadata keys naming it are
  refused by :func:`check_metadata_key`), the application's source
  and actor, and a sensitivity at least the floor: a caller may ask for *more* sensitive,
  never less.

Example:
    >>> from membrane_integrations.membrane.types import MemoryRecord, Sensitivity, TrustContext
    >>> view = MembraneView(TrustContext(max_sensitivity=Sensitivity.MEDIUM), actor="agent-1",
    ...                     scope="project-x")
    >>> t = view.trust
    >>> t.max_sensitivity.value, t.actor_id, t.scopes
    ('medium', 'agent-1', ['project-x'])
    >>> view.in_view(MemoryRecord(id="r1", scope="project-x"))
    True
    >>> [view.in_view(MemoryRecord(id="r", scope=s)) for s in ("", "Project-X")]
    [False, False]
    >>> view.write_sensitivity("public"), view.write_sensitivity("high")
    ('low', 'high')
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import InvalidRequestError
from .models import MemoryRecord, Sensitivity, TrustContext

__all__ = ["RESERVED_METADATA_KEYS", "MembraneView", "check_metadata_key"]

_ORDER = [s.value for s in Sensitivity]
# Metadata that would choose the record's scope: the scope is the application's, never metadata's.
RESERVED_METADATA_KEYS = frozenset({"scope", "container"})


def check_metadata_key(key: object, *, field: str = "metadata") -> None:
    """Refuse a metadata key that would name the record's scope, in any letter case.

    >>> check_metadata_key("topic")
    >>> try:
    ...     check_metadata_key("Scope")
    ... except InvalidRequestError as exc:
    ...     print(exc.field)
    metadata
    """
    if isinstance(key, str) and key.casefold() in RESERVED_METADATA_KEYS:
        raise InvalidRequestError(
            f"metadata key {key!r} is reserved: the record scope is set by the application "
            "(the memory's container), not by metadata",
            field=field,
        )


def _value(level: Any) -> str:
    return str(getattr(level, "value", level))


@dataclass(frozen=True)
class MembraneView:
    """What one tool, retriever or memory acts as, and which records it may see.

    Attributes:
        base: the application's ``TrustContext`` (kept private: read :attr:`trust`).
        actor: recorded on revisions; the trust's actor when it has none.
        scope: stamped on new records; with it, only records of this scope are in view.
        floor: the lowest sensitivity a new record gets.
        include_redacted: keep redacted copies (records one level above the ceiling).
    """

    base: TrustContext = field(default_factory=TrustContext)
    actor: str = ""
    scope: str = ""
    floor: Sensitivity | str = Sensitivity.LOW
    include_redacted: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.base, TrustContext):
            raise InvalidRequestError("trust must be a membrane TrustContext", field="trust")
        if _value(self.floor) not in _ORDER:
            raise InvalidRequestError(f"unknown sensitivity {self.floor!r}", field="sensitivity")

    @property
    def trust(self) -> TrustContext:
        """The trust every read sends: a fresh copy, with the actor and scopes defaulted."""
        return self.trust_with()

    def trust_with(self, *, max_sensitivity: Sensitivity | None = None) -> TrustContext:
        """:attr:`trust` with another ceiling: only for the application's own housekeeping
        (``MembraneMemory.clear`` finds every record of its scope); never from caller input."""
        scopes = list(self.base.scopes) or ([self.scope] if self.scope else [])
        return dataclasses.replace(
            self.base,
            max_sensitivity=self.base.max_sensitivity
            if max_sensitivity is None
            else max_sensitivity,
            actor_id=self.base.actor_id or self.actor,
            scopes=scopes,
        )

    def in_view(self, record: MemoryRecord) -> bool:
        """True when the record is of this view's scope (any record, without one)."""
        return not self.scope or record.scope == self.scope

    def visible(self, record: MemoryRecord) -> bool:
        """In view, and not a redacted copy unless the application asked for those."""
        return self.in_view(record) and (self.include_redacted or not record.redacted)

    def write_sensitivity(self, asked: Sensitivity | str | None) -> str:
        """The sensitivity of a new record: ``asked`` if above the floor, else the floor."""
        floor = _value(self.floor)
        if asked is None:
            return floor
        wanted = _value(asked)
        if wanted not in _ORDER:
            raise InvalidRequestError(f"unknown sensitivity {asked!r}", field="sensitivity")
        return wanted if _ORDER.index(wanted) > _ORDER.index(floor) else floor
