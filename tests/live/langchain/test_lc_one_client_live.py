"""Tools, toolkits and retrievers built with ONE client, run every way LangChain runs them.

Both backends, real servers (the emulator; the real membraned). Built with only a sync client,
a component derives its async client inside the running event loop (one per loop: a grpc.aio
channel is bound to its loop); built with only an async client, it derives a sync one. The
derived clients are the component's: ``close()`` / ``aclose()`` or garbage collection closes
them, and never the client the application gave.
"""

from __future__ import annotations

import asyncio
import gc
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import (
    MembrainRetriever,
    MembrainToolkit,
    MembraneRetriever,
    MembraneToolkit,
)
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient
from membrane_integrations.membrane import (
    AsyncMembraneClient,
    MembraneClient,
    Sensitivity,
    TrustContext,
)
from tests.support.membraned import Membraned, require_daemon

pytestmark = pytest.mark.live

TRUST = TrustContext(max_sensitivity=Sensitivity.MEDIUM, authenticated=True)


def is_closed(client: Any) -> bool:
    """Whether an adapter client has released its connections."""
    if isinstance(client, MembrainClient | AsyncMembrainClient):
        return bool(client._http.is_closed)
    return bool(client._closed)


@dataclass
class Backend:
    """How to build one backend's toolkit and retriever, and what to ask them."""

    name: str
    make_sync: Callable[[], Any]
    make_async: Callable[[], Any]
    toolkit: Callable[[dict[str, Any], str], Any]
    retriever: Callable[[dict[str, Any], str], BaseRetriever]
    read: Callable[[str], dict[str, Any]]  # arguments of the read tool (the first tool)
    write: Callable[[str], dict[str, Any]]  # arguments of the write tool
    write_tool: str


@pytest.fixture(scope="module")
def emulator() -> Iterator[MembrainEmulator]:
    with MembrainEmulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon()) as server:
        yield server


def _membrain(emu: MembrainEmulator) -> Backend:
    return Backend(
        name="membrain",
        make_sync=emu.client,
        make_async=emu.async_client,
        toolkit=lambda given, tenant: MembrainToolkit(**given, container=tenant),
        retriever=lambda given, tenant: MembrainRetriever(**given, container=tenant, k=2),
        read=lambda fact: {"query": f"What does the user say about {fact}?", "k": 2},
        write=lambda fact: {"content": f"User mentioned {fact}"},
        write_tool="membrain_add",
    )


def _membrane(daemon: Membraned) -> Backend:
    def kit(given: dict[str, Any], tenant: str) -> MembraneToolkit:
        return MembraneToolkit(**given, trust=TRUST, actor="agent-1", scope=tenant)

    return Backend(
        name="membrane",
        make_sync=lambda: MembraneClient(daemon.addr, timeout=10),
        make_async=lambda: AsyncMembraneClient(daemon.addr, timeout=10),
        toolkit=kit,
        retriever=lambda given, tenant: MembraneRetriever(**given, trust=TRUST, scope=tenant, k=2),
        read=lambda fact: {"task_descriptor": f"recall what the user said about {fact}"},
        write=lambda fact: {"subject": "user", "predicate": "mentioned", "object": fact},
        write_tool="membrane_ingest_observation",
    )


