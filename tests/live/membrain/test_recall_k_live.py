"""Every Membrain read surface returns ``k`` memories on the real emulator; edges never take a slot.

A raw Membrain search's ``k`` counts memory nodes and relationship edges (guide section 4.2).
The container below holds linked memories, so a raw search of ``k`` hits holds edges (checked
first: without that the test would prove nothing); each surface, sync and async, must still
hand back ``k`` memory nodes, all of the container, none of the neighbour's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient
from membrane_integrations.membrain.recall import arecall, recall
from membrane_integrations.membrain.tenancy import Tenancy
from tests.support.emulator_fixtures import KEY_A

pytestmark = pytest.mark.live

K = 4
# Linked neighbours (they share words and meaning), each with its own number so none merges.
FACTS = [
    f"Alice's garden log {n}: she planted {what} tomatoes near the greenhouse in spring"
    for n, what in enumerate(
        ("cherry", "plum", "beefsteak", "heirloom", "roma", "yellow", "green", "black"), start=1
    )
]
QUERY = "What tomatoes did Alice plant in her garden?"


@pytest.fixture
def seeded(emu: MembrainEmulator, box: str) -> str:
    """``box`` with the facts, and a neighbour container with the same facts."""
    with emu.client(KEY_A) as client:
        for container in (box, box + "x"):
            tokens = Tenancy(container).write_tokens(None)
            for fact in FACTS:
                client.add(fact, scope=tokens)
            assert client.count(scope=Tenancy(container).read_scope(None)) == len(FACTS)
        raw = client.search(QUERY, k=K, scope=Tenancy(box).read_scope(None))
    assert raw.edges and len(raw.nodes) < K  # edges take slots in a raw search
    return box


def _check(contents: list[str], box_facts: list[str] = FACTS) -> None:
    assert len(contents) == K
    assert len(set(contents)) == K
    assert set(contents) <= set(box_facts)


@pytest.fixture
async def clients(emu: MembrainEmulator) -> AsyncIterator[tuple[MembrainClient, Any]]:
    with emu.client(KEY_A) as sync:
        async with emu.async_client(KEY_A) as aclient:
            yield sync, aclient


async def test_recall_helper_returns_k_nodes_sync_and_async(
    seeded: str, clients: tuple[MembrainClient, AsyncMembrainClient]
) -> None:
    sync, aclient = clients
    found = recall(sync, Tenancy(seeded), QUERY, K)
    afound = await arecall(aclient, Tenancy(seeded), QUERY, K)
    for reply in (found, afound):
        _check([node.content for node in reply.nodes])
        assert all(Tenancy(seeded).owns(node.scope) for node in reply.nodes)
        assert all(Tenancy(seeded + "x").owns(n.scope) is False for n in reply.nodes)
    assert [n.id for n in found.nodes] == [n.id for n in afound.nodes]


async def test_retriever_returns_k_memories_sync_and_async(
    seeded: str, clients: tuple[MembrainClient, AsyncMembrainClient]
) -> None:
    from membrane_integrations.langchain import MembrainRetriever

    sync, aclient = clients
    retriever = MembrainRetriever(client=sync, async_client=aclient, container=seeded, k=K)
    docs = retriever.invoke(QUERY)
    adocs = await retriever.ainvoke(QUERY)
    for got in (docs, adocs):
        assert {d.metadata["type"] for d in got} == {"memory_node"}
        _check([d.page_content for d in got])
    # asked for edges: still K memories, the edges touching them after
    with_edges = MembrainRetriever(client=sync, container=seeded, k=2, include_edges=True)
    kinds = [d.metadata["type"] for d in with_edges.invoke(QUERY)]
    assert kinds.count("memory_node") == 2 and kinds[:2] == ["memory_node", "memory_node"]


async def test_autogen_memory_returns_k_memories(emu: MembrainEmulator, seeded: str) -> None:
    from membrane_integrations.autogen import MembrainMemory, MembrainMemoryConfig

    memory = MembrainMemory(
        MembrainMemoryConfig(container=seeded, base_url=emu.url, api_key=SecretStr(KEY_A), k=K)
    )
    try:
        result = await memory.query(QUERY)
        _check([str(item.content) for item in result.results])
        assert len((await memory.query(QUERY, limit=2)).results) == 2
    finally:
        await memory.close()


async def test_middleware_recall_returns_k_memories_sync_and_async(
    seeded: str, clients: tuple[MembrainClient, AsyncMembrainClient]
) -> None:
    from membrane_integrations.langchain import MembrainMemoryMiddleware

    sync, aclient = clients
    middleware = MembrainMemoryMiddleware(client=sync, async_client=aclient, container=seeded, k=K)
    identity = middleware._identity(seeded)
    _check(middleware._recall(identity, QUERY))
    _check(await middleware._arecall(identity, QUERY))


async def test_agent_framework_provider_returns_k_memories(
    emu: MembrainEmulator, seeded: str
) -> None:
    from membrane_integrations.agent_framework import (
        MembrainContextConfig,
        MembrainContextProvider,
    )
    from membrane_integrations.agent_framework.identity import MembrainIdentity

    config = MembrainContextConfig(base_url=emu.url, api_key=SecretStr(KEY_A), k=K)
    async with MembrainContextProvider(config) as provider:
        _check(await provider._recall(MembrainIdentity(container=seeded), QUERY))
