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

from typing import Literal

from pydantic import Field, field_validator

from ..core.context_text import DEFAULT_HEADER
from ..core.settings import KeyedSettings, MembrainSettings, MembraneSettings, SensitivityName
from ..membrain.tenancy import checked_container

__all__ = ["CapturePolicy", "MembrainContextConfig", "MembraneContextConfig", "SensitivityName"]

CapturePolicy = Literal["off", "user", "user_and_assistant"]


class _ContextConfig(KeyedSettings):
    """Settings both providers share."""

    container: str | None = Field(
        default=None,
        description="Default tenant id (user, session, bot) when neither the run nor the "
        "session sets one. Without any, a run fails: nothing is read or written unconfined.",
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
    write_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Deadline (s) of each capture write, run in the background after the reply.",
    )
    flush_timeout: float = Field(
        default=30.0, ge=0, description="Seconds flush() and aclose() wait for pending writes."
    )
    max_pending: int = Field(
        default=1000, ge=1, description="Capture writes queued before more are refused (logged)."
    )
    note_ttl: float | None = Field(
        default=None,
        gt=0,
        description="TTL in minutes of every captured note (forgotten by the backend's expiry "
        "sweep once expired); None: kept.",
    )

    @field_validator("container")
    @classmethod
    def _check_container(cls, value: str | None) -> str | None:
        return checked_container(value)


class MembrainContextConfig(_ContextConfig, MembrainSettings):
    """Config of :class:`~membrane_integrations.agent_framework.MembrainContextProvider`."""

    category: str | None = Field(default=None, description="Category of captured messages.")
    wait_timeout: float = Field(
        default=30.0, gt=0, description="How long a capture waits for its ingest job (s)."
    )


class MembraneContextConfig(_ContextConfig, MembraneSettings):
    """Config of :class:`~membrane_integrations.agent_framework.MembraneContextProvider`.

    The container is the Membrane record ``scope`` and the only trust scope. Captured messages
    become semantic records (``<role> said <text>``), durable and revisable.
    """

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
