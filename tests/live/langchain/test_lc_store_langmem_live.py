"""langmem's memory tools (manage / search) on both stores, directly and inside create_agent."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.store.base import BaseStore

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import MembrainStore, MembraneStore, WordLlamaEmbeddings
from membrane_integrations.membrane import MembraneClient
from membrane_integrations.testing import ScriptedChatModel
from tests.support.membraned import Membraned, require_daemon

langmem = pytest.importorskip("langmem")
pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def emu() -> Iterator[MembrainEmulator]:
    with MembrainEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon()) as server:
        yield server


@pytest.fixture
def store(
    request: pytest.FixtureRequest, emu: MembrainEmulator, daemon: Membraned
) -> Iterator[Any]:
    tenant = f"langmem-{uuid.uuid4().hex[:8]}"
    if request.param == "membrain":
        with emu.client() as client:
            yield MembrainStore(client=client, container=tenant)
    else:
        with MembraneClient(daemon.addr, timeout=10) as client:
            yield MembraneStore(client=client, scope=tenant, embeddings=WordLlamaEmbeddings())


@pytest.mark.parametrize("store", ["membrain", "membrane"], indirect=True)
def test_manage_and_search_tools(store: BaseStore) -> None:
    manage = langmem.create_manage_memory_tool(("memories", "bob"), store=store)
    search = langmem.create_search_memory_tool(("memories", "bob"), store=store)
    created = manage.invoke({"content": "Bob prefers green tea over coffee", "action": "create"})
    (memory_id,) = re.findall(r"[0-9a-f-]{36}", str(created))
    manage.invoke({"content": "Bob owns a grey cat", "action": "create"})
    found = search.invoke({"query": "what does Bob like to drink"})
    # both are found (the ranking itself is tested on a labelled set in test_lc_store_live.py)
    assert "green tea" in str(found) and "grey cat" in str(found)
    manage.invoke({"id": memory_id, "content": "Bob prefers black tea", "action": "update"})
    item = store.get(("memories", "bob"), memory_id)
    assert item is not None and item.value == {"content": "Bob prefers black tea"}
    manage.invoke({"id": memory_id, "action": "delete"})
    assert store.get(("memories", "bob"), memory_id) is None
    assert len(store.search(("memories", "bob"))) == 1


@pytest.mark.parametrize("store", ["membrain", "membrane"], indirect=True)
async def test_langmem_tools_read_the_agents_store(store: BaseStore) -> None:
    manage = langmem.create_manage_memory_tool(("memories",))
    search = langmem.create_search_memory_tool(("memories",))

    def call(name: str, args: dict[str, Any]) -> AIMessage:
        return AIMessage("", tool_calls=[{"name": name, "args": args, "id": uuid.uuid4().hex}])

    model = ScriptedChatModel(
        responses=[
            call("manage_memory", {"content": "The user is vegetarian", "action": "create"}),
            "Noted.",
            call("search_memory", {"query": "diet"}),
            "You are vegetarian.",
        ]
    )
    agent = create_agent(model, [manage, search], store=store)
    await agent.ainvoke({"messages": [HumanMessage("I am vegetarian")]})
    result = await agent.ainvoke({"messages": [HumanMessage("What do I eat?")]})
    replies = [str(m.content) for m in result["messages"] if isinstance(m, ToolMessage)]
    assert len(replies) == 1 and "vegetarian" in replies[0]
