"""The retry loop and the ingest polling loop, written once as sans-IO generators.

A flow yields steps (:class:`Send` a request, :class:`Sleep` a while) and receives what came
back: an ``httpx.Response`` or the ``httpx.RequestError`` raised while sending. The flow's
return value is the operation's result; errors are raised out of the generator. The sync
driver (``httpx.Client`` + ``time.sleep``) and the async driver (``httpx.AsyncClient`` +
``asyncio.sleep``) in ``_transport.py`` only execute the steps.

Retry rules:

* an idempotent request (reads, search, batch, unlink, PUT, DELETE, job polls) is retried on
  transport errors, timeouts, 5xx and 429 (never on a tier-quota code), honouring
  ``Retry-After``;
* a create (``POST /memories``) is retried only when the request provably never left the client
  (``ConnectError``, ``ConnectTimeout``, ``PoolTimeout``): after a 5xx, a read error or a read
  timeout the job may exist, and sending it again could store the fact twice.

Once a job id is known it is never lost: when polling fails for good (retries used up on
5xx, 429, timeouts or garbled replies), :class:`IngestTimeoutError` carries the job id, with the
polling error as its cause, so the caller resumes with ``wait_for_job`` instead of adding again.

Polling backs off from ``PollPolicy.initial`` (25 ms) to ``PollPolicy.maximum`` (1 s). Past the
deadline :class:`IngestTimeoutError` carries the job id; ``wait_for_job`` resumes it. Jobs are
polled at ``/api/v1/memories/jobs/{job_id}`` on the configured host, never at the server's
``status_url``, so credentials are only ever sent to ``base_url``.

Example:
    >>> from membrane_integrations.core.retry import RetryPolicy
    >>> from membrane_integrations.membrain import _protocol as ops
    >>> flow = call(ops.stats(), Context(RetryPolicy(max_retries=0)))
    >>> next(flow).request.path
    '/api/v1/stats'
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from ..core.drive import Sleep
from ..core.errors import (
    BackendTimeoutError,
    BackendUnavailableError,
    IngestFailedError,
    IngestTimeoutError,
    InvalidRequestError,
    MalformedResponseError,
    MembraneIntegrationsError,
    RateLimitedError,
    ServerError,
)
from ..core.retry import RetryPolicy
from . import _protocol as ops
from ._errors import error_from_response, error_from_transport, retry_after_of
from .models import IngestAccepted, IngestResult

if TYPE_CHECKING:
    import httpx

__all__ = ["Context", "Flow", "Outcome", "PollPolicy", "Send", "Sleep", "call", "ingest", "wait"]

T = TypeVar("T")
logger = logging.getLogger("membrane_integrations.membrain")

_TRANSIENT = (BackendUnavailableError, BackendTimeoutError, ServerError, RateLimitedError)


@dataclass(frozen=True)
class Send:
    """Send ``request`` with this per-request timeout (``None``: the client's default)."""

    request: ops.Request
    timeout: float | None = None


# httpx is imported where a client is built, not here (the framework layers import this module),
# so the outcome types are spelled as strings: a flow only ever tells them apart with
# ``isinstance(outcome, BaseException)``.
Step = Send | Sleep
Outcome: TypeAlias = "httpx.Response | httpx.RequestError"
Flow: TypeAlias = Generator[Step, "Outcome | None", T]


def never_sent(exc: BaseException | None) -> bool:
    """True when ``exc`` proves the request never left the client (so a create may be re-sent)."""
    import httpx

    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


@dataclass(frozen=True)
class PollPolicy:
    """How patiently to poll an ingest job: exponential from ``initial`` up to ``maximum``.

    >>> PollPolicy().initial, PollPolicy().maximum
    (0.025, 1.0)
    """

    initial: float = 0.025
    maximum: float = 1.0
    multiplier: float = 2.0


@dataclass(frozen=True)
class Context:
    """What a flow needs besides its operation: the policies, the secrets to redact, a clock."""

    retry: RetryPolicy
    poll: PollPolicy = field(default_factory=PollPolicy)
    secrets: tuple[str, ...] = ()
    timeout: float | None = None
    clock: Callable[[], float] = field(default=time.monotonic)


def _cut_off(response: httpx.Response) -> bool:
    """True when the body starts as JSON but does not parse: it was truncated or garbled."""
    body = response.content.lstrip()
    if not body.startswith((b"{", b"[")):
        return False
    try:
        json.loads(body)
    except ValueError:
        return True
    return False


def _retryable(request: ops.Request, outcome: Outcome, error: MembraneIntegrationsError) -> bool:
    if isinstance(outcome, BaseException):
        return request.idempotent or never_sent(outcome)
    return request.idempotent and isinstance(error, (*_TRANSIENT, MalformedResponseError))


def call(operation: ops.Operation[T], ctx: Context) -> Flow[T]:
    """Send ``operation`` and parse its reply, retrying what may safely be retried."""
    request = operation.request
    attempts = ctx.retry.start()
    while True:
        outcome = yield Send(request, ctx.timeout)
        if outcome is None:  # pragma: no cover - a driver bug, not a server condition
            raise RuntimeError("a Send step must be answered with a response or an error")
        retry_after: float | None = None
        cause: BaseException | None = None
        if not isinstance(outcome, BaseException):
            if outcome.is_success:
                try:
                    return operation.parse(outcome)
                except MalformedResponseError as garbled:
                    # A 2xx whose JSON was cut off on the way: a read may be asked again; a
                    # create may not (its job may exist). A complete reply of the wrong shape
                    # would only fail again, so it is raised at once.
                    if not (request.idempotent and _cut_off(outcome)):
                        raise
                    error: MembraneIntegrationsError = garbled
            else:
                error = error_from_response(outcome, *ctx.secrets)
                if outcome.status_code in (429, 503):
                    retry_after = retry_after_of(outcome)
        else:
            error = error_from_transport(outcome, _request_of(outcome), *ctx.secrets)
            cause = outcome
        delay = attempts.next_delay(
            retryable=_retryable(request, outcome, error), retry_after=retry_after
        )
        if delay is None:
            raise error from cause
        logger.debug(
            "retrying %s %s in %.3fs after %s (retry %d of %d)",
            request.method,
            request.path,
            delay,
            type(error).__name__,
            attempts.retries,
            ctx.retry.max_retries,
        )
        yield Sleep(delay)


def _request_of(exc: httpx.RequestError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:
        return None


def wait(job_id: str, ctx: Context, *, wait_timeout: float) -> Flow[IngestResult]:
    """Poll ``job_id`` until it completes (its result), fails, or ``wait_timeout`` passes."""
    if wait_timeout < 0:
        raise InvalidRequestError("wait_timeout must be >= 0 seconds", field="wait_timeout")
    operation = ops.get_job(job_id)
    deadline = ctx.clock() + wait_timeout
    delay = ctx.poll.initial
    last_status: str | None = None
    while True:
        try:
            job = yield from call(operation, ctx)
        except (*_TRANSIENT, MalformedResponseError) as lost:
            raise IngestTimeoutError(
                f"polling ingest job {job_id!r} failed ({lost}). The job goes on on the server: "
                f"resume with client.wait_for_job({job_id!r}) instead of adding again.",
                job_id=job_id,
                last_status=last_status,
            ) from lost
        last_status = job.status
        if job.status == "completed":
            if job.result is None:
                raise MalformedResponseError(
                    f"ingest job {job_id!r} is completed but its reply has no result; "
                    "read the memory with search or get instead."
                )
            return job.result
        if job.status == "failed":
            failure = job.error
            message = failure.message if failure else "no reason given"
            retryable = bool(failure and failure.retryable)
            raise IngestFailedError(
                f"ingest job {job_id!r} failed: {message}. "
                + ("Adding the content again may work." if retryable else "Do not retry as is."),
                job_id=job_id,
                retryable=retryable,
                code=failure.code if failure else None,
                server_message=message,
            )
        remaining = deadline - ctx.clock()
        if remaining <= 0:
            raise IngestTimeoutError(
                f"ingest job {job_id!r} was still {job.status} after {wait_timeout:g}s. Nothing "
                f"is lost: resume with client.wait_for_job({job_id!r}) instead of adding again.",
                job_id=job_id,
                last_status=job.status,
            )
        yield Sleep(min(delay, remaining))
        delay = min(delay * ctx.poll.multiplier, ctx.poll.maximum)


def ingest(
    operation: ops.Operation[IngestAccepted],
    ctx: Context,
    *,
    wait_for_result: bool,
    wait_timeout: float,
) -> Flow[IngestResult | IngestAccepted]:
    """Queue a memory and, when asked, wait for its job to finish."""
    if wait_for_result and wait_timeout < 0:
        raise InvalidRequestError("wait_timeout must be >= 0 seconds", field="wait_timeout")
    accepted = yield from call(operation, ctx)
    if not wait_for_result:
        return accepted
    return (yield from wait(accepted.job_id, ctx, wait_timeout=wait_timeout))
