"""Run one tool's logic over a sync or an async client, written once.

A tool describes what it does as a *plan*: a generator that yields :class:`Call` objects (an
adapter method name and its arguments), receives each call's result, and returns
``(text_for_the_model, artifact)``. :func:`drive_sync` and :func:`drive_async` are the only
places that touch a client; they differ only in whether they ``await``. Errors raised by the
adapter are thrown back into the plan (so a plan can turn an ingest timeout into an answer)
and, when the plan does not handle them, become :class:`~langchain_core.tools.ToolException`
with a message the model can act on.

Example:
    >>> def plan():
    ...     total = yield Call("count", kwargs={"scope": ["^container\\\\.bob$"]})
    ...     return f"{total} memories", total
    >>> class Fake:
    ...     def count(self, *, scope):
    ...         return 3
    >>> drive_sync(plan(), Fake())
    ('3 memories', 3)
"""

from __future__ import annotations

import inspect
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import ToolException

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

__all__ = ["Call", "Plan", "drive_async", "drive_sync", "tool_exception"]


@dataclass(frozen=True)
class Call:
    """One adapter call: ``client.<method>(*args, **kwargs)``."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


Plan = Generator[Call, Any, tuple[str, Any]]


def drive_sync(plan: Plan, client: Any) -> tuple[str, Any]:
    """Run ``plan`` against a synchronous client."""
    try:
        call = next(plan)
        while True:
            try:
                result = getattr(client, call.method)(*call.args, **dict(call.kwargs))
            except MembraneIntegrationsError as exc:
                call = plan.throw(exc)
            else:
                call = plan.send(result)
    except StopIteration as stop:
        value: tuple[str, Any] = stop.value
        return value
    except MembraneIntegrationsError as exc:
        raise tool_exception(exc) from exc


async def drive_async(plan: Plan, client: Any) -> tuple[str, Any]:
    """Run ``plan`` against an asynchronous client (every method is awaited)."""
    try:
        call = next(plan)
        while True:
            try:
                pending = getattr(client, call.method)(*call.args, **dict(call.kwargs))
                result = await pending if inspect.isawaitable(pending) else pending
            except MembraneIntegrationsError as exc:
                call = plan.throw(exc)
            else:
                call = plan.send(result)
    except StopIteration as stop:
        value: tuple[str, Any] = stop.value
        return value
    except MembraneIntegrationsError as exc:
        raise tool_exception(exc) from exc


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


def tool_exception(exc: MembraneIntegrationsError) -> ToolException:
    """Map an adapter error to a ``ToolException`` whose text says what to do next."""
    kind = type(exc).__name__.removesuffix("Error") or "Error"
    message = redact(str(exc)).rstrip(".")
    return ToolException(f"Memory error ({kind}): {message}. {_advice(exc)}")
