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

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..core.drive import drive_async, drive_sync
from ._flows import Flow, Outcome, Send

if TYPE_CHECKING:
    import httpx

__all__ = ["Target", "run_async", "run_sync"]

T = TypeVar("T")
logger = logging.getLogger("membrane_integrations.membrain")


@dataclass(frozen=True)
class Target:
    """Where and how to send: host root URL, auth and default headers, default timeout.

    What does not change between requests is worked out once and kept: the client's headers
    merged with ours (rebuilt only when the ``httpx`` client's headers change) and the timeout
    of each distinct per-call value.
    """

    root_url: str
    headers: Mapping[str, str] = field(repr=False)  # carries the credentials
    timeout: float | None
    _merged: list[Any] = field(default_factory=list, init=False, repr=False, compare=False)
    _timeouts: dict[float | None, dict[str, float | None]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def build(self, http: httpx.Client | httpx.AsyncClient, step: Send) -> httpx.Request:
        """The ``httpx.Request`` for a :class:`Send` step.

        The same request ``http.build_request`` would build (the client's headers under ours,
        its cookies and query parameters merged, the timeout as an extension), without redoing
        the header merge and the timeout for every request.
        """
        import httpx

        request = step.request
        timeout = step.timeout if step.timeout is not None else self.timeout
        if http.cookies or http.params:  # client state to merge per request: httpx does it
            return http.build_request(
                request.method,
                self.root_url + request.path,
                params=list(request.params) or None,
                json=request.json,
                headers=dict(self.headers),
                timeout=httpx.Timeout(timeout),
            )
        timeouts = self._timeouts.get(timeout)
        if timeouts is None:
            timeouts = httpx.Timeout(timeout).as_dict()
            if len(self._timeouts) < 16:  # a caller may pass ever-changing per-call timeouts
                self._timeouts[timeout] = timeouts
        return httpx.Request(
            request.method,
            _url(self.root_url + request.path),
            params=list(request.params) if request.params else None,
            json=request.json,
            headers=self._headers_for(http),
            extensions={"timeout": dict(timeouts)},
        )

    def _headers_for(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Headers:
        """The client's headers with ours on top, rebuilt only when the client's change."""
        import httpx

        raw = http.headers.raw
        kept = self._merged[0] if self._merged else None  # one read: (client headers, merged)
        if kept is None or kept[0] != raw:
            headers = httpx.Headers(http.headers)
            headers.update(self.headers)
            kept = (raw, headers)
            self._merged[:] = [kept]
        result: httpx.Headers = kept[1]
        return result  # httpx.Request copies it, so the one kept is never changed


@functools.lru_cache(maxsize=256)
def _url(url: str) -> httpx.URL:
    """The parsed URL (parsing is a good part of building a request; httpx URLs are immutable)."""
    import httpx

    return httpx.URL(url)


def _log(request: httpx.Request, outcome: Outcome, started: float) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    elapsed_ms = (time.perf_counter() - started) * 1000
    result = (
        type(outcome).__name__ if isinstance(outcome, BaseException) else str(outcome.status_code)
    )
    logger.debug("%s %s -> %s in %.1f ms", request.method, request.url.path, result, elapsed_ms)


def _send_sync(http: httpx.Client, target: Target, step: Send) -> Outcome:
    import httpx

    request = target.build(http, step)
    started = time.perf_counter()
    try:
        outcome: Outcome = http.send(request)
    except httpx.RequestError as exc:
        outcome = exc
    _log(request, outcome, started)
    return outcome


async def _send_async(http: httpx.AsyncClient, target: Target, step: Send) -> Outcome:
    import httpx

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
