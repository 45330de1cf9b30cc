"""The settings of the Agent Framework context providers (what ``provider.to_dict()`` writes).

API keys are :class:`~pydantic.SecretStr` fields excluded from every dump: a serialised provider
never holds a credential. When a config is loaded without a key, the provider reads it from the
environment variable named by ``api_key_env``.

The ``container`` here is only the *default* identity; an application that serves several users
with one provider sets the identity per session or per run instead (see
:mod:`membrane_integrations.agent_framework.identity`).

Example:
    >>> from pydantic import SecretStr
    >>> cfg = MembrainContextConfig(container="bob", api_key=SecretStr("mb_live_x1"))
    >>> "mb_live_x1" in cfg.model_dump_json(), cfg.resolve_api_key(), cfg.capture
    (False, 'mb_live_x1', 'user')
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ..core.context_text import DEFAULT_HEADER
from ..core.errors import InvalidRequestError
from ..core.scope import validate_patterns
from ..membrain.tenancy import Tenancy

__all__ = ["CapturePolicy", "MembrainContextConfig", "MembraneContextConfig", "SensitivityName"]

CapturePolicy = Literal["off", "user", "user_and_assistant"]
SensitivityName = Literal["public", "low", "medium", "high", "hyper"]


class _ContextConfig(BaseModel):
    """Settings both providers share."""

    model_config = ConfigDict(extra="forbid")

    container: str | None = Field(
        default=None,
        description="Default tenant id (user, session, bot) when neither the run nor the "
        "session sets one. Without any, a run fails: nothing is read or written unconfined.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        exclude=True,
        description="API key. Never dumped; when absent it is read from `api_key_env`.",
    )
    k: int = Field(default=5, ge=1, le=100, description="Memories recalled per run.")
    max_context_chars: int = Field(
        default=2000, ge=50, description="Character budget of the recalled-context message."
    )
    context_header: str = Field(
        default=DEFAULT_HEADER, description="First line of the recalled-context message."
    )
    recall_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a recall may take; past it the run goes on without memories.",
    )
    capture: CapturePolicy = Field(
        default="user",
        description="What after_run stores: 'off', the user's messages ('user') or the user's "
        "and the assistant's ('user_and_assistant').",
    )
    timeout: float | None = Field(default=30.0, gt=0, description="Per-request timeout (s).")

    @field_validator("container")
    @classmethod
    def _check_container(cls, value: str | None) -> str | None:
        if value is not None:
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
        return (os.environ.get(name) or None) if name else None


class MembrainContextConfig(_ContextConfig):
    """Config of :class:`~membrane_integrations.agent_framework.MembrainContextProvider`."""

    base_url: str | None = Field(
        default=None,
        description="Membrain server root (without /api/v1); the client's default when absent.",
    )
    api_key_env: str = Field(
        default="MEMBRAIN_API_KEY", description="Environment variable holding the API key."
    )
    scope: list[str] = Field(
        default_factory=list,
        description="Extra scope regexes ANDed after the container filter on every recall.",
    )
    category: str | None = Field(default=None, description="Category of captured messages.")
    rerank: bool = Field(default=False, description="Ask the server to rerank memory nodes.")
    min_score: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Drop hits with a semantic score below this."
    )
    max_retries: int = Field(default=2, ge=0, description="Retries of retryable failures.")
    wait_timeout: float = Field(
        default=30.0, gt=0, description="How long a capture waits for its ingest job (s)."
    )

    @field_validator("scope")
    @classmethod
    def _check_scope(cls, value: list[str]) -> list[str]:
        try:
            return validate_patterns(value)
        except InvalidRequestError as exc:
            raise ValueError(exc.message) from None


class MembraneContextConfig(_ContextConfig):
    """Config of :class:`~membrane_integrations.agent_framework.MembraneContextProvider`.

    The container is the Membrane record ``scope`` and the only trust scope. Captured messages
    become semantic records (``<role> said <text>``), durable and revisable.
    """

    addr: str = Field(default="localhost:9090", description="Daemon address, host:port.")
    api_key_env: str = Field(
        default="MEMBRANE_API_KEY", description="Environment variable holding the API key."
    )
    tls: bool = False
    tls_ca_cert: str | None = Field(default=None, description="PEM CA certificate path.")
    actor_id: str = Field(
        default="agent-framework", description="Default actor named in the trust context."
    )
    max_sensitivity: SensitivityName = Field(
        default="medium", description="Default highest sensitivity a recall may read."
    )
    capture_sensitivity: SensitivityName = Field(
        default="low", description="Sensitivity of captured records (at least the floor)."
    )
    source: str = Field(default="agent-framework", description="Provenance of captured records.")
    min_salience: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Drop records with a salience below this."
    )
