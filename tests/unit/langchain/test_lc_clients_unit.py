"""The client pair: derive the missing flavour once (per loop), close only what it derived."""

from __future__ import annotations

import asyncio
import copy
import gc
from typing import Any

import pytest

from membrane_integrations.langchain import MembrainSearchTool
from membrane_integrations.langchain._clients import ClientPair
from membrane_integrations.langchain._driver import call


class Async:
    def __init__(self) -> None:
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True

    async def search(self, query: str) -> str:
        return query


class Sync:
    def __init__(self) -> None:
        self.closed = False
        self.derived: list[Any] = []

    def close(self) -> None:
        self.closed = True

    def to_async(self) -> Async:
        self.derived.append(Async())
        return self.derived[-1]

    def search(self, query: str) -> str:
        return query


class AsyncGiven(Async):
    def __init__(self) -> None:
        super().__init__()
        self.derived: list[Sync] = []

    def to_sync(self) -> Sync:
        self.derived.append(Sync())
        return self.derived[-1]


def test_close_from_sync_code_runs_aclose_on_the_idle_loop() -> None:
    given = Sync()
    pair = ClientPair(given, None)
    loop = asyncio.new_event_loop()
    try:

        async def derive_twice() -> Any:
            return pair.for_async() is pair.for_async()

        assert loop.run_until_complete(derive_twice()) is True
        (derived,) = given.derived
        pair.close()
        assert derived.closed and not given.closed
    finally:
        loop.close()


async def test_close_inside_the_loop_closes_once_the_caller_yields() -> None:
    given = Sync()
    pair = ClientPair(given, None)
    derived = pair.for_async()
    pair.close()  # synchronous close while this loop runs
    assert not derived.closed
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert derived.closed


def test_a_client_of_a_closed_loop_is_dropped() -> None:
    given = Sync()
    pair = ClientPair(given, None)

    async def derive() -> Any:
        return pair.for_async()

    first = asyncio.run(derive())
    second = asyncio.run(derive())
    assert first is not second and len(given.derived) == 2
    pair.close()  # both loops are closed: nothing to run aclose on, and no error
    assert not first.closed and not second.closed


def test_derived_sync_client_closed_on_collection_and_copies_share() -> None:
    given = AsyncGiven()
    tool = MembrainSearchTool(async_client=given)
    assert tool.clients.for_sync() is tool.clients.for_sync()
    assert tool.model_copy().clients is tool.clients
    assert copy.copy(tool).clients is tool.clients
    (derived,) = given.derived
    del tool
    gc.collect()
    assert derived.closed and not given.closed


def test_reassigned_client_gets_a_new_pair() -> None:
    tool = MembrainSearchTool(client=Sync())
    other = Sync()
    tool.client = other
    assert tool.clients.for_sync() is other


def test_a_call_names_the_same_method_of_both_clients() -> None:
    step = call(Sync.search, Async.search, "q")
    assert (step.method, step.args) == ("search", ("q",))
    with pytest.raises(TypeError, match="same method"):
        call(Sync.search, Async.aclose)  # type: ignore[arg-type]


def test_given_takes_an_async_client_passed_as_client_for_the_async_one() -> None:
    a, s = Async(), Sync()
    pair = ClientPair.given(a, None)
    assert pair.given_sync is None and pair.given_async is a
    both = ClientPair.given(s, a)
    assert both.given_sync is s and both.given_async is a
    assert ClientPair.given(a, a).given_async is a
    with pytest.raises(ValueError):
        ClientPair.given(None, None)
