"""gRPC statuses mapped into the package's error hierarchy, still usable as ``grpc.RpcError``.

Every error a Membrane client raises for a failed call is both one of
:mod:`membrane_integrations.core.errors` (``NotFoundError``, ...) and a ``grpc.RpcError`` with
working ``code()`` and ``details()``, so code written for the upstream client
(``except grpc.RpcError as e: e.code()``) keeps working unchanged.

Example:
    >>> import grpc
    >>> from membrane_integrations.core.errors import NotFoundError
    >>> err = error_from_status(grpc.StatusCode.NOT_FOUND, "record not found: r1",
    ...                         method="RetrieveByID")
    >>> isinstance(err, NotFoundError), isinstance(err, grpc.RpcError), err.code().name
    (True, True, 'NOT_FOUND')
    >>> err.details(), err.grpc_code
    ('record not found: r1', 'NOT_FOUND')
"""

from __future__ import annotations

from typing import Any

import grpc

from ..core.errors import (
    AuthenticationError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConflictError,
    InvalidRequestError,
    MalformedResponseError,
    MembraneIntegrationsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    redact,
)

__all__ = [
    "MembraneAuthenticationError",
    "MembraneConflictError",
    "MembraneInvalidRequestError",
    "MembraneMalformedResponseError",
    "MembraneNotFoundError",
    "MembranePermissionDeniedError",
    "MembraneRateLimitedError",
    "MembraneRpcError",
    "MembraneServerError",
    "MembraneTimeoutError",
    "MembraneUnavailableError",
    "error_from_rpc_error",
    "error_from_status",
    "malformed_response",
]


class MembraneRpcError(grpc.RpcError):  # type: ignore[misc]
    """The ``grpc.RpcError`` face of every Membrane error: ``code()`` and ``details()``."""

    _status: grpc.StatusCode
    _details: str

    def code(self) -> grpc.StatusCode:
        """The gRPC status code, e.g. ``grpc.StatusCode.NOT_FOUND``."""
        return self._status

    def details(self) -> str:
        """The daemon's status message (redacted)."""
        return self._details

    def _set_status(self, status: grpc.StatusCode, details: str) -> None:
        # MembraneIntegrationsError stores a server error code in the instance attribute `code`,
        # which would hide the `code()` method that grpc.RpcError users call. gRPC replies carry
        # no such code, so drop the attribute.
        self.__dict__.pop("code", None)
        self._status = status
        self._details = details

    def __repr__(self) -> str:
        message = getattr(self, "message", str(self))
        status = getattr(self, "_status", None)
        name = status.name if status is not None else None
        return f"{type(self).__name__}({message!r}, grpc_code={name!r})"

    def trailing_metadata(self) -> tuple[()]:
        return ()

    def initial_metadata(self) -> tuple[()]:
        return ()


class MembraneAuthenticationError(MembraneRpcError, AuthenticationError):  # type: ignore[misc]
    """UNAUTHENTICATED: the API key is missing or wrong."""


class MembranePermissionDeniedError(MembraneRpcError, PermissionDeniedError):  # type: ignore[misc]
    """PERMISSION_DENIED: the trust context may not see this record."""


class MembraneNotFoundError(MembraneRpcError, NotFoundError):  # type: ignore[misc]
    """NOT_FOUND: no record with that id (it may have been pruned)."""


class MembraneInvalidRequestError(MembraneRpcError, InvalidRequestError):  # type: ignore[misc]
    """INVALID_ARGUMENT / OUT_OF_RANGE: the daemon rejected the request's content."""


class MembraneConflictError(MembraneRpcError, ConflictError):  # type: ignore[misc]
    """FAILED_PRECONDITION / ALREADY_EXISTS / ABORTED: the record's state does not allow this."""


class MembraneRateLimitedError(MembraneRpcError, RateLimitedError):  # type: ignore[misc]
    """RESOURCE_EXHAUSTED: rate limit or message size exceeded."""


class MembraneUnavailableError(MembraneRpcError, BackendUnavailableError):  # type: ignore[misc]
    """UNAVAILABLE / CANCELLED: the daemon could not be reached."""


class MembraneTimeoutError(MembraneRpcError, BackendTimeoutError):  # type: ignore[misc]
    """DEADLINE_EXCEEDED: the call did not finish within its timeout."""


