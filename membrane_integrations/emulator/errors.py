"""Errors raised by the emulator engine; the web layer turns each into a JSON error reply.

Example:
    >>> err = EmulatorNotFound("memory 'm1' was not found")
    >>> err.status, err.code
    (404, 'NOT_FOUND')
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EmulatorBadRequest",
    "EmulatorBusy",
    "EmulatorError",
    "EmulatorNotFound",
    "EmulatorQuotaExceeded",
    "EmulatorUnauthorized",
]


class EmulatorError(Exception):
    """Base class: an HTTP status, a machine code, a message and optional extra detail fields."""

    status = 500
    code = "INTERNAL"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra

    def detail(self) -> dict[str, Any]:
        """The ``detail`` object of the error reply."""
        return {"code": self.code, "message": self.message, **self.extra}


class EmulatorNotFound(EmulatorError):
    """404: the memory or job does not exist for this tenant."""

    status = 404
    code = "NOT_FOUND"


class EmulatorBadRequest(EmulatorError):
    """400: a request the documented rules reject (invalid regex, full_scope without scope...)."""

    status = 400
    code = "BAD_REQUEST"


class EmulatorBusy(EmulatorError):
    """503: the request could not settle while the tenant's own data kept changing; retry."""

    status = 503
    code = "BUSY"


class EmulatorQuotaExceeded(EmulatorError):
    """403 TIER_MEMORY_CAP_REACHED or 429 TIER_WEEKLY_QUOTA_REACHED."""

    def __init__(self, message: str, *, status: int, code: str, **extra: Any) -> None:
        super().__init__(message, code=code, **extra)
        self.status = status


class EmulatorUnauthorized(EmulatorError):
    """401: the API key or bearer token is missing or unknown."""

    status = 401
    code = "UNAUTHORIZED"
