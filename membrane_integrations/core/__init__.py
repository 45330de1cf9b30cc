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
