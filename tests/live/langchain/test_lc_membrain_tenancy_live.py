"""Adversarial containers on one emulator tenant: no tool or retriever crosses containers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import MembrainRetriever, MembrainToolkit
from membrane_integrations.membrain import MembrainClient

pytestmark = pytest.mark.live

CONTAINERS = ["bob", "bob2", "a.b", "aXb", "a|b", "a", ".*", "é-ü😀", "BOB3"]


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[MembrainClient, dict[str, str]]]:
    """One memory per container, all saying the same kind of thing, ids by container."""
    with MembrainEmulator() as emu, emu.client() as client:
        ids = {}
        for container in CONTAINERS:
            add = _tools(client, container)["membrain_add"]
            message = _call(add, content=f"The secret word of {container} is hidden", scope=["s"])
            ids[container] = message.artifact.memory_id
        yield client, ids


def _tools(client: MembrainClient, container: str) -> dict[str, BaseTool]:
    kit = MembrainToolkit(client=client, container=container, include_graph_tools=True)
    return {t.name: t for t in kit.get_tools()}


def _call(tool: BaseTool, **args: Any) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "id": "1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return message


@pytest.mark.parametrize("container", CONTAINERS)
def test_reads_see_only_the_own_container(
    world: tuple[MembrainClient, dict[str, str]], container: str
) -> None:
    client, ids = world
    t = _tools(client, container)
    own = ids[container]
    for args in (
        {"query": "What is the secret word?", "k": 100},
        {"query": "What is the secret word?", "k": 100, "scope": [".*"]},
        {"query": "all", "scope": [".*"], "full_scope": True},
        {"query": "all", "scope": ["container"], "full_scope": True, "rerank": True},
    ):
        message = _call(t["membrain_search"], **args)
        assert [n.id for n in message.artifact.nodes] == [own], args
        for other, other_id in ids.items():
            if other != container:
                assert other_id not in str(message.content)
    docs = MembrainRetriever(client=client, container=container, scope=[".*"], k=50).invoke(
        "What is the secret word?"
    )
    assert [d.id for d in docs] == [own]
    assert _call(t["membrain_stats"], scope=[".*"]).artifact.count == 1
    walk = _call(
        t["membrain_graph_traverse"],
        start_memory_id=own,
        query="secret word",
        edge_similarity_threshold=0.0,
        max_hops=5,
    )
    assert {m.id for m in walk.artifact.visited} <= {own}
    hubs = _call(t["membrain_graph_hubs"], limit=100)
    assert {h.id for h in hubs.artifact.hubs} <= {own}


@pytest.mark.parametrize("container", CONTAINERS)
def test_by_id_tools_refuse_foreign_ids_and_change_nothing(
    world: tuple[MembrainClient, dict[str, str]], container: str
) -> None:
    client, ids = world
    t = _tools(client, container)
    for other, other_id in ids.items():
        if other == container:
            continue
        before = client.get(other_id)
        attempts = [
            _call(t["membrain_get"], memory_ids=[other_id]),
            _call(t["membrain_update"], memory_id=other_id, content="overwritten"),
            _call(t["membrain_delete"], memory_id=other_id),
            _call(t["membrain_unlink"], memory_id_1=ids[container], memory_id_2=other_id),
            _call(t["membrain_graph_neighborhood"], memory_id=other_id),
            _call(t["membrain_graph_path"], from_id=ids[container], to_id=other_id),
        ]
        for message in attempts:
            assert message.status == "error"
            assert f"memory {other_id!r} was not found" in str(message.content)
            assert "hidden" not in str(message.content)
        assert client.get(other_id) == before
    refused = _call(t["membrain_add"], content="x", scope=["container.bob"])
    if container != "bob":
        assert refused.status == "error" and "reserved" in str(refused.content)


def test_bulk_delete_with_a_match_all_scope_stays_in_its_container(
    world: tuple[MembrainClient, dict[str, str]],
) -> None:
    client, ids = world
    t = _tools(client, "a.b")
    deleted = _call(t["membrain_delete"], scope=[".*"])
    assert deleted.artifact.memory_ids == [ids["a.b"]]
    survivors = client.get_many([i for c, i in ids.items() if c != "a.b"])
    assert len(survivors) == len(CONTAINERS) - 1
    again = _call(t["membrain_delete"], scope=[".*"])
    assert again.artifact.deleted_count == 0
