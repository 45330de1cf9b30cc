"""The add flow that resolves an ambiguous create through its add token (sans-IO, shared).

A create may fail in a way that leaves its fate unknown: a 5xx (a proxy's 503 page included),
a read error or read timeout after the request was written, a 202 reply cut off. Without the
reply there is no job id to poll. Each add therefore carries an add token (``_add_token.py``),
and after such a failure the flow:

1. looks the token up (``full_scope`` search on the anchored token, then a read by id, each
   retried as any read is): if the memory is there, the add is reported stored, with that
   memory; a lookup that fails is asked again until ``wait_timeout``, and only then
   :class:`AddOutcomeUnknownError` (carrying the token) says the fate is unknown;
2. otherwise sends the create again, with the **same** token, at most ``max_retries`` times.
   The first attempt may still be queued, so absence is not proof; two mechanisms keep that
   from leaving two copies: the two jobs carry identical content in the same container, so the
   later one merges into the earlier (Membrain merges near-duplicates; the token, read as a
   regex, admits every candidate), and once the re-sent job is done the flow lists the token
   again and deletes any second memory carrying it (both are this one add). What remains is a
   server that runs the two jobs in parallel *and* finishes the first after that last listing;
3. when every attempt failed ambiguously, it keeps looking the token up until ``wait_timeout``
   and raises :class:`AddOutcomeUnknownError` only if the memory never appeared.

Polling a known job id also keeps going until ``wait_timeout`` when a poll fails (the job
goes on on the server); past the deadline :class:`IngestTimeoutError` carries the job id.

A memory found through the token, or merged into the copy an earlier attempt of the same add
left, is reported ``created`` when its content is the add's content and its history shows only
merges of that same content; anything else is reported ``updated``.

Example:
    >>> from membrane_integrations.core.retry import RetryPolicy
    >>> from membrane_integrations.membrain import _flows, _protocol as ops
    >>> flow = resolved_add("x", ["a"], None, "tok", _flows.Context(RetryPolicy()), 5.0)
    >>> step = next(flow)
    >>> step.request.method, step.request.json["scope"]
    ('POST', ['a', 'tok'])
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..core.errors import (
    AddOutcomeUnknownError,
    BackendTimeoutError,
    BackendUnavailableError,
    IngestFailedError,
    IngestTimeoutError,
    MalformedResponseError,
    MembraneIntegrationsError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from . import _protocol as ops
from ._add_token import add_token_filter
from ._flows import Context, Flow, Sleep, call, never_sent, wait
from .models import IngestResult, Memory

__all__ = ["resolved_add"]

logger = logging.getLogger("membrane_integrations.membrain")

# A create that failed like this may have queued a job. 4xx (429 and quotas included) are the
# server's refusals: nothing was queued.
_AMBIGUOUS = (ServerError, BackendUnavailableError, BackendTimeoutError, MalformedResponseError)
_TRANSIENT = (*_AMBIGUOUS, RateLimitedError)
_LOOKUP_QUERY = "add token lookup"


def _own(memory: Memory, content: str) -> bool:
    """True when ``memory`` holds ``content`` and was only ever merged with that same content."""
    if memory.content != content:
        return False
    return all(entry.get("previous_content") == content for entry in memory.evolution_history)


def _as_result(memory: Memory, content: str) -> IngestResult:
    action = "created" if _own(memory, content) else "updated"
    return IngestResult(memory_id=memory.id, action=action, memory=memory)


def _carriers(token: str, ctx: Context) -> Flow[list[str]]:
    """The ids of every memory carrying ``token`` (usually none or one)."""
    operation = ops.search(_LOOKUP_QUERY, k=1, scope=[add_token_filter(token)], full_scope=True)
    hits = yield from call(operation, ctx)
    return [node.id for node in hits.nodes]


def _lookup(token: str, content: str, ctx: Context) -> Flow[IngestResult | None]:
    """The memory carrying ``token`` as an ingest result, or ``None`` when there is none."""
    for memory_id in (yield from _carriers(token, ctx)):
        try:
            memory = yield from call(ops.get(memory_id), ctx)
        except NotFoundError:  # deleted between the search and the read
            continue
        return _as_result(memory, content)
    return None


def _pause(ctx: Context, delay: float, deadline: float) -> tuple[Sleep | None, float]:
    """The next backoff step before ``deadline`` (``None`` when it has passed)."""
    remaining = deadline - ctx.clock()
    if remaining <= 0:
        return None, delay
    return Sleep(min(delay, remaining)), min(delay * ctx.poll.multiplier, ctx.poll.maximum)


def _patient_lookup(
    token: str, content: str, ctx: Context, deadline: float, *, until_found: bool
) -> Flow[IngestResult | None]:
    """Look the token up, asking again after transient failures until ``deadline``.

    With ``until_found`` an absent memory is asked for again until the deadline too (a job of an
    earlier attempt may still be running); otherwise the first answer is final. When no lookup
    got an answer before the deadline, :class:`AddOutcomeUnknownError` says that the add's fate
    cannot be known now (rather than guessing either way).
    """
    delay = ctx.poll.initial
    while True:
        failure: MembraneIntegrationsError | None = None
        try:
            found = yield from _lookup(token, content, ctx)
        except _TRANSIENT as error:
            logger.debug("add token lookup failed (%s); asking again", type(error).__name__)
            found, failure = None, error
        if found is not None or (failure is None and not until_found):
            return found
        step, delay = _pause(ctx, delay, deadline)
        if step is None:
            if failure is None:
                return None
            raise AddOutcomeUnknownError(
                f"an add failed ambiguously and looking up its add token kept failing until "
                f"wait_timeout (last: {failure}); the fact may or may not be stored: search for "
                "the token before adding again",
                add_token=token,
            ) from failure
        yield step


def _settle(job_id: str, ctx: Context, deadline: float) -> Flow[IngestResult]:
    """Poll a known job until it ends, resuming after failed polls until ``deadline``."""
    delay = ctx.poll.initial
    while True:
        try:
            return (yield from wait(job_id, ctx, wait_timeout=max(deadline - ctx.clock(), 0.0)))
        except IngestTimeoutError as lost:
            if lost.__cause__ is None:  # the deadline itself passed
                raise
            step, delay = _pause(ctx, delay, deadline)
            if step is None:
                raise
            yield step


def _sweep(token: str, keep: str, ctx: Context, deadline: float) -> Flow[None]:
    """Delete every memory carrying ``token`` but ``keep``: all of them are this one add."""
    delay = ctx.poll.initial
    while True:
        try:
            for memory_id in (yield from _carriers(token, ctx)):
                if memory_id != keep:
                    logger.info("deleting %s: a second copy of the same add", memory_id)
                    yield from call(ops.delete(memory_id), ctx)
            return
        except _TRANSIENT:
            step, delay = _pause(ctx, delay, deadline)
            if step is None:
                raise
            yield step


def resolved_add(
    content: str,
    scope: Sequence[str] | None,
    category: str | None,
    token: str,
    ctx: Context,
    wait_timeout: float,
) -> Flow[IngestResult]:
    """Store ``content`` and wait for it, resolving ambiguous creates through ``token``."""
    operation = ops.add(content, scope=scope, category=category, add_token=token)
    deadline = ctx.clock() + wait_timeout
    resends = ctx.retry.start()
    ambiguous: MembraneIntegrationsError | None = None
    while True:
        try:
            accepted = yield from call(operation, ctx)
        except _AMBIGUOUS as error:
            if never_sent(error.__cause__) and ambiguous is None:
                raise  # provably never left the client (call() already retried it): nothing stored
            logger.debug("create failed ambiguously (%s): looking up its add token", error)
            ambiguous = error
            found = yield from _patient_lookup(token, content, ctx, deadline, until_found=False)
            if found is not None:
                logger.debug("ambiguous add resolved: found under its add token")
                return found
            delay = resends.next_delay(retryable=True)
            if delay is None:
                break
            logger.debug("ambiguous add: nothing under its add token yet; sending it again")
            yield Sleep(delay)
            continue
        try:
            result = yield from _settle(accepted.job_id, ctx, deadline)
        except IngestFailedError:
            if ambiguous is None:
                raise
            # This attempt failed; an earlier one may still have stored the fact.
            found = yield from _patient_lookup(token, content, ctx, deadline, until_found=False)
            if found is None:
                raise
            return found
        if ambiguous is None:
            return result
        yield from _sweep(token, result.memory_id, ctx, deadline)
        if result.action == "updated" and result.memory is not None:
            return _as_result(result.memory, content)
        return result
    found = yield from _patient_lookup(token, content, ctx, deadline, until_found=True)
    if found is not None:
        return found
    raise AddOutcomeUnknownError(
        f"every attempt to add failed ambiguously (last: {ambiguous}) and no memory carries "
        "the add token after wait_timeout; the fact is probably not stored, but search for "
        "the token before adding it again",
        add_token=token,
    ) from ambiguous
