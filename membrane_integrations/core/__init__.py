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
    PayloadTooLargeError,
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
    "PayloadTooLargeError",
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


# Retired: ``core`` handed these on from ``membrain.tenancy`` through a shim that imported a
# layer above it. They live in ``membrane_integrations.membrain.tenancy``; an old import gets
# an AttributeError that says where.
_MOVED_TO_MEMBRAIN_TENANCY = frozenset(
    {
        "combine_scope",
        "container_filter",
        "container_token",
        "container_write_tokens",
        "encode_container_id",
    }
)


def __getattr__(name: str) -> object:
    if name in _MOVED_TO_MEMBRAIN_TENANCY:
        raise AttributeError(
            f"module {__name__!r} has no attribute {name!r}: import it from "
            "membrane_integrations.membrain.tenancy"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
