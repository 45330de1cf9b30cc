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

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ..core.errors import InvalidRequestError
from ..core.scope import validate_patterns
from ..membrain.tenancy import Tenancy

__all__ = [
    "MembrainMemoryConfig",
    "MembraneMemoryConfig",
    "MemoryKind",
    "OnError",
    "SensitivityName",
]

OnError = Literal["raise", "empty"]
MemoryKind = Literal["observation", "event", "tool_output", "working_state"]
SensitivityName = Literal["public", "low", "medium", "high", "hyper"]


class _MemoryConfig(BaseModel):
    """Settings shared by both memories."""

    model_config = ConfigDict(extra="forbid")

    container: str = Field(
        description="Tenant id (user, session, bot). Every add is stored in it; every read, "
        "query and clear is confined to it."
    )
    api_key: SecretStr | None = Field(
        default=None,
        exclude=True,
        description="API key. Never dumped; when absent it is read from `api_key_env`.",
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
        try:
            Tenancy(value)
        except InvalidRequestError as exc:
            raise ValueError(exc.message) from None
        return value

    def resolve_api_key(self) -> str | None:
        """The configured key, else the value of the ``api_key_env`` environment variable."""
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        name: str = getattr(self, "api_key_env", "")
        if not name:
            return None
        return os.environ.get(name) or None


class MembrainMemoryConfig(_MemoryConfig):
    """Config of :class:`~membrane_integrations.autogen.MembrainMemory`."""

    base_url: str | None = Field(
        default=None,
        description="Membrain server root (without /api/v1); the client's default when absent.",
    )
    api_key_env: str = Field(
        default="MEMBRAIN_API_KEY", description="Environment variable holding the API key."
    )
    scope: list[str] = Field(
        default_factory=list,
        description="Extra scope regexes ANDed after the container filter on every query.",
    )
    category: str | None = Field(
        default=None, description="Category stored on adds whose metadata has no 'category'."
    )
    rerank: bool = Field(default=False, description="Ask the server to rerank memory nodes.")
    min_score: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Drop hits with a semantic score below this."
    )
    max_retries: int = Field(default=2, ge=0, description="Retries of retryable failures.")
    wait_timeout: float = Field(
        default=60.0, gt=0, description="How long add waits for its ingest job (s)."
    )

    @field_validator("scope")
    @classmethod
    def _check_scope(cls, value: list[str]) -> list[str]:
        try:
            return validate_patterns(value)
        except InvalidRequestError as exc:
            raise ValueError(exc.message) from None


class MembraneMemoryConfig(_MemoryConfig):
    """Config of :class:`~membrane_integrations.autogen.MembraneMemory`.

    The container is the Membrane record ``scope``. ``default_kind`` picks the ingest RPC when an
    item's metadata has no ``kind``: ``observation`` (a semantic record, the default: it is
    durable and revisable), ``event`` or ``tool_output`` (episodic: decays within hours and
    cannot be retracted) or ``working_state`` (the state of a task thread).
    """

    addr: str = Field(default="localhost:9090", description="Daemon address, host:port.")
    api_key_env: str = Field(
        default="MEMBRANE_API_KEY", description="Environment variable holding the API key."
    )
    tls: bool = False
    tls_ca_cert: str | None = Field(default=None, description="PEM CA certificate path.")
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
