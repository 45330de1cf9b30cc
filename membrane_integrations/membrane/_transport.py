"""The two drivers that execute a flow: one over a ``grpc`` stub, one over a ``grpc.aio`` stub.

They are the only code that differs between the sync and the async client: each says how to
send one RPC; the loop that feeds the flow is :mod:`membrane_integrations.core.drive`.
Each call is logged at DEBUG on ``membrane_integrations.membrane`` as method, status and
elapsed time; the metadata (which carries the API key) is never logged.

Example (a stand-in stub whose ``GetMetrics`` answers at once):
    >>> from types import SimpleNamespace
    >>> from membrane_integrations.core.retry import RetryPolicy
    >>> from membrane_integrations.membrane import _flows, _protocol as ops
    >>> from membrane_integrations.membrane.proto import membrane_pb2 as pb
    >>> stub = SimpleNamespace(GetMetrics=lambda request, timeout, metadata:
    ...     pb.MetricsResponse(snapshot=b'{"total_records": 3}'))
    >>> flow = _flows.call(ops.get_metrics(), _flows.Context(RetryPolicy()))
    >>> run_sync(flow, Target(stub, metadata=(), timeout=5.0))
    {'total_records': 3}
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc

from ..core.drive import drive_async, drive_sync
from ._flows import Flow, Outcome, Send

__all__ = ["Target", "run_async", "run_sync"]

T = TypeVar("T")
logger = logging.getLogger("membrane_integrations.membrane")


@dataclass(frozen=True)
class Target:
    """Where and how to send: the service stub, the call metadata, the default deadline."""

    stub: Any  # the generated MembraneServiceStub (untyped), sync or aio
    metadata: tuple[tuple[str, str], ...] = field(repr=False)  # carries the API key
    timeout: float | None

    def method(self, step: Send) -> Callable[..., Any]:
        """The stub's callable for a :class:`Send` step."""
        send: Callable[..., Any] = getattr(self.stub, step.method)
        return send

    def deadline(self, step: Send) -> float | None:
        """The step's own timeout, else the client's."""
        return self.timeout if step.timeout is None else step.timeout


def _log(step: Send, outcome: Outcome, started: float) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    elapsed_ms = (time.perf_counter() - started) * 1000
    if isinstance(outcome, grpc.RpcError):
        code = getattr(outcome, "code", None)
        result = str(getattr(code(), "name", "?")) if callable(code) else type(outcome).__name__
    else:
        result = "OK"
    logger.debug("%s -> %s in %.1f ms", step.method, result, elapsed_ms)


def _send_sync(target: Target, step: Send) -> Outcome:
    started = time.perf_counter()
    try:
        outcome: Outcome = target.method(step)(
            step.request, timeout=target.deadline(step), metadata=target.metadata
        )
    except grpc.RpcError as exc:
        outcome = exc
    _log(step, outcome, started)
    return outcome


async def _send_async(target: Target, step: Send) -> Outcome:
    started = time.perf_counter()
    try:
        outcome: Outcome = await target.method(step)(
            step.request, timeout=target.deadline(step), metadata=target.metadata
        )
    except grpc.RpcError as exc:
        outcome = exc
    _log(step, outcome, started)
    return outcome


def run_sync(flow: Flow[T], target: Target, sleep: Callable[[float], None] = time.sleep) -> T:
    """Execute ``flow`` with blocking gRPC calls and return its result."""
    return drive_sync(flow, lambda step: _send_sync(target, step), sleep)


async def run_async(flow: Flow[T], target: Target, sleep: Callable[[float], Awaitable[None]]) -> T:
    """Execute ``flow`` with ``grpc.aio`` calls and return its result."""
    return await drive_async(flow, lambda step: _send_async(target, step), sleep)
