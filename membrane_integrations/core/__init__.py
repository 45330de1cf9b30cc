"""Shared building blocks: errors, scope-token helpers, the retry policy.

The container rule of each backend lives in its adapter: ``membrain.tenancy``, ``membrane.tenancy``.
"""

from .errors import (
    AuthenticationError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConflictError,
    IngestFailedError,
    IngestTimeoutError,
    InvalidRequestError,
    MalformedResponseError,
    MembraneIntegrationsError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitedError,
    ServerError,
)
from .retry import RetryPolicy, parse_retry_after
from .scope import time_filter, time_token, validate_patterns

__all__ = [
    "AuthenticationError",
    "BackendTimeoutError",
    "BackendUnavailableError",
    "ConflictError",
    "IngestFailedError",
    "IngestTimeoutError",
    "InvalidRequestError",
    "MalformedResponseError",
    "MembraneIntegrationsError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "parse_retry_after",
    "time_filter",
    "time_token",
    "validate_patterns",
]


def __getattr__(name: str) -> object:
    # ``from membrane_integrations.core import container_filter`` keeps working (see core.scope).
    from . import scope

    if name in scope._MOVED_TO_MEMBRAIN_TENANCY:
        return scope.__getattr__(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
