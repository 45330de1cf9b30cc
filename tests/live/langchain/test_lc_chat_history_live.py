"""Chat message histories on the emulator and a real membraned; the stores inside create_agent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.tools import ToolRuntime
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory
from langchain_core.tools import tool
from langgraph.store.base import BaseStore

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain.chat_history_membrain import MembrainChatMessageHistory
from membrane_integrations.langchain.chat_history_membrane import MembraneChatMessageHistory
from membrane_integrations.langchain.store_membrain import MembrainStore
from membrane_integrations.langchain.store_membrane import MembraneStore
from membrane_integrations.membrain import MembrainClient
from membrane_integrations.membrane import MembraneClient
from membrane_integrations.testing import ScriptedChatModel
from tests.support.membraned import Membraned, require_daemon

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def emu() -> Iterator[MembrainEmulator]:
    with MembrainEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def mclient(emu: MembrainEmulator) -> Iterator[MembrainClient]:
    with emu.client() as c:
        yield c


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon()) as server:
        yield server


@pytest.fixture(scope="module")
def dclient(daemon: Membraned) -> Iterator[MembraneClient]:
    with MembraneClient(daemon.addr, timeout=10) as c:
        yield c


def _fresh() -> str:
    return f"chat-{uuid.uuid4().hex[:10]}"


def _history(backend: str, clients: dict[str, Any], tenant: str, session: str) -> Any:
    if backend == "membrain":
        return MembrainChatMessageHistory(
            client=clients["membrain"], container=tenant, session_id=session
        )
    return MembraneChatMessageHistory(client=clients["membrane"], scope=tenant, session_id=session)


@pytest.fixture
def clients(mclient: MembrainClient, dclient: MembraneClient) -> dict[str, Any]:
    return {"membrain": mclient, "membrane": dclient}


TURNS: list[BaseMessage] = [
    SystemMessage("be brief"),
    HumanMessage("ok"),
    AIMessage("ok"),
    HumanMessage("ok"),  # equal messages must not merge
    AIMessage("", tool_calls=[{"name": "t", "args": {"x": 1}, "id": "c1"}]),
    ToolMessage("42", tool_call_id="c1"),
    AIMessage("The answer is 42 🎉", id="m-7"),
]


@pytest.mark.parametrize("backend", ["membrain", "membrane"])
def test_order_round_trip_sessions_and_clear(backend: str, clients: dict[str, Any]) -> None:
    tenant = _fresh()
    history = _history(backend, clients, tenant, "s1")
    other_session = _history(backend, clients, tenant, "s2")
    other_tenant = _history(backend, clients, _fresh(), "s1")
    assert isinstance(history, BaseChatMessageHistory)
    history.add_messages(TURNS[:3])
    other_session.add_user_message("not in s1")
    other_tenant.add_user_message("not in this tenant")
    history.add_messages(TURNS[3:])
    got = history.messages
    assert [(type(m), m.content) for m in got] == [(type(m), m.content) for m in TURNS]
    assert got[4].tool_calls == TURNS[4].tool_calls  # type: ignore[attr-defined]
    assert got[6].id == "m-7"
    assert [m.content for m in other_session.messages] == ["not in s1"]
    history.clear()
    assert history.messages == []
    assert [m.content for m in other_session.messages] == ["not in s1"]
    history.add_user_message("after clear")
    assert [m.content for m in history.messages] == ["after clear"]


@pytest.mark.parametrize("backend", ["membrain", "membrane"])
async def test_async_paths(backend: str, clients: dict[str, Any]) -> None:
    history = _history(backend, clients, _fresh(), "s1")
    await history.aadd_messages([HumanMessage("one"), AIMessage("two")])
    await history.aadd_messages([HumanMessage("three")])
    assert [m.content for m in await history.aget_messages()] == ["one", "two", "three"]
    await history.aclear()
    assert await history.aget_messages() == []


# langchain-core 1.x marks it deprecated; the issue asks that the histories work with it
@pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")
@pytest.mark.parametrize("backend", ["membrain", "membrane"])
def test_runnable_with_message_history(backend: str, clients: dict[str, Any]) -> None:
    tenant = _fresh()
    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("human", "{question}")]
    )
    model = ScriptedChatModel(responses=["Hi Bob.", "You are Bob."])
    seen: list[list[BaseMessage]] = []

    def record(value: Any) -> Any:
        seen.append(value.to_messages())
        return value

    chain = RunnableWithMessageHistory(
        prompt | record | model,
        lambda session_id: _history(backend, clients, tenant, session_id),
        input_messages_key="question",
        history_messages_key="history",
    )
    config: Any = {"configurable": {"session_id": "s1"}}
    chain.invoke({"question": "I am Bob"}, config=config)
    reply = chain.invoke({"question": "Who am I?"}, config=config)
    assert reply.content == "You are Bob."
    assert [m.content for m in seen[1]] == ["I am Bob", "Hi Bob.", "Who am I?"]
    stored = _history(backend, clients, tenant, "s1").messages
    assert [m.content for m in stored] == ["I am Bob", "Hi Bob.", "Who am I?", "You are Bob."]


@tool
def remember_preference(preference: str, runtime: ToolRuntime) -> str:
    """Store the user's preference in the long-term store."""
    assert runtime.store is not None
    runtime.store.put(("users", "bob", "prefs"), "main", {"preference": preference})
    return "stored"


@tool
def recall_preference(runtime: ToolRuntime) -> str:
    """Read the user's preference from the long-term store."""
    assert runtime.store is not None
    item = runtime.store.get(("users", "bob", "prefs"), "main")
    return "nothing stored" if item is None else str(item.value["preference"])


def _call(name: str, args: dict[str, Any]) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": uuid.uuid4().hex}])


@pytest.mark.parametrize("backend", ["membrain", "membrane"])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_create_agent_with_the_store_across_threads(
    backend: str, mode: str, clients: dict[str, Any]
) -> None:
    tenant = _fresh()
    store: BaseStore = (
        MembrainStore(client=clients["membrain"], container=tenant)
        if backend == "membrain"
        else MembraneStore(client=clients["membrane"], scope=tenant)
    )
    model = ScriptedChatModel(
        responses=[
            _call("remember_preference", {"preference": "window seat"}),
            "Noted.",
            _call("recall_preference", {}),
            "You prefer a window seat.",
        ]
    )
    agent = create_agent(model, [remember_preference, recall_preference], store=store)
    first = {"messages": [HumanMessage("I like window seats")]}
    second = {"messages": [HumanMessage("Where do I like to sit?")]}
    if mode == "sync":
        agent.invoke(first)
        result = agent.invoke(second)  # a new thread: only the store carries the preference
    else:
        await agent.ainvoke(first)
        result = await agent.ainvoke(second)
    tool_replies = [m.content for m in result["messages"] if isinstance(m, ToolMessage)]
    assert tool_replies == ["window seat"]
    item = store.get(("users", "bob", "prefs"), "main")
    assert item is not None and item.value == {"preference": "window seat"}


def test_membrain_history_longer_than_one_search(mclient: MembrainClient) -> None:
    """Past 100 messages (search's k limit) the listing reads the graph export: still in order."""
    history = MembrainChatMessageHistory(client=mclient, container=_fresh(), session_id="long")
    turns = [HumanMessage(f"turn {i}") if i % 2 else AIMessage(f"turn {i}") for i in range(105)]
    history.add_messages(turns)
    assert [m.content for m in history.messages] == [f"turn {i}" for i in range(105)]
