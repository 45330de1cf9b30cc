"""Shared building blocks: errors, scope tokens and filters, the retry policy."""

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
from .scope import (
    combine_scope,
    container_filter,
    container_token,
    time_filter,
    time_token,
    validate_patterns,
)

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
    "combine_scope",
    "container_filter",
    "container_token",
    "parse_retry_after",
    "time_filter",
    "time_token",
    "validate_patterns",
]
