"""The client pair every tool, toolkit and retriever holds: given clients, derived ones, closing.

A LangChain component may be built with a sync client, an async client, or both, and must work
under ``invoke``, ``batch``, ``ainvoke``, ``abatch`` and ``astream_events`` whichever it got.
:class:`ClientPair` hands out the flavour a run needs; when it was not given, it derives it from
the other one (``client.to_async()`` / ``async_client.to_sync()``: same address, key, timeouts
and retries) on first use, and owns what it derived: :meth:`ClientPair.close` (or garbage
collection) closes the derived clients, never the given ones.

An async client is tied to the event loop it first runs in (a ``grpc.aio`` channel, an
``httpx.AsyncClient`` pool), so a derived async client is made inside the running loop, one per
loop; one whose loop has closed is dropped, since there is nothing left to close it on.

:class:`WithClients` is the pydantic half: the ``client`` / ``async_client`` fields and the
check that at least one is given, declared once for every component.

Example:
    >>> class Sync:
    ...     def to_async(self) -> "Async":
    ...         return Async()
    ...     def close(self) -> None: ...
    >>> class Async:
    ...     async def aclose(self) -> None:
    ...         print("derived client closed")
    >>> import asyncio
    >>> pair = ClientPair(Sync(), None)
    >>> async def main() -> None:
    ...     derived = pair.for_async()
    ...     print(derived is pair.for_async(), type(derived).__name__)
    ...     await pair.aclose()
    >>> asyncio.run(main())
    True Async
    derived client closed
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
import weakref
from typing import Any, ClassVar

from pydantic import BaseModel, Field, PrivateAttr, SkipValidation, model_validator

__all__ = ["ClientPair", "WithClients", "is_async_client"]

_CLOSE_WAIT = 10.0  # seconds to wait for a derived client on another thread's loop to close


def is_async_client(client: Any) -> bool:
    """True when the client's methods are coroutines (an ``Async*Client``)."""
    probe = getattr(client, "aclose", None) or getattr(client, "close", None)
    return probe is not None and inspect.iscoroutinefunction(probe)


async def _aclose(client: Any) -> None:
    closer = getattr(client, "aclose", None) or getattr(client, "close", None)
    if closer is not None:
        await closer()


def _close_on_its_loop(loop: asyncio.AbstractEventLoop, client: Any) -> None:
    """Close an async client from synchronous code, on the loop it belongs to."""
    if loop.is_closed():
        return  # nothing can run on it any more; its transports went with it
    try:
        current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        current = None
    if not loop.is_running():
        if current is None:
            loop.run_until_complete(_aclose(client))
        # else another loop runs in this thread (collected mid-coroutine): it cannot run here
        return
    if current is loop:
        # called synchronously from inside that loop: close it as soon as the caller yields
        _PENDING.add(task := loop.create_task(_aclose(client)))
        task.add_done_callback(_PENDING.discard)
        return
    future = asyncio.run_coroutine_threadsafe(_aclose(client), loop)
    try:
        future.result(_CLOSE_WAIT)
    except (concurrent.futures.TimeoutError, RuntimeError):
        future.cancel()


_PENDING: set[asyncio.Task[None]] = set()