@pytest.fixture(params=["membrain", "membrane"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "membrain":
        return _membrain(request.getfixturevalue("emulator"))
    return _membrane(request.getfixturevalue("daemon"))


def _tools(backend: Backend, given: dict[str, Any], tenant: str) -> dict[str, BaseTool]:
    return {t.name: t for t in backend.toolkit(given, tenant).get_tools()}


def _spy(client: Any, method: str) -> list[Any]:
    """Record the clients ``client.<method>()`` derives."""
    made: list[Any] = []
    original = getattr(client, method)

    def derive() -> Any:
        made.append(original())
        return made[-1]

    setattr(client, method, derive)
    return made


def _tool_outputs(events: list[dict[str, Any]]) -> list[Any]:
    return [e["data"]["output"] for e in events if e["event"] == "on_tool_end"]


async def test_sync_client_only_every_run_mode(backend: Backend) -> None:
    tenant = f"one-{uuid.uuid4().hex[:8]}"
    given = backend.make_sync()
    derived = _spy(given, "to_async")
    kit = backend.toolkit({"client": given}, tenant)
    tools = {t.name: t for t in kit.get_tools()}
    read, write = next(iter(tools.values())), tools[backend.write_tool]

    stored = await write.ainvoke(backend.write("the sea"))
    assert "Stored" in stored
    assert "Stored" in write.invoke(backend.write("the sea again"))
    assert "the sea" in await read.ainvoke(backend.read("the sea"))
    assert all("the sea" in out for out in read.batch([backend.read("the sea")] * 2))
    assert all("the sea" in out for out in await read.abatch([backend.read("the sea")] * 3))
    events = [e async for e in read.astream_events(backend.read("the sea"), version="v2")]
    (output,) = _tool_outputs(events)
    assert "the sea" in str(output)

    retriever = backend.retriever({"client": given}, tenant)
    docs = await retriever.ainvoke("What did the user mention about the sea?")
    assert docs and all(isinstance(d, Document) for d in docs)
    assert any("sea" in d.page_content for d in docs)
    assert [len(b) > 0 for b in await retriever.abatch(["the sea?", "sea?"])] == [True, True]
    events = [e async for e in retriever.astream_events("the sea?", version="v2")]
    assert [e["event"] for e in events][-1] == "on_retriever_end"

    # the toolkit's tools share one derived client for this loop; the retriever has its own
    assert len(derived) == 2
    await kit.aclose()
    await retriever.aclose()
    assert all(is_closed(c) for c in derived)
    assert not is_closed(given)
    given.close()


async def test_async_client_only_every_run_mode(backend: Backend) -> None:
    tenant = f"one-{uuid.uuid4().hex[:8]}"
    given = backend.make_async()
    derived = _spy(given, "to_sync")
    tools = _tools(backend, {"async_client": given}, tenant)
    read, write = next(iter(tools.values())), tools[backend.write_tool]

    assert "Stored" in await asyncio.to_thread(write.invoke, backend.write("the hills"))
    assert "the hills" in await read.ainvoke(backend.read("the hills"))
    outputs = await asyncio.to_thread(read.batch, [backend.read("the hills")] * 3)
    assert all("the hills" in out for out in outputs)
    assert all("the hills" in out for out in await read.abatch([backend.read("the hills")] * 2))
    events = [e async for e in read.astream_events(backend.read("the hills"), version="v2")]
    assert "the hills" in str(_tool_outputs(events)[0])

    retriever = backend.retriever({"async_client": given}, tenant)
    docs = await asyncio.to_thread(retriever.invoke, "What about the hills?")
    assert any("hills" in d.page_content for d in docs)
    assert len(await asyncio.to_thread(retriever.batch, ["hills?", "the hills?"])) == 2

    assert len(derived) == 2  # one sync client for the toolkit's tools, one for the retriever
    for tool in tools.values():
        tool.close()  # the tools share the pair: closing one closes the derived client
    retriever.close()
    assert all(is_closed(c) for c in derived)
    assert not is_closed(given)
    await given.aclose()


def test_sync_client_only_across_event_loops(backend: Backend) -> None:
    """Each ``asyncio.run`` gets its own derived async client (a channel is loop-bound)."""
    tenant = f"one-{uuid.uuid4().hex[:8]}"
    given = backend.make_sync()
    derived = _spy(given, "to_async")
    tools = _tools(backend, {"client": given}, tenant)
    read, write = next(iter(tools.values())), tools[backend.write_tool]
    write.invoke(backend.write("the river"))
    for _ in range(3):
        assert "the river" in asyncio.run(read.ainvoke(backend.read("the river")))
    assert len(derived) == 3
    # a client whose loop has closed cannot be closed any more: the pair lets it go
    stale = [weakref.ref(c) for c in derived[:2]]
    derived.clear()
    gc.collect()
    assert [ref() for ref in stale] == [None, None]
    read.close()
    given.close()


def test_derived_clients_close_when_collected(backend: Backend) -> None:
    tenant = f"one-{uuid.uuid4().hex[:8]}"
    given = backend.make_async()
    derived = _spy(given, "to_sync")
    tools = _tools(backend, {"async_client": given}, tenant)
    read = next(iter(tools.values()))
    read.invoke(backend.read("anything"))
    assert len(derived) == 1 and not is_closed(derived[0])
    del tools, read
    gc.collect()
    assert is_closed(derived[0])
    assert not is_closed(given)
