"""Run one component's logic over a sync or an async client, written once (any framework).

A tool or retriever describes what it does as a *plan*: a generator that yields :class:`Call`
objects, receives each call's result, and returns its answer (a tool's
``(text_for_the_model, artifact)``, a retriever's documents). A call names the adapter method
by reference in both flavours, ``call(MembrainClient.search, AsyncMembrainClient.search,
query, k=3)``, so mypy checks that both methods exist and that the arguments fit them; a typo
fails the type check, not a run. :func:`drive_sync` and :func:`drive_async` are the only places
that touch a client; they differ only in whether they ``await``. Errors raised by the adapter
are thrown back into the plan (so a plan can turn an ingest timeout into an answer); those the
plan does not handle propagate (a framework layer turns them into its own tool error, with
the text of :func:`membrane_integrations.tools.errors.tool_error_text`). :func:`local` wraps a
step that runs without a client (re-ranking with an embedder) so that it too is written once.

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

from .errors import MembraneIntegrationsError

__all__ = [
    "Call",
    "Plan",
    "ToolPlan",
    "call",
    "drive_async",
    "drive_sync",
    "local",
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
