"""The Membrane error classes and the gRPC-status mapping (public path; the code is ``_errors.py``).

Every error a Membrane client raises for a failed call is both one of
:mod:`membrane_integrations.core.errors` and a ``grpc.RpcError`` with working ``code()`` and
``details()``. The file roles match the Membrain adapter's (``_errors.py`` maps server
failures); this module keeps ``membrane_integrations.membrane.errors`` importable.

Example:
    >>> from membrane_integrations.membrane.errors import MembraneNotFoundError, MembraneRpcError
    >>> issubclass(MembraneNotFoundError, MembraneRpcError)
    True
"""

from __future__ import annotations

from ._errors import (
    MembraneAuthenticationError,
    MembraneConflictError,
    MembraneInvalidRequestError,
    MembraneMalformedResponseError,
    MembraneNotFoundError,
    MembranePermissionDeniedError,
    MembraneRateLimitedError,
    MembraneRpcError,
    MembraneServerError,
    MembraneTimeoutError,
    MembraneUnavailableError,
    error_from_rpc_error,
    error_from_status,
    malformed_response,
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
