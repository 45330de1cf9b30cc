"""Run one component's logic over a sync or an async client, written once.

A tool or retriever describes what it does as a *plan*: a generator that yields :class:`Call`
objects, receives each call's result, and returns its answer (a tool's
``(text_for_the_model, artifact)``, a retriever's documents). A call names the adapter method
by reference in both flavours, ``call(MembrainClient.search, AsyncMembrainClient.search,
query, k=3)``, so mypy checks that both methods exist and that the arguments fit them; a typo
fails the type check, not a run. :func:`drive_sync` and :func:`drive_async` are the only places
that touch a client; they differ only in whether they ``await``. Errors raised by the adapter
are thrown back into the plan (so a plan can turn an ingest timeout into an answer); those the
plan does not handle propagate (tools turn them into :class:`~langchain_core.tools.ToolException`
with :func:`tool_exception`). :func:`local` wraps a step that runs without a client (re-ranking
with an embedder) so that it too is written once.

Example:
    >>> class Counter:
    ...     def count(self, *, scope: list[str]) -> int:
    ...         return 3
    >>> class AsyncCounter:
    ...     async def count(self, *, scope: list[str]) -> int:
    ...         return 3
    >>> def plan():
    ...     total = yield call(Counter.count, AsyncCounter.count, scope=["^container\\\\.bob$"])
    ...     return f"{total} memories", total
    >>> drive_sync(plan(), Counter())
    ('3 memories', 3)
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

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

__all__ = [
    "Call",
    "Plan",
    "ToolPlan",
    "call",
    "drive_async",
    "drive_sync",
    "local",
    "tool_exception",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
S = TypeVar("S")
A = TypeVar("A")


@dataclass(frozen=True)
class Call:
    """One step of a plan: ``client.<method>(*args, **kwargs)``, or a local function pair.

    Build it with :func:`call` (a client method) or :func:`local` (no client), which check the
    arguments against the referenced functions.
    """

    method: str | None
    run_sync: Callable[..., Any] | None = None
    run_async: Callable[..., Awaitable[Any]] | None = None
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


Plan = Generator[Call, Any, R]
ToolPlan = Generator[Call, Any, tuple[str, Any]]


def call(
    sync: Callable[Concatenate[S, P], T],
    async_: Callable[Concatenate[A, P], Awaitable[T]],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> Call:
    """A call of the client method ``sync`` (on a sync client) or ``async_`` (on an async one).

    Both are unbound methods of the two client classes, with the same name and parameters; the
    drivers call that method on whatever client they run with (a test double works too).
    """
    name = getattr(sync, "__name__", None)
    if name is None or name != getattr(async_, "__name__", None):
        raise TypeError(f"{sync!r} and {async_!r} are not the same method of two clients")
    return Call(name, args=args, kwargs=kwargs)


def local(
    sync: Callable[P, T], async_: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
) -> Call:
    """A step that needs no client: ``sync(...)`` when driven sync, ``await async_(...)`` else."""
    return Call(None, run_sync=sync, run_async=async_, args=args, kwargs=kwargs)


def _target(step: Call, client: Any, *, sync: bool) -> Callable[..., Any]:
    if step.method is not None:
        method: Callable[..., Any] = getattr(client, step.method)
        return method
    run = step.run_sync if sync else step.run_async
    if run is None:
        raise TypeError("a local step needs both a sync and an async function")
    return run


def drive_sync(plan: Plan[R], client: Any) -> R:
    """Run ``plan`` against a synchronous client; unhandled adapter errors propagate."""
    try:
        step = next(plan)
        while True:
            try:
                result = _target(step, client, sync=True)(*step.args, **dict(step.kwargs))
            except MembraneIntegrationsError as exc:
                step = plan.throw(exc)
            else:
                step = plan.send(result)
    except StopIteration as stop:
        value: R = stop.value
        return value


async def drive_async(plan: Plan[R], client: Any) -> R:
    """Run ``plan`` against an asynchronous client (every client method is awaited)."""
    try:
        step = next(plan)
        while True:
            try:
                pending = _target(step, client, sync=False)(*step.args, **dict(step.kwargs))
                result = await pending if inspect.isawaitable(pending) else pending
            except MembraneIntegrationsError as exc:
                step = plan.throw(exc)
            else:
                step = plan.send(result)
    except StopIteration as stop:
        value: R = stop.value
        return value


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
