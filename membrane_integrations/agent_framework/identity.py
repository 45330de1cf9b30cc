"""Who a run recalls and captures for: set by the application, per run or per session.

An identity is never read from the model or from message text. It comes, in this order, from

1. the run: ``with provider.identity(container="alice"): await agent.run(...)`` (a context
   variable, so concurrent runs in different tasks keep their own);
2. the session (thread): ``provider.bind_session(session, container="alice")`` stores it in the
   provider's slot of ``session.state``, so it travels with a serialised session;
3. the config's default ``container``.

With none of them a run fails with :class:`~membrane_integrations.core.errors.InvalidRequestError`
before anything is read or written. Every use re-validates the identity, and the backend's
tenancy rule confines it (:class:`membrane_integrations.membrain.tenancy.Tenancy`,
:class:`membrane_integrations.membrane.tenancy.MembraneView`).

Example:
    >>> MembrainIdentity(container="alice").container
    'alice'
    >>> MembraneIdentity(container="alice", max_sensitivity="low").model_dump(exclude_none=True)
    {'container': 'alice', 'max_sensitivity': 'low'}
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..membrain.tenancy import checked_container
from .config import SensitivityName

__all__ = ["MembrainIdentity", "MembraneIdentity"]


class MembrainIdentity(BaseModel):
    """A Membrain tenant: the container every recall and capture of the run is confined to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    container: str = Field(description="Tenant id (user, session, bot).")

    @field_validator("container")
    @classmethod
    def _check_container(cls, value: str) -> str:
        checked_container(value)
        return value


class MembraneIdentity(MembrainIdentity):
    """A Membrane tenant: the record scope, and the trust context reads are sent with.

    ``actor_id`` and ``max_sensitivity`` default to the provider config's when left out.
    """

    actor_id: str | None = Field(default=None, min_length=1, description="Actor of the trust.")
    max_sensitivity: SensitivityName | None = Field(
        default=None, description="Highest sensitivity a recall may read."
    )
