"""``MembraneClient`` (grpc) and ``AsyncMembraneClient`` (grpc.aio): thin shells over operations.

Both clients expose the upstream reference client's constructor and methods, plus a per-call
``timeout=`` on every method. Each method builds one operation (``_protocol.py``), wraps it in
the shared retry flow (``_flows.py``: idempotent reads retried on UNAVAILABLE and
RESOURCE_EXHAUSTED under the shared :class:`~membrane_integrations.core.retry.RetryPolicy`, a
failed status mapped into the error hierarchy, whose errors are also ``grpc.RpcError``) and hands
it to the sync or async driver (``_transport.py``). The two classes have the same methods with
the same arguments; only ``def`` versus ``async def`` differs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
import grpc.aio

from ..core.closing import AsyncClosing, Closing
from ..core.configured import FromConfig
from ..core.retry import RetryPolicy
from . import _flows
from . import _protocol as ops
from ._config import ClientConfig
from ._flows import Flow
from ._protocol import DEFAULT_SOURCE
from ._transport import Target, run_async, run_sync
from .models import (
    MemoryRecord,
    MemoryType,
    OutcomeStatus,
    RetrieveResult,
    Sensitivity,
    TrustContext,
)
from .proto import membrane_pb2_grpc

if TYPE_CHECKING:
    from .recall_index import RecallIndex
    from .tenancy import MembraneView

__all__ = ["AsyncMembraneClient", "MembraneClient"]

T = TypeVar("T")

# The generated stub is untyped; it has one callable attribute per RPC.
_new_stub: Callable[[Any], Any] = membrane_pb2_grpc.MembraneServiceStub


class _Base(FromConfig[ClientConfig]):
    """Configuration, repr and flow construction shared by both clients."""

    #: The recall index this client's accepted writes update (``recall_index`` package); the
    #: Membrane memory surfaces attach the default one. Never updated for a refused write.
    recall_index: RecallIndex | None = None

    def _index_written(self, record: MemoryRecord, *, retired: Sequence[str] = ()) -> MemoryRecord:
        if self.recall_index is not None:
            self.recall_index.on_written(record, retired=retired)
        return record

    def _index_retired(self, record_id: str) -> None:
        if self.recall_index is not None:
            self.recall_index.on_retired([record_id])

    def _index_contested(self, record_id: str) -> None:
        if self.recall_index is not None:
            self.recall_index.on_contested(record_id)

    @property
    def addr(self) -> str:
        """The daemon address (``host:port``)."""
        return self._config.addr

    @property
    def timeout(self) -> float | None:
        """The default per-call timeout in seconds (None: no deadline)."""
        return self._config.timeout

    def __repr__(self) -> str:
        key = ", api_key='***'" if self._config.api_key else ""
        return f"{type(self).__name__}(addr={self.addr!r}, tls={self._config.tls}{key})"

    def _call(self, operation: ops.Operation[T], timeout: float | None) -> Flow[T]:
        return _flows.call(operation, self._config.context(timeout))

    def _target(self, stub: Any) -> Target:
        return Target(stub, self._config.metadata(), self._config.timeout)


class MembraneClient(Closing, _Base):
    """Synchronous client for membraned (the Membrane daemon) over gRPC.

    Same constructor and methods as the upstream reference client, plus the environment:
    ``addr`` defaults to ``MEMBRANE_ADDR`` (else ``localhost:9090``) and ``api_key=None`` to
    ``MEMBRANE_API_KEY`` (``api_key=""`` sends no key); the key never shows in a repr.
    Extras are keyword-only:
    ``max_retries`` / ``retry_policy`` (reads only), ``channel_options``, ``channel`` (use an
    existing channel, which the client then does not close), and ``timeout=`` on every method.

    Example (against a daemon or the test double listening on ``addr``)::

        from membrane_integrations.membrane import MembraneClient, Sensitivity, TrustContext

        with MembraneClient("127.0.0.1:9090", api_key=None, timeout=10.0) as client:
            rec = client.ingest_event("file_edit", "src/main.py", summary="Refactored auth")
            hits = client.retrieve("fix the login bug",
                                   trust=TrustContext(max_sensitivity=Sensitivity.MEDIUM))
            client.reinforce(rec.id, actor="agent-1", rationale="Used successfully")

    >>> MembraneClient("127.0.0.1:1", api_key="secret-key")
    MembraneClient(addr='127.0.0.1:1', tls=False, api_key='***')
    """

    def __init__(
        self,
        addr: str | None = None,
        *,
        tls: bool = False,
        tls_ca_cert: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int = 2,
        retry_policy: RetryPolicy | None = None,
        channel_options: Sequence[tuple[str, Any]] | None = None,
        channel: grpc.Channel | None = None,
    ) -> None:
        config = ClientConfig.resolve(
            addr,
            tls=tls,
            tls_ca_cert=tls_ca_cert,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            channel_options=channel_options,
        )
        self._setup(config, channel)

    def _setup(self, config: ClientConfig, channel: grpc.Channel | None) -> None:
        self._config = config
        self._owns_channel = channel is None
        self._channel = channel if channel is not None else config.open_channel()
        self._stub_target = self._target(_new_stub(self._channel))
        self._closed = False
        # Replaceable in tests so that backoff never waits for real.
        self._sleep: Callable[[float], None] = time.sleep

    def _run(self, operation: ops.Operation[T], timeout: float | None) -> T:
        return run_sync(self._call(operation, timeout), self._stub_target, self._sleep)

    def close(self) -> None:
        """Close the channel (idempotent). The context manager calls this."""
        if not self._closed:
            self._closed = True
            if self._owns_channel:
                self._channel.close()

    def to_async(self) -> AsyncMembraneClient:
        """An :class:`AsyncMembraneClient` with this client's settings, owned by the caller.

        Same address, key, TLS, timeout, retry policy and channel options; it opens its own
        ``grpc.aio`` channel (even when this client was given a ``channel``), so close it with
        ``await aclose()`` when done.
        """
        twin = AsyncMembraneClient._from_config(self._config)
        twin.recall_index = self.recall_index
        return twin

    # --- ingestion ---------------------------------------------------------------------------

    def ingest_event(
        self,
        event_kind: str,
        ref: str,
        *,
        summary: str = "",
        sensitivity: Sensitivity | str = Sensitivity.LOW,
        source: str = DEFAULT_SOURCE,
        tags: Sequence[str] | None = None,
        scope: str = "",
        timestamp: str | None = None,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Create an episodic record from an event."""
        call = ops.ingest_event(
            event_kind,
            ref,
            summary=summary,
            sensitivity=sensitivity,
            source=source,
            tags=tags,
            scope=scope,
            timestamp=timestamp,
        )
        return self._index_written(self._run(call, timeout))

    def ingest_tool_output(
        self,
        tool_name: str,
        *,
        args: dict[str, Any] | None = None,
        result: Any = None,
        sensitivity: Sensitivity | str = Sensitivity.LOW,
        source: str = DEFAULT_SOURCE,
        depends_on: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        scope: str = "",
        timestamp: str | None = None,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Create an episodic record from a tool invocation."""
        call = ops.ingest_tool_output(
            tool_name,
            args=args,
            result=result,
            sensitivity=sensitivity,
            source=source,
            depends_on=depends_on,
            tags=tags,
            scope=scope,
            timestamp=timestamp,
        )
        return self._index_written(self._run(call, timeout))

    def ingest_observation(
        self,
        subject: str,
        predicate: str,
        obj: Any,
        *,
        sensitivity: Sensitivity | str = Sensitivity.LOW,
        source: str = DEFAULT_SOURCE,
        tags: Sequence[str] | None = None,
        scope: str = "",
        timestamp: str | None = None,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Create a semantic record from a subject-predicate-object triple."""
        call = ops.ingest_observation(
            subject,
            predicate,
            obj,
            sensitivity=sensitivity,
            source=source,
            tags=tags,
            scope=scope,
            timestamp=timestamp,
        )
        return self._index_written(self._run(call, timeout))

    def ingest_outcome(
        self,
        target_record_id: str,
        outcome_status: OutcomeStatus | str,
        *,
        source: str = DEFAULT_SOURCE,
        timestamp: str | None = None,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Attach an outcome to an existing episodic record; returns the updated record."""
        call = ops.ingest_outcome(
            target_record_id, outcome_status, source=source, timestamp=timestamp
        )
        return self._index_written(self._run(call, timeout))

    def ingest_working_state(
        self,
        thread_id: str,
        state: str,
        *,
        next_actions: Sequence[str] | None = None,
        open_questions: Sequence[str] | None = None,
        context_summary: str = "",
        active_constraints: Sequence[dict[str, Any]] | None = None,
        sensitivity: Sensitivity | str = Sensitivity.LOW,
        source: str = DEFAULT_SOURCE,
        tags: Sequence[str] | None = None,
        scope: str = "",
        timestamp: str | None = None,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Create a working-memory snapshot for a task thread."""
        call = ops.ingest_working_state(
            thread_id,
            state,
            next_actions=next_actions,
            open_questions=open_questions,
            context_summary=context_summary,
            active_constraints=active_constraints,
            sensitivity=sensitivity,
            source=source,
            tags=tags,
            scope=scope,
            timestamp=timestamp,
        )
        return self._index_written(self._run(call, timeout))

    # --- retrieval ---------------------------------------------------------------------------

    def retrieve(
        self,
        task_descriptor: str,
        *,
        trust: TrustContext | None = None,
        memory_types: Sequence[MemoryType | str] | None = None,
        min_salience: float = 0.0,
        limit: int = 10,
        timeout: float | None = None,
    ) -> list[MemoryRecord]:
        """Records relevant to a task, ranked; redacted copies have ``payload is None``."""
        call = ops.retrieve(
            task_descriptor,
            trust=trust,
            memory_types=memory_types,
            min_salience=min_salience,
            limit=limit,
        )
        return self._run(call, timeout)

    def retrieve_with_selection(
        self,
        task_descriptor: str,
        *,
        trust: TrustContext | None = None,
        memory_types: Sequence[MemoryType | str] | None = None,
        min_salience: float = 0.0,
        limit: int = 10,
        timeout: float | None = None,
    ) -> RetrieveResult:
        """Records plus the selector's metadata (ranked candidates, confidence)."""
        call = ops.retrieve_with_selection(
            task_descriptor,
            trust=trust,
            memory_types=memory_types,
            min_salience=min_salience,
            limit=limit,
        )
        return self._run(call, timeout)

    def retrieve_by_id(
        self,
        record_id: str,
        *,
        trust: TrustContext | None = None,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Fetch one record by id (never redacted; PERMISSION_DENIED when not visible)."""
        return self._run(ops.retrieve_by_id(record_id, trust=trust), timeout)

    def recall(
        self,
        query: str,
        *,
        view: MembraneView,
        limit: int = 10,
        min_salience: float = 0.0,
        memory_types: Sequence[MemoryType | str] | None = None,
    ) -> list[MemoryRecord]:
        """Up to ``limit`` records of ``view`` for ``query``, best first.

        Through :attr:`recall_index` when one is attached (ranked by meaning; each record read
        back by id under ``view.trust``), else in the daemon's order (``membrane.recall``).
        """
        from .recall import recall_records

        return recall_records(self, view, query, limit, min_salience, memory_types=memory_types)

    # --- revision ----------------------------------------------------------------------------

    def supersede(
        self,
        old_id: str,
        new_record: dict[str, Any] | MemoryRecord,
        actor: str,
        rationale: str,
        *,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Replace a record with a new version.

        The record is completed as the caller meant (``_revisions``): an ``id`` equal to a
        source id is dropped so the daemon assigns a new one, and a missing ``sensitivity``
        or ``lifecycle`` gets ingestion's defaults (``low``; decay by type).
        """
        record = self._run(ops.supersede(old_id, new_record, actor, rationale), timeout)
        return self._index_written(record, retired=[old_id])

    def fork(
        self,
        source_id: str,
        forked_record: dict[str, Any] | MemoryRecord,
        actor: str,
        rationale: str,
        *,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Create a conditional variant of a record.

        The record is completed as the caller meant (``_revisions``): an ``id`` equal to a
        source id is dropped so the daemon assigns a new one, and a missing ``sensitivity``
        or ``lifecycle`` gets ingestion's defaults (``low``; decay by type).
        """
        return self._index_written(
            self._run(ops.fork(source_id, forked_record, actor, rationale), timeout)
        )

    def retract(
        self, record_id: str, actor: str, rationale: str, *, timeout: float | None = None
    ) -> None:
        """Soft-delete a record."""
        self._run(ops.retract(record_id, actor, rationale), timeout)
        self._index_retired(record_id)

    def merge(
        self,
        record_ids: Sequence[str],
        merged_record: dict[str, Any] | MemoryRecord,
        actor: str,
        rationale: str,
        *,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Combine several records into one consolidated record.

        The record is completed as the caller meant (``_revisions``): an ``id`` equal to a
        source id is dropped so the daemon assigns a new one, and a missing ``sensitivity``
        or ``lifecycle`` gets ingestion's defaults (``low``; decay by type).
        """
        record = self._run(ops.merge(record_ids, merged_record, actor, rationale), timeout)
        return self._index_written(record, retired=list(record_ids))

    def contest(
        self,
        record_id: str,
        contesting_ref: str,
        actor: str,
        rationale: str,
        *,
        timeout: float | None = None,
    ) -> None:
        """Mark a record as contested by conflicting evidence."""
        self._run(ops.contest(record_id, contesting_ref, actor, rationale), timeout)
        self._index_contested(record_id)

    # --- reinforcement -----------------------------------------------------------------------

    def reinforce(
        self, record_id: str, actor: str, rationale: str, *, timeout: float | None = None
    ) -> None:
        """Boost a record's salience by its reinforcement gain."""
        self._run(ops.reinforce(record_id, actor, rationale), timeout)

    def penalize(
        self,
        record_id: str,
        amount: float,
        actor: str,
        rationale: str,
        *,
        timeout: float | None = None,
    ) -> None:
        """Reduce a record's salience by ``amount``."""
        self._run(ops.penalize(record_id, amount, actor, rationale), timeout)

    def get_metrics(self, *, timeout: float | None = None) -> dict[str, Any]:
        """A point-in-time metrics snapshot of the daemon."""
        return self._run(ops.get_metrics(), timeout)


class AsyncMembraneClient(AsyncClosing, _Base):
    """Asynchronous client for membraned over ``grpc.aio``; every method is ``async``.

    The same constructor and methods as :class:`MembraneClient`. The channel is opened on the
    first call (inside the running event loop) and reused; close it with ``await close()`` or
    ``async with``.

    Example::

        async with AsyncMembraneClient("127.0.0.1:9090") as client:
            rec = await client.ingest_event("file_edit", "src/main.py")
            hits = await client.retrieve("fix the login bug", limit=5)

    >>> AsyncMembraneClient("127.0.0.1:1", tls=True)
    AsyncMembraneClient(addr='127.0.0.1:1', tls=True)
    """

    def __init__(
        self,
        addr: str | None = None,
        *,
        tls: bool = False,
        tls_ca_cert: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int = 2,
        retry_policy: RetryPolicy | None = None,
        channel_options: Sequence[tuple[str, Any]] | None = None,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        config = ClientConfig.resolve(
            addr,
            tls=tls,
            tls_ca_cert=tls_ca_cert,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            channel_options=channel_options,
        )
        self._setup(config, channel)

    def _setup(self, config: ClientConfig, channel: grpc.aio.Channel | None) -> None:
        self._config = config
        self._owns_channel = channel is None
        self._channel: grpc.aio.Channel | None = channel
        self._stub_target: Target | None = (
            self._target(_new_stub(channel)) if channel is not None else None
        )
        self._closed = False
        # Replaceable in tests so that backoff never waits for real.
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def _get_target(self) -> Target:
        # grpc.aio channels belong to the running event loop: open it on the first call.
        if self._closed:
            raise RuntimeError("this AsyncMembraneClient is closed")
        if self._stub_target is None:
            self._channel = self._config.open_aio_channel()
            self._stub_target = self._target(_new_stub(self._channel))
        return self._stub_target

    async def _run(self, operation: ops.Operation[T], timeout: float | None) -> T:
        return await run_async(self._call(operation, timeout), self._get_target(), self._sleep)

    async def aclose(self) -> None:
        """Close the channel (idempotent). ``async with`` calls this."""
        if not self._closed:
            self._closed = True
            if self._owns_channel and self._channel is not None:
                await self._channel.close()

    # The reference client's name; ``aclose`` is the name shared with AsyncMembrainClient.
    close = aclose

    def to_sync(self) -> MembraneClient:
        """A :class:`MembraneClient` with this client's settings, owned by the caller.

        Same address, key, TLS, timeout, retry policy and channel options; it opens its own
        channel (even when this client was given a ``channel``), so ``close()`` it when done.
        """
        twin = MembraneClient._from_config(self._config)
        twin.recall_index = self.recall_index
        return twin

    # --- ingestion ---------------------------------------------------------------------------

    async def ingest_event(
        self,
        event_kind: str,
        ref: str,
        *,
        summary: str = "",
        sensitivity: Sensitivity | str = Sensitivity.LOW,
        source: str = DEFAULT_SOURCE,
        tags: Sequence[str] | None = None,
        scope: str = "",
        timestamp: str | None = None,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Create an episodic record from an event."""
        call = ops.ingest_event(
            event_kind,
            ref,
            summary=summary,
            sensitivity=sensitivity,
            source=source,
            tags=tags,
            scope=scope,
            timestamp=timestamp,
        )
        return self._index_written(await self._run(call, timeout))

    async def ingest_tool_output(
        self,
        tool_name: str,
        *,
        args: dict[str, Any] | None = None,
        result: Any = None,
        sensitivity: Sensitivity | str = Sensitivity.LOW,
        source: str = DEFAULT_SOURCE,
        depends_on: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        scope: str = "",
        timestamp: str | None = None,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Create an episodic record from a tool invocation."""
        call = ops.ingest_tool_output(
            tool_name,
            args=args,
            result=result,
            sensitivity=sensitivity,
            source=source,
            depends_on=depends_on,
            tags=tags,
            scope=scope,
            timestamp=timestamp,
        )
        return self._index_written(await self._run(call, timeout))

    async def ingest_observation(
        self,
        subject: str,
        predicate: str,
        obj: Any,
        *,
        sensitivity: Sensitivity | str = Sensitivity.LOW,
        source: str = DEFAULT_SOURCE,
        tags: Sequence[str] | None = None,
        scope: str = "",
        timestamp: str | None = None,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Create a semantic record from a subject-predicate-object triple."""
        call = ops.ingest_observation(
            subject,
            predicate,
            obj,
            sensitivity=sensitivity,
            source=source,
            tags=tags,
            scope=scope,
            timestamp=timestamp,
        )
        return self._index_written(await self._run(call, timeout))

    async def ingest_outcome(
        self,
        target_record_id: str,
        outcome_status: OutcomeStatus | str,
        *,
        source: str = DEFAULT_SOURCE,
        timestamp: str | None = None,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Attach an outcome to an existing episodic record; returns the updated record."""
        call = ops.ingest_outcome(
            target_record_id, outcome_status, source=source, timestamp=timestamp
        )
        return self._index_written(await self._run(call, timeout))

    async def ingest_working_state(
        self,
        thread_id: str,
        state: str,
        *,
        next_actions: Sequence[str] | None = None,
        open_questions: Sequence[str] | None = None,
        context_summary: str = "",
        active_constraints: Sequence[dict[str, Any]] | None = None,
        sensitivity: Sensitivity | str = Sensitivity.LOW,
        source: str = DEFAULT_SOURCE,
        tags: Sequence[str] | None = None,
        scope: str = "",
        timestamp: str | None = None,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Create a working-memory snapshot for a task thread."""
        call = ops.ingest_working_state(
            thread_id,
            state,
            next_actions=next_actions,
            open_questions=open_questions,
            context_summary=context_summary,
            active_constraints=active_constraints,
            sensitivity=sensitivity,
            source=source,
            tags=tags,
            scope=scope,
            timestamp=timestamp,
        )
        return self._index_written(await self._run(call, timeout))

    # --- retrieval ---------------------------------------------------------------------------

    async def retrieve(
        self,
        task_descriptor: str,
        *,
        trust: TrustContext | None = None,
        memory_types: Sequence[MemoryType | str] | None = None,
        min_salience: float = 0.0,
        limit: int = 10,
        timeout: float | None = None,
    ) -> list[MemoryRecord]:
        """Records relevant to a task, ranked; redacted copies have ``payload is None``."""
        call = ops.retrieve(
            task_descriptor,
            trust=trust,
            memory_types=memory_types,
            min_salience=min_salience,
            limit=limit,
        )
        return await self._run(call, timeout)

    async def retrieve_with_selection(
        self,
        task_descriptor: str,
        *,
        trust: TrustContext | None = None,
        memory_types: Sequence[MemoryType | str] | None = None,
        min_salience: float = 0.0,
        limit: int = 10,
        timeout: float | None = None,
    ) -> RetrieveResult:
        """Records plus the selector's metadata (ranked candidates, confidence)."""
        call = ops.retrieve_with_selection(
            task_descriptor,
            trust=trust,
            memory_types=memory_types,
            min_salience=min_salience,
            limit=limit,
        )
        return await self._run(call, timeout)

    async def retrieve_by_id(
        self,
        record_id: str,
        *,
        trust: TrustContext | None = None,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Fetch one record by id (never redacted; PERMISSION_DENIED when not visible)."""
        return await self._run(ops.retrieve_by_id(record_id, trust=trust), timeout)

    async def recall(
        self,
        query: str,
        *,
        view: MembraneView,
        limit: int = 10,
        min_salience: float = 0.0,
        memory_types: Sequence[MemoryType | str] | None = None,
    ) -> list[MemoryRecord]:
        """Like :meth:`MembraneClient.recall`, async."""
        from .recall import arecall_records

        return await arecall_records(
            self, view, query, limit, min_salience, memory_types=memory_types
        )

    # --- revision ----------------------------------------------------------------------------

    async def supersede(
        self,
        old_id: str,
        new_record: dict[str, Any] | MemoryRecord,
        actor: str,
        rationale: str,
        *,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Replace a record with a new version.

        The record is completed as the caller meant (``_revisions``): an ``id`` equal to a
        source id is dropped so the daemon assigns a new one, and a missing ``sensitivity``
        or ``lifecycle`` gets ingestion's defaults (``low``; decay by type).
        """
        record = await self._run(ops.supersede(old_id, new_record, actor, rationale), timeout)
        return self._index_written(record, retired=[old_id])

    async def fork(
        self,
        source_id: str,
        forked_record: dict[str, Any] | MemoryRecord,
        actor: str,
        rationale: str,
        *,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Create a conditional variant of a record.

        The record is completed as the caller meant (``_revisions``): an ``id`` equal to a
        source id is dropped so the daemon assigns a new one, and a missing ``sensitivity``
        or ``lifecycle`` gets ingestion's defaults (``low``; decay by type).
        """
        return self._index_written(
            await self._run(ops.fork(source_id, forked_record, actor, rationale), timeout)
        )

    async def retract(
        self, record_id: str, actor: str, rationale: str, *, timeout: float | None = None
    ) -> None:
        """Soft-delete a record."""
        await self._run(ops.retract(record_id, actor, rationale), timeout)
        self._index_retired(record_id)

    async def merge(
        self,
        record_ids: Sequence[str],
        merged_record: dict[str, Any] | MemoryRecord,
        actor: str,
        rationale: str,
        *,
        timeout: float | None = None,
    ) -> MemoryRecord:
        """Combine several records into one consolidated record.

        The record is completed as the caller meant (``_revisions``): an ``id`` equal to a
        source id is dropped so the daemon assigns a new one, and a missing ``sensitivity``
        or ``lifecycle`` gets ingestion's defaults (``low``; decay by type).
        """
        record = await self._run(ops.merge(record_ids, merged_record, actor, rationale), timeout)
        return self._index_written(record, retired=list(record_ids))

    async def contest(
        self,
        record_id: str,
        contesting_ref: str,
        actor: str,
        rationale: str,
        *,
        timeout: float | None = None,
    ) -> None:
        """Mark a record as contested by conflicting evidence."""
        await self._run(ops.contest(record_id, contesting_ref, actor, rationale), timeout)
        self._index_contested(record_id)

    # --- reinforcement -----------------------------------------------------------------------

    async def reinforce(
        self, record_id: str, actor: str, rationale: str, *, timeout: float | None = None
    ) -> None:
        """Boost a record's salience by its reinforcement gain."""
        await self._run(ops.reinforce(record_id, actor, rationale), timeout)

    async def penalize(
        self,
        record_id: str,
        amount: float,
        actor: str,
        rationale: str,
        *,
        timeout: float | None = None,
    ) -> None:
        """Reduce a record's salience by ``amount``."""
        await self._run(ops.penalize(record_id, amount, actor, rationale), timeout)

    async def get_metrics(self, *, timeout: float | None = None) -> dict[str, Any]:
        """A point-in-time metrics snapshot of the daemon."""
        return await self._run(ops.get_metrics(), timeout)
