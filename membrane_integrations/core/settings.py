"""The declarative settings every framework component's config shares (no framework imported).

The AutoGen memory configs and the Agent Framework provider configs both name a backend the same
way: the API key (a :class:`~pydantic.SecretStr` that no dump ever holds, else read from the
environment variable ``api_key_env``), the Membrain server and read options, the Membrane daemon
address and TLS. They derive from these models, so a field means the same thing, with the same
default and the same validation, in every config.

Example:
    >>> from pydantic import SecretStr
    >>> class Demo(MembrainSettings):
    ...     pass
    >>> cfg = Demo(api_key=SecretStr("mb_live_x1"), scope=["topic\\\\.tea"])
    >>> "mb_live_x1" in cfg.model_dump_json(), cfg.resolve_api_key(), cfg.scope
    (False, 'mb_live_x1', ['topic\\\\.tea'])
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from .errors import InvalidRequestError
from .scope import validate_patterns

__all__ = ["KeyedSettings", "MembrainSettings", "MembraneSettings", "SensitivityName"]

SensitivityName = Literal["public", "low", "medium", "high", "hyper"]


class KeyedSettings(BaseModel):
    """An API key that is never dumped, and where to read it from when it is not given."""

    # Built on first use, not at import: each config costs milliseconds to build (issue 18).
    model_config = ConfigDict(extra="forbid", defer_build=True)

    api_key: SecretStr | None = Field(
        default=None,
        exclude=True,
        description="API key. Never dumped; when absent it is read from `api_key_env`.",
    )

    def resolve_api_key(self) -> str | None:
        """The configured key, else the value of the ``api_key_env`` environment variable."""
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        # api_key_env is declared by each backend's settings, with that backend's default.
        name: str = getattr(self, "api_key_env", "")
        return (os.environ.get(name) or None) if name else None


class MembrainSettings(KeyedSettings):
    """Which Membrain server, and the read options every search of the component uses."""

    base_url: str | None = Field(
        default=None,
        description="Membrain server root (without /api/v1); the client's default when absent.",
    )
    api_key_env: str = Field(
        default="MEMBRAIN_API_KEY", description="Environment variable holding the API key."
    )
    scope: list[str] = Field(
        default_factory=list,
        description="Extra scope regexes ANDed after the container filter on every read.",
    )
    rerank: bool = Field(
        default=False,
        description="Kept for old configs: recall always asks for a server-reranked pool of memory "
        "nodes (membrain.recall).",
    )
    min_score: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Drop hits with a semantic score below this."
    )
    max_retries: int = Field(default=2, ge=0, description="Retries of retryable failures.")

    @field_validator("scope")
    @classmethod
    def _check_scope(cls, value: list[str]) -> list[str]:
        try:
            return validate_patterns(value)
        except InvalidRequestError as exc:
            raise ValueError(exc.message) from None


class MembraneSettings(KeyedSettings):
    """Which membraned, and how to reach it."""

    addr: str = Field(default="localhost:9090", description="Daemon address, host:port.")
    api_key_env: str = Field(
        default="MEMBRANE_API_KEY", description="Environment variable holding the API key."
    )
    tls: bool = False
    tls_ca_cert: str | None = Field(default=None, description="PEM CA certificate path.")
