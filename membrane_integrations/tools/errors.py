"""The text a model reads when a memory tool fails, for every surface (LangChain, MCP).

An adapter error becomes one line that says what happened and what to do next
(:func:`tool_error_text`); bad arguments become one line naming each wrong argument
(:func:`validation_message`). LangChain raises them as a ``ToolException``, the MCP server returns
them as a tool result with ``isError: true``: the same words either way. Secrets are redacted.

Example:
    >>> from membrane_integrations.core.errors import NotFoundError
    >>> error = NotFoundError("memory 'm9' was not found", status_code=404)
    >>> print(tool_error_text(error))  # doctest: +ELLIPSIS
    Memory error (NotFound): memory 'm9' was not found. Check the id: search memory first ...
"""

from __future__ import annotations

from pydantic import ValidationError

from ..core.errors import (
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
    redact,
)

__all__ = ["tool_error_text", "validation_message"]


def validation_message(error: ValidationError) -> str:
    """Tell the model which argument was wrong and why (shown instead of raising)."""
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item.get("loc", ())) or "input"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "Invalid tool arguments: " + "; ".join(parts) + ". Fix them and call the tool again."


def _advice(exc: MembraneIntegrationsError) -> str:
    if isinstance(exc, NotFoundError):
        return "Check the id: search memory first to find current ids. Do not retry the same id."
    if isinstance(exc, InvalidRequestError):
        return "Fix the arguments and call the tool again."
    if isinstance(exc, QuotaExceededError):
        reset = exc.next_weekly_reset_at
        when = f" The quota resets at {reset}." if reset else ""
        return (
            "The memory plan limit is reached: do not retry now. Tell the user that new "
            f"memories cannot be stored until old ones are deleted or the plan changes.{when}"
        )
    if isinstance(exc, RateLimitedError):
        wait = f" {exc.retry_after:g} seconds" if exc.retry_after is not None else " a moment"
        return f"Too many requests: wait{wait} before calling a memory tool again."
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        return (
            "This is a configuration problem, not the user's fault: do not retry. Continue "
            "without memory and tell the user that memory is unavailable."
        )
    if isinstance(exc, IngestFailedError):
        if exc.retryable:
            return "The failure is temporary: you may add the fact again once."
        return "Do not add the same content again unchanged."
    if isinstance(exc, IngestTimeoutError):
        return "Do not add the content again: search later to confirm it was stored."
    if isinstance(exc, ConflictError):
        return "The memory changed state; fetch it again before retrying."
    if isinstance(exc, ServerError | BackendUnavailableError | BackendTimeoutError):
        return "The memory service is unavailable: retry once later, or continue without memory."
    if isinstance(exc, MalformedResponseError):
        return "The memory service answered unexpectedly: continue without memory."
    return "Continue without memory if the problem persists."


def tool_error_text(exc: MembraneIntegrationsError) -> str:
    """An adapter error as the text a model reads: what happened, then what to do next."""
    kind = type(exc).__name__.removesuffix("Error") or "Error"
    message = redact(str(exc)).rstrip(".")
    return f"Memory error ({kind}): {message}. {_advice(exc)}"
