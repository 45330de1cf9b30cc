"""Every Membrain tool, sync and async, against the emulator on 127.0.0.1."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import MembrainToolkit
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient
from membrane_integrations.membrain.models import (
    BulkDeleteResult,
    CountResult,
    DeleteResult,
    GraphHubs,
    GraphPath,
    IngestResult,
    Memory,
    Neighborhood,
    SearchResponse,
    TraverseResult,
    UnlinkResult,
)
from membrane_integrations.membrain.tenancy import container_token

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def emu() -> Iterator[MembrainEmulator]:
    with MembrainEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def client(emu: MembrainEmulator) -> Iterator[MembrainClient]:
    with emu.client() as c:
        yield c


@pytest.fixture
async def aclient(emu: MembrainEmulator) -> AsyncIterator[AsyncMembrainClient]:
    async with emu.async_client() as c:
        yield c


async def use(tool: BaseTool, mode: str, **args: Any) -> ToolMessage:
    call = {"type": "tool_call", "id": "c1", "name": tool.name, "args": args}
    message = tool.invoke(call) if mode == "sync" else await tool.ainvoke(call)
    assert isinstance(message, ToolMessage)
    assert message.status == "success", message.content
    return message


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_every_tool_round_trip(
    mode: str, client: MembrainClient, aclient: AsyncMembrainClient
) -> None:
    container = f"live-{mode}-{uuid.uuid4().hex[:8]}"
    kit = MembrainToolkit(
        client=client, async_client=aclient, container=container, include_graph_tools=True
    )
    t = {tool.name: tool for tool in kit.get_tools()}

    facts = [
        "User drinks green tea every morning",
        "User likes green tea with honey",
        "User is allergic to peanuts",
    ]
    ids = []
    for fact in facts:
        added = await use(t["membrain_add"], mode, content=fact, scope=["type.fact"])
        assert isinstance(added.artifact, IngestResult)
        assert added.artifact.memory_id in str(added.content)
        ids.append(added.artifact.memory_id)
    tea, honey, nuts = ids

    found = await use(t["membrain_search"], mode, query="What does the user drink?", k=5)
    assert isinstance(found.artifact, SearchResponse)
    assert "green tea" in str(found.content) and tea in str(found.content)
    assert {n.id for n in found.artifact.nodes} <= set(ids)
    listed = await use(
        t["membrain_search"], mode, query="List them", scope=["type\\.fact"], full_scope=True
    )
    assert {n.id for n in listed.artifact.nodes} == set(ids)

    got = await use(t["membrain_get"], mode, memory_ids=[tea, nuts])
    assert [m.id for m in got.artifact] == [tea, nuts]
    assert all(isinstance(m, Memory) for m in got.artifact)

    updated = await use(
        t["membrain_update"],
        mode,
        memory_id=nuts,
        content="User is allergic to tree nuts",
        scope=["type.health"],
    )
    assert updated.artifact.content == "User is allergic to tree nuts"
    assert container_token(container) in updated.artifact.scope

    stats = await use(t["membrain_stats"], mode)
    assert stats.artifact == CountResult(count=3)

    hubs = await use(t["membrain_graph_hubs"], mode, limit=5)
    assert isinstance(hubs.artifact, GraphHubs)
    assert {h.id for h in hubs.artifact.hubs} <= set(ids)
    hood = await use(t["membrain_graph_neighborhood"], mode, memory_id=tea, hops=2)
    assert isinstance(hood.artifact, Neighborhood)
    path = await use(t["membrain_graph_path"], mode, from_id=tea, to_id=honey)
    assert isinstance(path.artifact, GraphPath)
    if path.artifact.found:
        assert path.artifact.path[0] == tea and path.artifact.path[-1] == honey
    walk = await use(
        t["membrain_graph_traverse"],
        mode,
        start_memory_id=tea,
        query="What else does the user like to drink?",
        edge_similarity_threshold=0.0,
    )
    assert isinstance(walk.artifact, TraverseResult)
    assert {m.id for m in walk.artifact.visited} <= set(ids)

    unlinked = await use(t["membrain_unlink"], mode, memory_id_1=tea, memory_id_2=honey)
    assert isinstance(unlinked.artifact, UnlinkResult)
    after = await use(t["membrain_graph_path"], mode, from_id=tea, to_id=honey)
    assert after.artifact.found is False

    deleted = await use(t["membrain_delete"], mode, memory_id=nuts)
    assert isinstance(deleted.artifact, DeleteResult) and deleted.artifact.deleted
    bulk = await use(t["membrain_delete"], mode, scope=["^type\\.fact$"])
    assert isinstance(bulk.artifact, BulkDeleteResult)
    assert sorted(bulk.artifact.memory_ids) == sorted([tea, honey])
    assert (await use(t["membrain_stats"], mode)).artifact == CountResult(count=0)


async def test_errors_come_back_as_messages_the_agent_survives(
    client: MembrainClient, aclient: AsyncMembrainClient
) -> None:
    kit = MembrainToolkit(client=client, async_client=aclient, container="errs")
    t = {tool.name: tool for tool in kit.get_tools()}
    for message in (
        t["membrain_get"].invoke(
            {
                "type": "tool_call",
                "id": "1",
                "name": "membrain_get",
                "args": {"memory_ids": ["does-not-exist"]},
            }
        ),
        await t["membrain_delete"].ainvoke(
            {
                "type": "tool_call",
                "id": "1",
                "name": "membrain_delete",
                "args": {"memory_id": "does-not-exist"},
            }
        ),
    ):
        assert message.status == "error"
        assert "not found" in str(message.content).lower()
        assert "search memory first" in str(message.content)


def test_bad_key_is_reported_as_configuration_without_the_key(emu: MembrainEmulator) -> None:
    secret = "emu-wrong-key-" + uuid.uuid4().hex
    with emu.client(api_key=secret, max_retries=0) as bad:
        tool = MembrainToolkit(client=bad).get_tools()[0]
        message = tool.invoke(
            {
                "type": "tool_call",
                "id": "1",
                "name": tool.name,
                "args": {"query": "What do I like?"},
            }
        )
    assert message.status == "error"
    assert "configuration problem" in str(message.content)
    assert secret not in str(message.content)


def test_no_key_in_reprs_dumps_or_outputs(emu: MembrainEmulator, client: MembrainClient) -> None:
    kit = MembrainToolkit(client=client, container="reprs", include_graph_tools=True)
    for tool in kit.get_tools():
        for text in (repr(tool), str(tool.model_dump()), repr(kit), str(kit.model_dump())):
            assert emu.api_key not in text
    search = kit.get_tools()[0]
    assert emu.api_key not in str(search.invoke({"query": "What is stored?"}))
