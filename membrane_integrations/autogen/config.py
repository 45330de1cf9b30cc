"""The declarative configs of the AutoGen memories (what ``dump_component()`` writes).

API keys are :class:`~pydantic.SecretStr` fields excluded from every dump: a dumped component
never holds a credential. When a config is loaded without a key, the memory reads it from the
environment variable named by ``api_key_env``.

Example:
    >>> from pydantic import SecretStr
    >>> cfg = MembrainMemoryConfig(container="bob", api_key=SecretStr("mb_live_x1"))
    >>> "mb_live_x1" in cfg.model_dump_json(), cfg.resolve_api_key()
    (False, 'mb_live_x1')
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ..core.settings import KeyedSettings, MembrainSettings, MembraneSettings, SensitivityName
from ..membrain.tenancy import checked_container

__all__ = [
    "MembrainMemoryConfig",
    "MembraneMemoryConfig",
    "MemoryKind",
    "OnError",
    "SensitivityName",
]

OnError = Literal["raise", "empty"]
MemoryKind = Literal["observation", "event", "tool_output", "working_state"]


class _MemoryConfig(KeyedSettings):
    """Settings shared by both memories."""

    container: str = Field(
        description="Tenant id (user, session, bot). Every add is stored in it; every read, "
        "query and clear is confined to it."
    )
    k: int = Field(default=5, ge=1, le=100, description="Default number of memories per query.")
    max_context_chars: int = Field(
        default=2000,
        ge=50,
        description="Character budget of the system message update_context adds.",
    )
    context_header: str = Field(
        default="Relevant memories about the user and this conversation (most relevant first):",
        description="First line of the system message update_context adds.",
    )
    on_error: OnError = Field(
        default="raise",
        description="'raise': query/update_context raise on failure. 'empty': they log a "
        "warning and return no memories. add and clear always raise.",
    )
    timeout: float | None = Field(default=30.0, gt=0, description="Per-request timeout (s).")

    @field_validator("container")
    @classmethod
    def _check_container(cls, value: str) -> str:
        checked_container(value)
        return value


class MembrainMemoryConfig(_MemoryConfig, MembrainSettings):
    """Config of :class:`~membrane_integrations.autogen.MembrainMemory`."""

    category: str | None = Field(
        default=None, description="Category stored on adds whose metadata has no 'category'."
    )
    wait_timeout: float = Field(
        default=60.0, gt=0, description="How long add waits for its ingest job (s)."
    )


class MembraneMemoryConfig(_MemoryConfig, MembraneSettings):
    """Config of :class:`~membrane_integrations.autogen.MembraneMemory`.

    The container is the Membrane record ``scope``. ``default_kind`` picks the ingest RPC when an
    item's metadata has no ``kind``: ``observation`` (a semantic record, the default: it is
    durable and revisable), ``event`` or ``tool_output`` (episodic: decays within hours and
    cannot be retracted) or ``working_state`` (the state of a task thread).
    """

    default_kind: MemoryKind = "observation"
    default_sensitivity: SensitivityName = Field(
        default="low",
        description="Lowest sensitivity of an add: metadata 'sensitivity' may raise it, never "
        "lower it.",
    )
    max_sensitivity: SensitivityName = Field(
        default="medium", description="Highest sensitivity a query may read."
    )
    source: str = Field(default="autogen", description="Provenance source of every add.")
    actor_id: str = Field(default="autogen-memory", description="Actor named in audit entries.")
    subject: str = Field(default="user", description="Observation subject when none is given.")
    predicate: str = Field(default="noted", description="Observation predicate when none is given.")
    min_salience: float = Field(default=0.0, ge=0.0, le=1.0)
