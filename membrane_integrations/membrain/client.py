"""``MembrainClient`` and ``AsyncMembrainClient``: thin shells over the shared operations.

Each public method builds one operation (``_protocol.py``), wraps it in the shared retry or
ingest flow (``_flows.py``) and hands it to the sync or async driver (``_transport.py``). The two
classes have the same methods with the same arguments; only ``def`` versus ``async def`` differs.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Literal, TypeVar, overload

from ..core.closing import AsyncClosing, Closing
from ..core.configured import FromConfig
from ..core.errors import InvalidRequestError
from ..core.retry import RetryPolicy
from . import _flows, _resolve
from . import _protocol as ops
from ._add_token import new_add_token
from ._config import ClientConfig
from ._flows import Flow, PollPolicy
from ._transport import run_async, run_sync
from .models import (
    BulkDeleteResult,
    DeleteResult,
    GraphExport,
    GraphHubs,
    GraphPath,
    HealthStatus,
    IngestAccepted,
    IngestJob,
    IngestResult,
    Memory,
    Neighborhood,
    ResponseFormat,
    SearchResponse,
    Stats,
    TraverseResult,
    UnlinkResult,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["AsyncMembrainClient", "MembrainClient"]

T = TypeVar("T")


class _Base(FromConfig[ClientConfig]):
    """Configuration, repr and flow construction shared by both clients."""

    def _configure(self, config: ClientConfig) -> None:
        self._config = config
        self._target = config.target()
        # Replaceable in tests so that polling and backoff never wait for real.
        self._clock: Callable[[], float] = time.monotonic
        self._default_context: _flows.Context | None = None

    @property
    def base_url(self) -> str:
        """The host root the client talks to (without ``/api/v1``)."""
        return self._config.root_url

    def __repr__(self) -> str:
        key = "'***'" if self._config.api_key else "None"
        bearer = ", bearer_token='***'" if self._config.bearer_token else ""
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={key}{bearer})"

    def _call(self, operation: ops.Operation[T], timeout: float | None) -> Flow[T]:
        return _flows.call(operation, self._context(timeout))

    def _context(self, timeout: float | None) -> _flows.Context:
        """The flow context of one call; the one without a timeout override is kept."""
        if timeout is not None:
            return self._config.context(timeout, self._clock)
        ctx = self._default_context
        if ctx is None or ctx.clock is not self._clock:
            ctx = self._default_context = self._config.context(None, self._clock)
        return ctx

    def _ingest(
        self,
        content: str,
        scope: Sequence[str] | None,
        category: str | None,
        wait: bool,
        wait_timeout: float,
        timeout: float | None,
    ) -> Flow[IngestResult | IngestAccepted]:
        ctx = self._context(timeout)
        token = new_add_token() if self._config.add_tokens else None
        if token is not None and wait:
            if wait_timeout < 0:
                raise InvalidRequestError("wait_timeout must be >= 0 seconds", field="wait_timeout")
            return _resolve.resolved_add(content, scope, category, token, ctx, wait_timeout)
        return _flows.ingest(
            ops.add(content, scope=scope, category=category, add_token=token),
            ctx,
            wait_for_result=wait,
            wait_timeout=wait_timeout,
        )

    def _wait(self, job_id: str, wait_timeout: float, timeout: float | None) -> Flow[IngestResult]:
        ops.get_job(job_id)  # validate the id before anything else
        return _flows.wait(job_id, self._context(timeout), wait_timeout=wait_timeout)


class MembrainClient(Closing, _Base):
    """Blocking client of the Membrain HTTP API (``/api/v1``).

    The key falls back to ``MEMBRAIN_API_KEY`` and the URL to ``MEMBRAIN_BASE_URL`` (the host
    root; a URL ending in ``/api/v1`` is accepted too). Reads, search and other idempotent calls
    are retried on connection errors, timeouts, 5xx and 429 (``max_retries`` times, honouring
    ``Retry-After``); ``add`` is only re-sent when the request never reached the server, or
    when its add token proves the memory is not there.

    Every add stores one extra scope token, ``^(?:add\\.<hex>)?``, counted against the limit of
    50 (so at most 49 of yours). When a create fails in a way that may have stored it (a 5xx, a
    dropped connection, a reply cut off), ``add`` (with ``wait=True``) looks the token up and
    returns the memory as stored if it is there, instead of raising; see
    :mod:`membrane_integrations.membrain._resolve`. Build the client with
    ``add_tokens=False`` to store nothing extra (an ambiguous add then raises, as before).
    Every method takes ``timeout=`` to override the client's timeout for that call.

    Example (against the bundled emulator, a real server on 127.0.0.1):
        >>> from membrane_integrations.emulator import MembrainEmulator
        >>> with MembrainEmulator() as emu:
        ...     with MembrainClient(emu.api_key, base_url=emu.url) as client:
        ...         added = client.add("User prefers green tea", scope=["container.bob"])
        ...         hits = client.search("What does the user drink?", scope=[r"^container\\.bob$"])
        ...         (added.action, hits.nodes[0].id == added.memory_id)
        ('created', True)

    A client built without a server still shows that it never prints its key:

        >>> MembrainClient("mb_test_secret", base_url="http://127.0.0.1:8080")
        MembrainClient(base_url='http://127.0.0.1:8080', api_key='***')
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        bearer_token: str | None = None,
        timeout: float | None = 30.0,
        max_retries: int = 2,
        http_client: httpx.Client | None = None,
        retry_policy: RetryPolicy | None = None,
        poll_policy: PollPolicy | None = None,
        add_tokens: bool = True,
    ) -> None:
        config = ClientConfig.resolve(
            api_key,
            base_url=base_url,
            bearer_token=bearer_token,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            poll_policy=poll_policy,
            add_tokens=add_tokens,
        )
        self._setup(config, http_client)

    def _setup(self, config: ClientConfig, http_client: httpx.Client | None) -> None:
        self._configure(config)
        self._owns_http = http_client is None
        if http_client is None:
            import httpx  # imported where a client needs it, not by importing this package

            http_client = httpx.Client()
        self._http = http_client
        self._sleep: Callable[[float], None] = time.sleep

    def _run(self, flow: Flow[T]) -> T:
        return run_sync(flow, self._http, self._target, self._sleep)

    def close(self) -> None:
        """Close the pooled connections (not those of an ``http_client`` passed in)."""
        if self._owns_http:
            self._http.close()

    def to_async(self) -> AsyncMembrainClient:
        """An :class:`AsyncMembrainClient` with this client's settings, owned by the caller.

        Same URL, credentials, timeout, retry and poll policies and add tokens; it pools its
        own connections (even when this client was given an ``http_client``), so close it with
        ``await aclose()`` when done.
        """
        return AsyncMembrainClient._from_config(self._config)

    @overload
    def add(
        self,
        content: str,
        *,
        scope: Sequence[str] | None = ...,
        category: str | None = ...,
        wait: Literal[True] = ...,
        wait_timeout: float = ...,
        timeout: float | None = ...,
    ) -> IngestResult: ...

    @overload
    def add(
        self,
        content: str,
        *,
        scope: Sequence[str] | None = ...,
        category: str | None = ...,
        wait: Literal[False],
        wait_timeout: float = ...,
        timeout: float | None = ...,
    ) -> IngestAccepted: ...

    def add(
        self,
        content: str,
        *,
        scope: Sequence[str] | None = None,
        category: str | None = None,
        wait: bool = True,
        wait_timeout: float = 60.0,
        timeout: float | None = None,
    ) -> IngestResult | IngestAccepted:
        """Store a fact; by default wait for its ingest job and return ``memory_id`` and ``action``.

        Raises ``IngestTimeoutError`` (resume with :meth:`wait_for_job`) past ``wait_timeout``
        and ``IngestFailedError`` when the job fails.
        """
        return self._run(self._ingest(content, scope, category, wait, wait_timeout, timeout))

    def get_job(self, job_id: str, *, timeout: float | None = None) -> IngestJob:
        """The current state of an ingest job."""
        return self._run(self._call(ops.get_job(job_id), timeout))

    def wait_for_job(
        self, job_id: str, *, wait_timeout: float = 60.0, timeout: float | None = None
    ) -> IngestResult:
        """Poll an ingest job (e.g. after ``IngestTimeoutError``) until it finishes."""
        return self._run(self._wait(job_id, wait_timeout, timeout))

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        scope: Sequence[str] | None = None,
        response_format: ResponseFormat = "raw",
        rerank: bool = False,
        full_scope: bool = False,
        timeout: float | None = None,
    ) -> SearchResponse:
        """Unified semantic search: memory nodes, relationship edges, optional interpretation."""
        operation = ops.search(
            query,
            k=k,
            scope=scope,
            response_format=response_format,
            rerank=rerank,
            full_scope=full_scope,
        )
        return self._run(self._call(operation, timeout))

    def get(self, memory_id: str, *, timeout: float | None = None) -> Memory:
        """One memory in full (links, evolution history)."""
        return self._run(self._call(ops.get(memory_id), timeout))

    def get_many(self, memory_ids: Sequence[str], *, timeout: float | None = None) -> list[Memory]:
        """Several memories in one request; ids that do not exist are left out."""
        return self._run(self._call(ops.get_many(memory_ids), timeout)).memories

    def update(
        self,
        memory_id: str,
        *,
        content: str | None = None,
        scope: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> Memory:
        """Replace the content and/or the scope tokens of a memory."""
        operation = ops.update(memory_id, content=content, scope=scope)
        return self._run(self._call(operation, timeout))

    def delete(self, memory_id: str, *, timeout: float | None = None) -> DeleteResult:
        """Delete one memory."""
        return self._run(self._call(ops.delete(memory_id), timeout))

    def delete_bulk(
        self,
        *,
        memory_id: str | None = None,
        scope: Sequence[str] | None = None,
        category: str | None = None,
        timeout: float | None = None,
    ) -> BulkDeleteResult:
        """Delete by id, or every memory matching the scope patterns (AND) and category."""
        operation = ops.delete_bulk(memory_id=memory_id, scope=scope, category=category)
        return self._run(self._call(operation, timeout))

    def unlink(
        self, memory_id_1: str, memory_id_2: str, *, timeout: float | None = None
    ) -> UnlinkResult:
        """Remove the link between two memories."""
        return self._run(self._call(ops.unlink(memory_id_1, memory_id_2), timeout))

    def stats(self, *, timeout: float | None = None) -> Stats:
        """Totals, average links per memory and the most used scope tokens."""
        return self._run(self._call(ops.stats(), timeout))

    def count(
        self,
        *,
        scope: Sequence[str] | None = None,
        category: str | None = None,
        timeout: float | None = None,
    ) -> int:
        """How many memories match the scope patterns (AND) and category."""
        operation = ops.count(scope=scope, category=category)
        return self._run(self._call(operation, timeout)).count

    def graph_path(self, from_id: str, to_id: str, *, timeout: float | None = None) -> GraphPath:
        """The shortest link path between two memories."""
        return self._run(self._call(ops.graph_path(from_id, to_id), timeout))

    def graph_hubs(self, limit: int = 10, *, timeout: float | None = None) -> GraphHubs:
        """The most linked memories."""
        return self._run(self._call(ops.graph_hubs(limit), timeout))

    def graph_neighborhood(
        self, memory_id: str, hops: int = 1, *, timeout: float | None = None
    ) -> Neighborhood:
        """Memories within ``hops`` links of ``memory_id``."""
        return self._run(self._call(ops.graph_neighborhood(memory_id, hops), timeout))

    def graph_export(self, *, timeout: float | None = None) -> GraphExport:
        """Every node and edge of the graph."""
        return self._run(self._call(ops.graph_export(), timeout))

    def graph_traverse(
        self,
        start_memory_id: str,
        query: str,
        *,
        max_hops: int = 2,
        edge_similarity_threshold: float = 0.7,
        scope: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> TraverseResult:
        """Follow links whose descriptions are similar to ``query``."""
        operation = ops.graph_traverse(
            start_memory_id,
            query,
            max_hops=max_hops,
            edge_similarity_threshold=edge_similarity_threshold,
            scope=scope,
        )
        return self._run(self._call(operation, timeout))

    def health(self, *, timeout: float | None = None) -> HealthStatus:
        """``GET /health``."""
        return self._run(self._call(ops.health(), timeout))

    def ready(self, *, timeout: float | None = None) -> HealthStatus:
        """``GET /ready``."""
        return self._run(self._call(ops.ready(), timeout))


class AsyncMembrainClient(AsyncClosing, _Base):
    """Asyncio client of the Membrain HTTP API: the methods of :class:`MembrainClient`, awaited.

    Example:
        >>> import asyncio
        >>> async def main() -> str:
        ...     async with AsyncMembrainClient("mb_test_x", base_url="http://127.0.0.1:1") as c:
        ...         return repr(c)
        >>> asyncio.run(main())
        "AsyncMembrainClient(base_url='http://127.0.0.1:1', api_key='***')"
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        bearer_token: str | None = None,
        timeout: float | None = 30.0,
        max_retries: int = 2,
        http_client: httpx.AsyncClient | None = None,
        retry_policy: RetryPolicy | None = None,
        poll_policy: PollPolicy | None = None,
        add_tokens: bool = True,
    ) -> None:
        config = ClientConfig.resolve(
            api_key,
            base_url=base_url,
            bearer_token=bearer_token,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            poll_policy=poll_policy,
            add_tokens=add_tokens,
        )
        self._setup(config, http_client)

    def _setup(self, config: ClientConfig, http_client: httpx.AsyncClient | None) -> None:
        self._configure(config)
        self._owns_http = http_client is None
        if http_client is None:
            import httpx  # imported where a client needs it, not by importing this package

            http_client = httpx.AsyncClient()
        self._http = http_client
        import asyncio

        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def _run(self, flow: Flow[T]) -> T:
        return await run_async(flow, self._http, self._target, self._sleep)

    async def aclose(self) -> None:
        """Close the pooled connections (not those of an ``http_client`` passed in)."""
        if self._owns_http:
            await self._http.aclose()

    def to_sync(self) -> MembrainClient:
        """A :class:`MembrainClient` with this client's settings, owned by the caller.

        Same URL, credentials, timeout, retry and poll policies and add tokens; it pools its
        own connections (even when this client was given an ``http_client``), so ``close()`` it
        when done.
        """
        return MembrainClient._from_config(self._config)

    @overload
    async def add(
        self,
        content: str,
        *,
        scope: Sequence[str] | None = ...,
        category: str | None = ...,
        wait: Literal[True] = ...,
        wait_timeout: float = ...,
        timeout: float | None = ...,
    ) -> IngestResult: ...

    @overload
    async def add(
        self,
        content: str,
        *,
        scope: Sequence[str] | None = ...,
        category: str | None = ...,
        wait: Literal[False],
        wait_timeout: float = ...,
        timeout: float | None = ...,
    ) -> IngestAccepted: ...

    async def add(
        self,
        content: str,
        *,
        scope: Sequence[str] | None = None,
        category: str | None = None,
        wait: bool = True,
        wait_timeout: float = 60.0,
        timeout: float | None = None,
    ) -> IngestResult | IngestAccepted:
        """See :meth:`MembrainClient.add`."""
        return await self._run(self._ingest(content, scope, category, wait, wait_timeout, timeout))

    async def get_job(self, job_id: str, *, timeout: float | None = None) -> IngestJob:
        """See :meth:`MembrainClient.get_job`."""
        return await self._run(self._call(ops.get_job(job_id), timeout))

    async def wait_for_job(
        self, job_id: str, *, wait_timeout: float = 60.0, timeout: float | None = None
    ) -> IngestResult:
        """See :meth:`MembrainClient.wait_for_job`."""
        return await self._run(self._wait(job_id, wait_timeout, timeout))

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        scope: Sequence[str] | None = None,
        response_format: ResponseFormat = "raw",
        rerank: bool = False,
        full_scope: bool = False,
        timeout: float | None = None,
    ) -> SearchResponse:
        """See :meth:`MembrainClient.search`."""
        operation = ops.search(
            query,
            k=k,
            scope=scope,
            response_format=response_format,
            rerank=rerank,
            full_scope=full_scope,
        )
        return await self._run(self._call(operation, timeout))

    async def get(self, memory_id: str, *, timeout: float | None = None) -> Memory:
        """See :meth:`MembrainClient.get`."""
        return await self._run(self._call(ops.get(memory_id), timeout))

    async def get_many(
        self, memory_ids: Sequence[str], *, timeout: float | None = None
    ) -> list[Memory]:
        """See :meth:`MembrainClient.get_many`."""
        return (await self._run(self._call(ops.get_many(memory_ids), timeout))).memories

    async def update(
        self,
        memory_id: str,
        *,
        content: str | None = None,
        scope: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> Memory:
        """See :meth:`MembrainClient.update`."""
        operation = ops.update(memory_id, content=content, scope=scope)
        return await self._run(self._call(operation, timeout))

    async def delete(self, memory_id: str, *, timeout: float | None = None) -> DeleteResult:
        """See :meth:`MembrainClient.delete`."""
        return await self._run(self._call(ops.delete(memory_id), timeout))

    async def delete_bulk(
        self,
        *,
        memory_id: str | None = None,
        scope: Sequence[str] | None = None,
        category: str | None = None,
        timeout: float | None = None,
    ) -> BulkDeleteResult:
        """See :meth:`MembrainClient.delete_bulk`."""
        operation = ops.delete_bulk(memory_id=memory_id, scope=scope, category=category)
        return await self._run(self._call(operation, timeout))

    async def unlink(
        self, memory_id_1: str, memory_id_2: str, *, timeout: float | None = None
    ) -> UnlinkResult:
        """See :meth:`MembrainClient.unlink`."""
        return await self._run(self._call(ops.unlink(memory_id_1, memory_id_2), timeout))

    async def stats(self, *, timeout: float | None = None) -> Stats:
        """See :meth:`MembrainClient.stats`."""
        return await self._run(self._call(ops.stats(), timeout))

    async def count(
        self,
        *,
        scope: Sequence[str] | None = None,
        category: str | None = None,
        timeout: float | None = None,
    ) -> int:
        """See :meth:`MembrainClient.count`."""
        operation = ops.count(scope=scope, category=category)
        return (await self._run(self._call(operation, timeout))).count

    async def graph_path(
        self, from_id: str, to_id: str, *, timeout: float | None = None
    ) -> GraphPath:
        """See :meth:`MembrainClient.graph_path`."""
        return await self._run(self._call(ops.graph_path(from_id, to_id), timeout))

    async def graph_hubs(self, limit: int = 10, *, timeout: float | None = None) -> GraphHubs:
        """See :meth:`MembrainClient.graph_hubs`."""
        return await self._run(self._call(ops.graph_hubs(limit), timeout))

    async def graph_neighborhood(
        self, memory_id: str, hops: int = 1, *, timeout: float | None = None
    ) -> Neighborhood:
        """See :meth:`MembrainClient.graph_neighborhood`."""
        return await self._run(self._call(ops.graph_neighborhood(memory_id, hops), timeout))

    async def graph_export(self, *, timeout: float | None = None) -> GraphExport:
        """See :meth:`MembrainClient.graph_export`."""
        return await self._run(self._call(ops.graph_export(), timeout))

    async def graph_traverse(
        self,
        start_memory_id: str,
        query: str,
        *,
        max_hops: int = 2,
        edge_similarity_threshold: float = 0.7,
        scope: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> TraverseResult:
        """See :meth:`MembrainClient.graph_traverse`."""
        operation = ops.graph_traverse(
            start_memory_id,
            query,
            max_hops=max_hops,
            edge_similarity_threshold=edge_similarity_threshold,
            scope=scope,
        )
        return await self._run(self._call(operation, timeout))

    async def health(self, *, timeout: float | None = None) -> HealthStatus:
        """See :meth:`MembrainClient.health`."""
        return await self._run(self._call(ops.health(), timeout))

    async def ready(self, *, timeout: float | None = None) -> HealthStatus:
        """See :meth:`MembrainClient.ready`."""
        return await self._run(self._call(ops.ready(), timeout))
