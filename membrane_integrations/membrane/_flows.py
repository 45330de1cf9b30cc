"""The retry loop of every Membrane call, written once as a sans-IO generator.

A flow yields steps (:class:`Send` an RPC, :class:`Sleep` a while) and receives what came back:
the reply message or the ``grpc.RpcError`` the send raised. The flow's return value is the
operation's parsed result; errors are raised out of the generator, already mapped into the
package's hierarchy (``_errors.py``). The sync driver (``grpc`` + ``time.sleep``) and the async
driver (``grpc.aio`` + ``asyncio.sleep``) in ``_transport.py`` only execute the steps.

Retry rule: an idempotent read (Retrieve, RetrieveByID, GetMetrics) is retried on UNAVAILABLE
and RESOURCE_EXHAUSTED under the shared :class:`~membrane_integrations.core.retry.RetryPolicy`;
a write is never sent twice, since the daemon may have applied it before the status came back.

Example:
    >>> from membrane_integrations.core.retry import RetryPolicy
    >>> from membrane_integrations.membrane import _protocol as ops
    >>> flow = call(ops.get_metrics(), Context(RetryPolicy(max_retries=0)))
    >>> step = next(flow)
    >>> step.method, step.timeout
    ('GetMetrics', None)
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from ..core.drive import Sleep
from ..core.errors import MalformedResponseError
from ..core.retry import RetryPolicy
from ._errors import error_from_rpc_error, malformed_response
from ._protocol import Operation

__all__ = ["Context", "Flow", "Outcome", "Send", "Sleep", "call"]

T = TypeVar("T")
logger = logging.getLogger("membrane_integrations.membrane")

RETRYABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})


@dataclass(frozen=True)
class Send:
    """Call ``method`` with ``request``; ``timeout`` overrides the client's deadline when set."""

    method: str
    request: Any
    timeout: float | None = None


Step = Send | Sleep
# A reply message (untyped: the generated stubs are) or the error the send raised.
Outcome = Any
Flow = Generator[Step, Outcome, T]


@dataclass(frozen=True)
class Context:
    """What a flow needs besides its operation: the retry policy, the secrets to redact."""

    retry: RetryPolicy
    secrets: tuple[str, ...] = ()
    timeout: float | None = None


def _code(exc: grpc.RpcError) -> grpc.StatusCode | None:
    return exc.code() if callable(getattr(exc, "code", None)) else None


def call(operation: Operation[T], ctx: Context) -> Flow[T]:
    """Send ``operation`` and parse its reply, retrying what may safely be retried."""
    attempts = ctx.retry.start()
    while True:
        outcome = yield Send(operation.method, operation.request, ctx.timeout)
        if not isinstance(outcome, grpc.RpcError):
            try:
                return operation.parse(outcome)
            except MalformedResponseError as exc:
                raise malformed_response(exc, method=operation.method) from None
        code = _code(outcome)
        delay = attempts.next_delay(retryable=operation.idempotent and code in RETRYABLE_CODES)
        if delay is None:
            raise error_from_rpc_error(
                outcome, method=operation.method, secrets=ctx.secrets
            ) from None
        logger.debug(
            "retrying %s in %.3fs after %s (retry %d of %d)",
            operation.method,
            delay,
            code.name if code is not None else type(outcome).__name__,
            attempts.retries,
            ctx.retry.max_retries,
        )
        yield Sleep(delay)