class _Derived:
    """What a pair derived (kept apart from the pair, so a finalizer can close it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sync: Any = None
        self.by_loop: dict[asyncio.AbstractEventLoop, Any] = {}

    def take(self) -> tuple[Any, dict[asyncio.AbstractEventLoop, Any]]:
        with self.lock:
            sync, by_loop = self.sync, self.by_loop
            self.sync, self.by_loop = None, {}
        return sync, by_loop

    def close(self) -> None:
        sync, by_loop = self.take()
        if sync is not None:
            sync.close()
        for loop, client in by_loop.items():
            _close_on_its_loop(loop, client)


class ClientPair:
    """A sync and an async client, one of them possibly derived from the other on demand.

    Args:
        sync: the synchronous client given by the application, or ``None``.
        async_: the asynchronous client given by the application, or ``None``.
    """

    def __init__(self, sync: Any, async_: Any) -> None:
        if sync is None and async_ is None:
            raise ValueError("a client pair needs a sync or an async client")
        self.given_sync = sync
        self.given_async = async_
        self._derived = _Derived()
        self._finalizer = weakref.finalize(self, self._derived.close)

    @classmethod
    def given(cls, client: Any, async_client: Any) -> ClientPair:
        """The pair from a component's ``client=`` / ``async_client=`` arguments.

        An async client passed as ``client=`` is taken as the async one, so ``Store(client=
        AsyncMembrainClient())`` works as users write it.
        """
        if client is not None and is_async_client(client):
            client, async_client = None, async_client or client
        return cls(client, async_client)

    def __copy__(self) -> ClientPair:
        return self  # a copied tool shares its clients, derived ones included

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientPair:
        return self

    def for_sync(self) -> Any:
        """The sync client: the given one, or one derived from the async client (once)."""
        if self.given_sync is not None:
            return self.given_sync
        derived = self._derived
        with derived.lock:
            if derived.sync is None:
                derived.sync = _derive(self.given_async, "to_sync", "client=")
            return derived.sync

    def for_async(self) -> Any:
        """The async client for the running loop: the given one, or one derived for this loop."""
        if self.given_async is not None:
            return self.given_async
        loop = asyncio.get_running_loop()
        derived = self._derived
        with derived.lock:
            client = derived.by_loop.get(loop)
            if client is None:
                # loops that have closed cannot run their clients any more: forget them
                for old in [old for old in derived.by_loop if old.is_closed()]:
                    del derived.by_loop[old]
                client = derived.by_loop[loop] = _derive(
                    self.given_sync, "to_async", "async_client="
                )
            return client

    def close(self) -> None:
        """Close the derived clients (the given ones stay open: they belong to the caller)."""
        self._derived.close()

    async def aclose(self) -> None:
        """Close the derived clients, awaiting the one of the running loop."""
        sync, by_loop = self._derived.take()
        if sync is not None:
            sync.close()
        loop = asyncio.get_running_loop()
        for owner, client in by_loop.items():
            if owner is loop:
                await _aclose(client)
            else:
                _close_on_its_loop(owner, client)


def _derive(client: Any, method: str, hint: str) -> Any:
    make = getattr(client, method, None)
    if make is None:
        raise TypeError(f"{type(client).__name__} has no {method}(): give {hint} as well")
    return make()


class WithClients(BaseModel):
    """The ``client`` / ``async_client`` fields, checked once for every LangChain component.

    An async client passed as ``client=`` moves to ``async_client``. Subclasses set
    ``_client_names`` to name their clients in the error raised when neither is given.
    """

    _client_names: ClassVar[str] = "client= and/or async_client="

    client: SkipValidation[Any] = Field(default=None, exclude=True)
    async_client: SkipValidation[Any] = Field(default=None, exclude=True)
    _pair: ClientPair | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_clients(self) -> Any:
        if self.client is not None and is_async_client(self.client):
            if self.async_client is None:
                self.async_client = self.client
            self.client = None
        if self.client is None and self.async_client is None:
            raise ValueError(f"give {self._client_names}")
        self._pair = ClientPair(self.client, self.async_client)
        return self

    @property
    def clients(self) -> ClientPair:
        """The client pair this component runs on (shared with the tools of a toolkit)."""
        pair = self._pair
        if (
            pair is None
            or pair.given_sync is not self.client
            or pair.given_async is not self.async_client
        ):
            # the fields were reassigned after construction: follow them
            pair = self._pair = ClientPair(self.client, self.async_client)
        return pair

    def _share_clients(self, other: WithClients) -> None:
        """Make ``other`` (a tool this toolkit built) use this component's pair."""
        other._pair = self.clients

    def close(self) -> None:
        """Close the clients this component derived (not the ones it was given)."""
        if self._pair is not None:
            self._pair.close()

    async def aclose(self) -> None:
        """Like :meth:`close`, awaiting the derived async client of the running loop."""
        if self._pair is not None:
            await self._pair.aclose()