class MembraneServerError(MembraneRpcError, ServerError):  # type: ignore[misc]
    """INTERNAL / UNKNOWN / DATA_LOSS / UNIMPLEMENTED: the daemon failed."""


class MembraneMalformedResponseError(MembraneRpcError, MalformedResponseError):  # type: ignore[misc]
    """The daemon answered, but not with the documented shape (code() is INTERNAL)."""


_MAP: dict[grpc.StatusCode, tuple[type[MembraneIntegrationsError], str]] = {
    grpc.StatusCode.UNAUTHENTICATED: (
        MembraneAuthenticationError,
        "check the api_key the client was built with (sent as 'authorization: Bearer ...')",
    ),
    grpc.StatusCode.PERMISSION_DENIED: (
        MembranePermissionDeniedError,
        "the trust context (max_sensitivity, scopes) does not allow this record",
    ),
    grpc.StatusCode.NOT_FOUND: (MembraneNotFoundError, "check the record id"),
    grpc.StatusCode.INVALID_ARGUMENT: (MembraneInvalidRequestError, "fix the request"),
    grpc.StatusCode.OUT_OF_RANGE: (MembraneInvalidRequestError, "fix the request"),
    grpc.StatusCode.FAILED_PRECONDITION: (
        MembraneConflictError,
        "the record's state does not allow this (episodic records cannot be revised)",
    ),
    grpc.StatusCode.ALREADY_EXISTS: (MembraneConflictError, "use another id or omit it"),
    grpc.StatusCode.ABORTED: (MembraneConflictError, "retry the operation"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (
        MembraneRateLimitedError,
        "slow down, or send a smaller request",
    ),
    grpc.StatusCode.UNAVAILABLE: (
        MembraneUnavailableError,
        "check that membraned is running and reachable at the configured address",
    ),
    grpc.StatusCode.CANCELLED: (MembraneUnavailableError, "the call was cancelled"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (
        MembraneTimeoutError,
        "raise the timeout, or check the daemon's load",
    ),
    grpc.StatusCode.INTERNAL: (MembraneServerError, "see the daemon's log"),
    grpc.StatusCode.UNKNOWN: (MembraneServerError, "see the daemon's log"),
    grpc.StatusCode.DATA_LOSS: (MembraneServerError, "see the daemon's log"),
    grpc.StatusCode.UNIMPLEMENTED: (
        MembraneServerError,
        "the daemon does not know this RPC; this client speaks membraned v0.2.0",
    ),
}


def error_from_status(
    code: grpc.StatusCode,
    details: str | None,
    *,
    method: str,
    secrets: tuple[str | None, ...] = (),
) -> MembraneIntegrationsError:
    """Build the typed error for a failed call of ``method`` with status ``code``."""
    cls, hint = _MAP.get(code, (MembraneServerError, "see the daemon's log"))
    text = redact(details or "", *secrets)
    message = f"membraned {method} failed with {code.name}: {text or '(no message)'}; {hint}"
    err = cls(redact(message, *secrets), grpc_code=code.name, server_message=text)
    assert isinstance(err, MembraneRpcError)
    err._set_status(code, text)
    return err


def error_from_rpc_error(
    exc: grpc.RpcError, *, method: str, secrets: tuple[str | None, ...] = ()
) -> MembraneIntegrationsError:
    """Translate an error raised by grpc (sync or aio) into our typed error."""
    code_fn: Any = getattr(exc, "code", None)
    details_fn: Any = getattr(exc, "details", None)
    code = code_fn() if callable(code_fn) else grpc.StatusCode.UNKNOWN
    details = details_fn() if callable(details_fn) else str(exc)
    if not isinstance(code, grpc.StatusCode):
        code = grpc.StatusCode.UNKNOWN
    return error_from_status(code, details, method=method, secrets=secrets)


def malformed_response(
    exc: MalformedResponseError, *, method: str
) -> MembraneMalformedResponseError:
    """Re-raise a parse failure as an error that is also a ``grpc.RpcError`` (INTERNAL)."""
    message = f"membraned {method} returned a malformed reply: {exc.message}"
    err = MembraneMalformedResponseError(message, grpc_code=grpc.StatusCode.INTERNAL.name)
    err._set_status(grpc.StatusCode.INTERNAL, exc.message)
    return err
