"""One error hierarchy for both backends.

Every HTTP status (Membrain) and every gRPC status (Membrane) maps into one of the classes
below. Each error carries the HTTP status or the gRPC code name and the server's own message,
and its text says what happened and what to do. No message ever contains a credential: the
adapters build messages only from the server's reply and our own words, and
:func:`redact` scrubs anything that looks like a key before it is stored.

Example:
    >>> from membrane_integrations.core.errors import NotFoundError, MembraneIntegrationsError
    >>> err = NotFoundError("memory 'm1' was not found", status_code=404)
    >>> isinstance(err, MembraneIntegrationsError), err.status_code
    (True, 404)
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

__all__ = [
    "AddOutcomeUnknownError",
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
    "ServerError",
    "redact",
]

# A hint's placeholder ("<your key>"), whole: what follows it cannot be part of a value.
_PLACEHOLDER = r"<[\w ]+>(?=[\s\"',}.;)]|$)"
# Anything shaped like a credential: Membrain live keys, bearer tokens, OpenAI-style keys,
# and the value of an X-API-Key / Authorization header quoted back by a proxy. Only the value
# goes: the header name and the auth scheme stay, and a placeholder in angle brackets
# ("send X-API-Key: <your key>") is a hint, not a secret, so it stays too.
_SECRET_PATTERNS = (
    re.compile(r"mb_(?:live|test)_[A-Za-z0-9_\-]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/=]+"),
    re.compile(r"sk-[A-Za-z0-9_\-]{8,}"),
    re.compile(rf"(?i)(x-api-key[\"']?\s*[:=]\s*[\"']?)(?!{_PLACEHOLDER})[^\s\"',}}]+"),
    re.compile(
        rf"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic)\s+)?)(?!{_PLACEHOLDER}|(?:bearer|basic)\s)[^\s\"',}}]+"
    ),
)


def redact(text: str, *secrets: str | None) -> str:
    """Remove known secrets and anything shaped like a credential from ``text``.

    >>> redact("key mb_live_dummy0000 rejected")
    'key [redacted] rejected'
    >>> redact("token s3cr3t-value was bad", "s3cr3t-value")
    'token [redacted] was bad'
    >>> redact("send X-API-Key: <your key> or Authorization: Bearer <your key>")
    'send X-API-Key: <your key> or Authorization: Bearer <your key>'
    >>> redact("got X-API-Key: abc123 and Authorization: Bearer xyz789")
    'got X-API-Key: [redacted] and Authorization: Bearer [redacted]'
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + "[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


class MembraneIntegrationsError(Exception):
    """Base class of every error this package raises.

    Attributes:
        message: what happened and what to do, never containing a secret.
        status_code: the HTTP status, when the error came from an HTTP reply.
        grpc_code: the gRPC status name (``"NOT_FOUND"``), when it came from a gRPC call.
        server_message: the server's own message, redacted.
        code: a machine-readable error code sent by the server, if any.
        body: the parsed error body sent by the server, if any.
    """

    default_hint = ""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        grpc_code: str | None = None,
        server_message: str | None = None,
        code: str | None = None,
        body: Any = None,
    ) -> None:
        self.message = redact(message)
        self.status_code = status_code
        self.grpc_code = grpc_code
        self.server_message = redact(server_message) if server_message else server_message
        self.code = code
        self.body = body
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        parts = [repr(self.message)]
        if self.status_code is not None:
            parts.append(f"status_code={self.status_code}")
        if self.grpc_code is not None:
            parts.append(f"grpc_code={self.grpc_code!r}")
        if self.code is not None:
            parts.append(f"code={self.code!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class AuthenticationError(MembraneIntegrationsError):
    """401 / UNAUTHENTICATED: the API key or token is missing, wrong or expired.

    This is a configuration problem, not the user's fault: check the key the client was built with.
    """


class PermissionDeniedError(MembraneIntegrationsError):
    """403 / PERMISSION_DENIED: the credentials are valid but may not do this."""


class NotFoundError(MembraneIntegrationsError):
    """404 / NOT_FOUND: the memory, job or record does not exist (or is not yours)."""


class InvalidRequestError(MembraneIntegrationsError):
    """400 / 422 / INVALID_ARGUMENT, or our own input check before sending.

    ``field`` names the offending input when known.
    """

    def __init__(self, message: str, *, field: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.field = field


class PayloadTooLargeError(InvalidRequestError):
    """413: the request body (or an input in it) is larger than the server accepts.

    Sending it again does not help: send fewer or shorter items per request.
    """


class ConflictError(MembraneIntegrationsError):
    """409 / FAILED_PRECONDITION / ALREADY_EXISTS: the target is not in a state that allows this."""


class QuotaExceededError(MembraneIntegrationsError):
    """A plan tier limit: 403 ``TIER_MEMORY_CAP_REACHED`` or 429 ``TIER_WEEKLY_QUOTA_REACHED``.

    Retrying does not help: delete memories, upgrade, or wait for ``next_weekly_reset_at``.
    """

    def __init__(
        self,
        message: str,
        *,
        next_weekly_reset_at: datetime | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.next_weekly_reset_at = next_weekly_reset_at


class RateLimitedError(MembraneIntegrationsError):
    """429 (other than a tier quota) / RESOURCE_EXHAUSTED: too many requests; slow down.

    ``retry_after`` is the server's advice in seconds, when it gave one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(MembraneIntegrationsError):
    """5xx / INTERNAL / UNKNOWN / DATA_LOSS: the server failed; safe reads may be retried."""


class MalformedResponseError(MembraneIntegrationsError):
    """The server answered with something that is not the documented shape (bad JSON, cut off)."""


class BackendUnavailableError(MembraneIntegrationsError):
    """The server could not be reached (connection refused, DNS, UNAVAILABLE)."""


class BackendTimeoutError(MembraneIntegrationsError):
    """The request did not complete within its timeout (read timeout, DEADLINE_EXCEEDED)."""


class IngestFailedError(MembraneIntegrationsError):
    """A Membrain ingest job ended ``failed``; ``retryable`` says whether adding again may work."""

    def __init__(
        self,
        message: str,
        *,
        job_id: str,
        retryable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.job_id = job_id
        self.retryable = retryable


class IngestTimeoutError(MembraneIntegrationsError):
    """A Membrain ingest job was still running at the deadline.

    Nothing is lost: the job goes on on the server. Resume with
    ``client.wait_for_job(err.job_id)`` instead of adding the content again.
    """

    def __init__(self, message: str, *, job_id: str, last_status: str | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.last_status = last_status


class AddOutcomeUnknownError(MembraneIntegrationsError):
    """A Membrain add whose create may have reached the server could not be resolved in time.

    Raised only when every attempt failed ambiguously and the memory did not appear under its
    add token before ``wait_timeout``. ``add_token`` is the scope token it would carry: search
    with ``full_scope=True`` and ``scope=[add_token_filter(add_token)]`` later to find out
    (``from membrane_integrations.membrain import add_token_filter``).
    """

    def __init__(self, message: str, *, add_token: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.add_token = add_token
