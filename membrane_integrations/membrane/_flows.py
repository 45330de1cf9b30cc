"""The retry loop of every Membrane call, written once as a sans-IO generator.

A flow yields steps (:class:`Send` an RPC, :class:`Sleep` a while) and receives what came back:
the reply message or the ``grpc.RpcError`` the send raised. The flow's return value is the
operation's parsed result; errors are raised out of the generator, already mapped into the
package's hierarchy (``_errors.py``). The sync driver (``grpc`` + ``time.sleep``) and the async
driver (``grpc.aio`` + ``asyncio.sleep``) in ``_transport.py`` only execute the steps.

Retry rule: an idempotent read (Retrieve, RetrieveByID, GetMetrics) is retried on UNAVAILABLE
and RESOURCE_EXHAUSTED under the shared :class:`~membrane_integrations.core.retry.RetryPolicy`;
a write is never sent twice after an unknown outcome, since the daemon may have applied it before
the status came back, with one exception that cannot duplicate: on its SQLite store the daemon
answers a revision (Supersede, Fork, Retract, Merge, Contest) or a Reinforce/Penalize with
INTERNAL ``database is locked`` when a concurrent writer beat its transaction to the write lock,
after rolling that transaction back; such a call is re-sent under the same retry budget (a failed
COMMIT is not). Ingests never see this (each statement of an ingest waits up to 5 s for the lock)
and are never re-sent. A Retrieve that lists a record the daemon is still writing (its SQLite
``Create`` is not one transaction) returns the other records rather than failing: that record's
ingest has not returned yet.

Example:
    >>> from membrane_integrations.core.retry import RetryPolicy
    >>> from membrane_integrations.membrane import _protocol as ops
    >>> flow = call(ops.get_metrics(), Context(RetryPolicy(max_retries=0)))
    >>> step = next(flow)
    >>> step.method, step.timeout
    ('GetMetrics', None)
"""

from __future__ import annotations

import json
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


# membraned runs each revision and Reinforce/Penalize in one SQLite transaction opened with a
# deferred BEGIN (pkg/storage/sqlite, pkg/revision, pkg/decay). When another connection writes
# between the transaction's first read and its first write, SQLite refuses the upgrade at once
# (the 5 s busy timeout does not apply), the daemon rolls the transaction back and answers
# INTERNAL "...: database is locked". Nothing was applied, so sending the call again cannot apply
# it twice. Measured: 16 tasks, half of them reinforcing, saw this on most Reinforce calls. A
# failed COMMIT ("commit transaction: ...") is not retried (its outcome is less certain), and
# ingests never are: their Create is several autocommit INSERTs outside any transaction, each
# waiting up to 5 s for the lock, so a lock error there could follow a partly written record.
_TRANSACTIONAL = frozenset(
    {"Supersede", "Fork", "Retract", "Merge", "Contest", "Reinforce", "Penalize"}
)


def _rolled_back_on_lock(
    code: grpc.StatusCode | None, exc: grpc.RpcError, operation: Operation[Any]
) -> bool:
    if code is not grpc.StatusCode.INTERNAL or operation.method not in _TRANSACTIONAL:
        return False
    details = exc.details() if callable(getattr(exc, "details", None)) else None
    text = details if isinstance(details, str) else ""
    return "database is locked" in text and "commit transaction" not in text


# membraned's SQLite Create writes a record as several autocommit INSERTs (memory_records, then
# decay_profiles, payloads, tags, ...), so a Retrieve racing an ingest can list a record whose
# decay row does not exist yet: its decay curve is "" and it does not parse. Measured: about one
# Retrieve in seven with 4 tasks ingesting beside it. Such a record belongs to an ingest that has
# not returned yet, so the listing is parsed without it, as if it had been read a moment earlier.
_LISTINGS = frozenset({"Retrieve", "RetrieveWithSelection"})


def _half_written(item: bytes) -> bool:
    try:
        data = json.loads(item)
    except ValueError:
        return False  # garbled, not half-written: the reply stays malformed
    lifecycle = data.get("lifecycle") if isinstance(data, dict) else None
    decay = lifecycle.get("decay") if isinstance(lifecycle, dict) else None
    return isinstance(decay, dict) and decay.get("curve") == ""


def _without_half_written(operation: Operation[Any], reply: Any) -> Any | None:
    """A listing without the records caught mid-Create, or ``None`` if it listed none."""
    if operation.method not in _LISTINGS:
        return None
    kept = [item for item in reply.records if not _half_written(item)]
    if len(kept) == len(reply.records):
        return None
    return type(reply)(records=kept, selection=reply.selection)


def _parse(operation: Operation[T], reply: Any) -> T:
    try:
        return operation.parse(reply)
    except MalformedResponseError as exc:
        trimmed = _without_half_written(operation, reply)
        if trimmed is not None:
            try:
                return operation.parse(trimmed)
            except MalformedResponseError:
                pass
        raise malformed_response(exc, method=operation.method) from None


def call(operation: Operation[T], ctx: Context) -> Flow[T]:
    """Send ``operation`` and parse its reply, retrying what may safely be retried."""
    attempts = ctx.retry.start()
    while True:
        outcome = yield Send(operation.method, operation.request, ctx.timeout)
        if not isinstance(outcome, grpc.RpcError):
            return _parse(operation, outcome)
        code = _code(outcome)
        retryable = (operation.idempotent and code in RETRYABLE_CODES) or _rolled_back_on_lock(
            code, outcome, operation
        )
        delay = attempts.next_delay(retryable=retryable)
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
