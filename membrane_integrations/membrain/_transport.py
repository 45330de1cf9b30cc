"""The two drivers that execute a flow: one over ``httpx.Client``, one over ``httpx.AsyncClient``.

They are the only code that differs between the sync and the async client: each says how to
send one request; the loop that feeds the flow is :mod:`membrane_integrations.core.drive`.
Each request is logged at DEBUG on ``membrane_integrations.membrain`` as method, path, status
and elapsed time; headers (which carry the credentials) are never logged.

Example:
    >>> import httpx
    >>> from membrane_integrations.core.retry import RetryPolicy
    >>> from membrane_integrations.membrain import _flows, _protocol as ops
    >>> target = Target("http://membrain.test", {"X-API-Key": "k"}, timeout=5.0)
    >>> http = httpx.Client(transport=httpx.MockTransport(
    ...     lambda request: httpx.Response(200, json={"status": "ok"})))
    >>> run_sync(_flows.call(ops.health(), _flows.Context(RetryPolicy())), http, target).status
    'ok'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from ..core.drive import drive_async, drive_sync
from ._flows import Flow, Outcome, Send

__all__ = ["Target", "run_async", "run_sync"]

T = TypeVar("T")
logger = logging.getLogger("membrane_integrations.membrain")


@dataclass(frozen=True)
class Target:
    """Where and how to send: host root URL, auth and default headers, default timeout."""

    root_url: str
    headers: Mapping[str, str] = field(repr=False)  # carries the credentials
    timeout: float | None

    def build(self, http: httpx.Client | httpx.AsyncClient, step: Send) -> httpx.Request:
        """The ``httpx.Request`` for a :class:`Send` step."""
        request = step.request
        timeout = step.timeout if step.timeout is not None else self.timeout
        return http.build_request(
            request.method,
            self.root_url + request.path,
            params=list(request.params) or None,
            json=request.json,
            headers=dict(self.headers),
            timeout=httpx.Timeout(timeout),
        )


def _log(request: httpx.Request, outcome: Outcome, started: float) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    elapsed_ms = (time.perf_counter() - started) * 1000
    result = (
        str(outcome.status_code) if isinstance(outcome, httpx.Response) else type(outcome).__name__
    )
    logger.debug("%s %s -> %s in %.1f ms", request.method, request.url.path, result, elapsed_ms)


def _send_sync(http: httpx.Client, target: Target, step: Send) -> Outcome:
    request = target.build(http, step)
    started = time.perf_counter()
    try:
        outcome: Outcome = http.send(request)
    except httpx.RequestError as exc:
        outcome = exc
    _log(request, outcome, started)
    return outcome


async def _send_async(http: httpx.AsyncClient, target: Target, step: Send) -> Outcome:
    request = target.build(http, step)
    started = time.perf_counter()
    try:
        outcome: Outcome = await http.send(request)
    except httpx.RequestError as exc:
        outcome = exc
    _log(request, outcome, started)
    return outcome


def run_sync(
    flow: Flow[T],
    http: httpx.Client,
    target: Target,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Execute ``flow`` with blocking I/O and return its result."""
    return drive_sync(flow, lambda step: _send_sync(http, target, step), sleep)


async def run_async(
    flow: Flow[T],
    http: httpx.AsyncClient,
    target: Target,
    sleep: Callable[[float], Awaitable[None]],
) -> T:
    """Execute ``flow`` with asyncio I/O and return its result."""
    return await drive_async(flow, lambda step: _send_async(http, target, step), sleep)
