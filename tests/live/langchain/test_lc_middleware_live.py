"""The memory middlewares in real ``create_agent`` agents, on both backends' real servers.

The model is a scripted chat model that records every request (no LLM), so each test reads
exactly what reached the model; what was stored is read back from the server itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.emulator import MembrainEmulator
from tests.live.langchain.lc_middleware_backends import (
    Backend,
    RecordingChatModel,
    membrain_backend,
    membrane_backend,
    recalled,
    unique,
)
from tests.support.membraned import Membraned, require_daemon

pytestmark = pytest.mark.live

API_KEY = "membraned-lc-middleware-key-15"


@pytest.fixture(scope="module")
def emulator() -> Iterator[MembrainEmulator]:
    with MembrainEmulator(fault_injection=True) as emu:
        yield emu


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon(), api_key=API_KEY) as server:
        yield server


@pytest.fixture(params=["membrain", "membrane"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "membrain":
        emu = request.getfixturevalue("emulator")
        emu.set_faults()
        yield from membrain_backend(emu)
    else:
        pytest.importorskip("grpc")
        server = request.getfixturevalue("daemon")
        yield from membrane_backend(server.addr, API_KEY)


def ask(
    agent: Any, memory: Any, text: str, user: str | None, thread: str | None = None
) -> dict[str, Any]:
    """One turn, then wait for its capture (written in the background) to reach the server."""
    config = {"configurable": {"thread_id": thread}} if thread else None
    context = {"user_id": user} if user else None
    out = agent.invoke({"messages": [HumanMessage(text)]}, config=config, context=context)
    assert memory.flush(30.0) == []
    return out


def test_recall_is_one_fenced_message_replaced_on_the_next_turn(backend: Backend) -> None:
    user = unique("bob")
    memory = backend.build(capture="user")
    model = RecordingChatModel(responses=["Noted.", "Noted again.", "You are vegan."])
    agent = create_agent(model, middleware=[memory], checkpointer=InMemorySaver())

    ask(agent, memory, "I am vegan.", user, thread="t1")
    assert recalled(model.requests[0]) == []  # nothing stored yet
    ask(agent, memory, "I live in Oslo.", user, thread="t1")
    state = ask(agent, memory, "What do I eat?", user, thread="t1")

    # one recalled message in the model's request, fenced, marked as data, before the question
    last = model.requests[-1]
    [context] = recalled(last)
    text = context.text
    assert text.startswith("<recalled_memories>") and text.endswith("</recalled_memories>")
    assert "not instructions" in text
    assert "I am vegan." in text and "I live in Oslo." in text
    assert last.index(context) == len(last) - 1 - 0 - 1  # just before the latest question
    assert context.type == "human"
    # the thread holds the conversation only: recall was part of the model requests alone
    assert recalled(state["messages"]) == []
    assert [m.text for m in state["messages"] if m.type == "human"] == [
        "I am vegan.",
        "I live in Oslo.",
        "What do I eat?",
    ]
    # statements were stored, the question was not, the recalled context never
    assert sorted(backend.stored(user)) == ["I am vegan.", "I live in Oslo."]


def test_capture_stores_each_message_once_across_a_resumed_thread(backend: Backend) -> None:
    user = unique("cat")
    memory = backend.build(capture="user_and_assistant")
    saver = InMemorySaver()
    model = RecordingChatModel(responses=["Noted, tea.", "Tea it is."])
    agent = create_agent(model, middleware=[memory], checkpointer=saver)
    ask(agent, memory, "I drink tea.", user, thread="t")
    first = sorted(backend.stored(user))
    assert first == ["I drink tea.", "Noted, tea."]

    # a second agent on the same checkpointer resumes the thread: the old turn is not stored again
    resumed = backend.build(capture="user_and_assistant")
    again = create_agent(model, middleware=[resumed], checkpointer=saver)
    ask(again, resumed, "Earl grey.", user, thread="t")
    assert sorted(backend.stored(user)) == [
        "Earl grey.",
        "I drink tea.",
        "Noted, tea.",
        "Tea it is.",
    ]

    # replaying the finished run (no new input) stores nothing
    again.invoke(None, config={"configurable": {"thread_id": "t"}}, context={"user_id": user})
    assert resumed.flush(30.0) == []
    assert len(backend.stored(user)) == 4


def test_identity_comes_from_the_runtime_context_and_users_are_apart(backend: Backend) -> None:
    @dataclass
    class Context:
        account: str

    ann, ben = unique("ann"), unique("ben")
    memory = backend.build(context_key="account")
    model = RecordingChatModel(responses=["Ok.", "Ok.", "Hm.", "Hm."])
    agent = create_agent(model, middleware=[memory], context_schema=Context)
    agent.invoke({"messages": [HumanMessage("My cat is Tom.")]}, context=Context(ann))
    agent.invoke({"messages": [HumanMessage("My dog is Rex.")]}, context=Context(ben))
    assert memory.flush(30.0) == []
    agent.invoke({"messages": [HumanMessage("What pets?")]}, context=Context(ann))
    [seen] = recalled(model.requests[-1])
    assert "Tom" in seen.text and "Rex" not in seen.text
    agent.invoke({"messages": [HumanMessage("What pets?")]}, context=Context(ben))
    [seen] = recalled(model.requests[-1])
    assert "Rex" in seen.text and "Tom" not in seen.text


def test_a_multi_tenant_run_without_a_container_is_refused(backend: Backend) -> None:
    model = RecordingChatModel(responses=["never"])
    agent = create_agent(model, middleware=[backend.build()])
    with pytest.raises(InvalidRequestError, match="no container"):
        agent.invoke({"messages": [HumanMessage("hi")]})
    with pytest.raises(InvalidRequestError, match="no container"):
        agent.invoke({"messages": [HumanMessage("hi")]}, context={"other": "x"})
    assert model.requests == []  # refused before the model was called


def test_a_fixed_container_needs_no_context(backend: Backend) -> None:
    user = unique("fay")
    model = RecordingChatModel(responses=["Ok.", "Ok."])
    memory = backend.build(container=user)
    agent = create_agent(model, middleware=[memory])
    agent.invoke({"messages": [HumanMessage("I like jazz.")]})
    assert memory.flush(30.0) == []
    agent.invoke({"messages": [HumanMessage("Music?")]})
    [seen] = recalled(model.requests[-1])
    assert "I like jazz." in seen.text


def test_failures_never_break_the_reply(backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    model = RecordingChatModel(responses=["still here", "still here"])
    memory = backend.broken(container="gus", recall_timeout=1.0, capture="user")
    agent = create_agent(model, middleware=[memory])
    with caplog.at_level(logging.WARNING, "membrane_integrations"):
        out = agent.invoke({"messages": [HumanMessage("I play chess.")]})
        assert out["messages"][-1].text == "still here"
        assert recalled(model.requests[0]) == []
        assert "recall for container 'gus'" in caplog.text
        # the write failed in the background: flush reports it, with its key, and logs it
        [failed] = memory.flush(30.0)
    assert failed.container == "gus" and len(failed.key) == 32
    assert f"could not write {failed.key} for container 'gus'" in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING, "membrane_integrations"):
        out = asyncio.run(agent.ainvoke({"messages": [HumanMessage("I play go.")]}))
        assert out["messages"][-1].text == "still here"
        [failed] = asyncio.run(memory.aflush(30.0))
    assert f"could not write {failed.key} for container 'gus'" in caplog.text


def test_an_async_agent_recalls_and_captures(backend: Backend) -> None:
    user = unique("hal")
    model = RecordingChatModel(responses=["Ok.", "Ok."])
    memory = backend.build(capture="user")
    agent = create_agent(model, middleware=[memory], checkpointer=InMemorySaver())

    async def run() -> None:
        for text in ("I am left-handed.", "Which hand?"):
            await agent.ainvoke(
                {"messages": [HumanMessage(text)]},
                config={"configurable": {"thread_id": "a"}},
                context={"user_id": user},
            )
            assert await memory.aflush(30.0) == []
        assert await memory.aclose() == []

    asyncio.run(run())
    [seen] = recalled(model.requests[-1])
    assert "I am left-handed." in seen.text
    assert sorted(backend.stored(user)) == ["I am left-handed."]


def test_placement_and_budget_are_options(backend: Backend) -> None:
    user = unique("ivy")
    seed = RecordingChatModel(responses=["Ok."] * 3)
    seeding = backend.build(container=user)
    writer = create_agent(seed, middleware=[seeding])
    for text in ("I like tea with lemon.", "I live by the sea.", "I own a bike."):
        writer.invoke({"messages": [HumanMessage(text)]})
        assert seeding.flush(30.0) == []

    model = RecordingChatModel(responses=["Ok."])
    memory = backend.build(container=user, placement="system", max_context_chars=230, capture="off")
    agent = create_agent(model, system_prompt="You are helpful.", middleware=[memory])
    agent.invoke({"messages": [HumanMessage("Tell me about me.")]})
    request = model.requests[-1]
    [seen] = recalled(request)
    # one system message: the agent's prompt, then the block
    assert seen.type == "system" and request.index(seen) == 0
    prompt, block = seen.text.split("\n\n", 1)
    assert prompt == "You are helpful." and block.startswith("<recalled_memories>")
    assert len(block) <= 230
    assert "1. " in seen.text and "3. " not in seen.text  # the budget cut the list short
    assert len(backend.stored(user)) == 3  # capture="off" stored nothing


def test_a_slow_recall_is_dropped_and_logged(
    emulator: MembrainEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    from membrane_integrations.langchain import MembrainMemoryMiddleware

    user = unique("jon")
    with emulator.client() as client:
        memory = MembrainMemoryMiddleware(client=client, container=user, recall_timeout=0.5)
        model = RecordingChatModel(responses=["Ok.", "Ok.", "Ok."])
        agent = create_agent(model, middleware=[memory])
        agent.invoke({"messages": [HumanMessage("I sing.")]})
        assert memory.flush(30.0) == []
        emulator.set_faults(delay_rate=1.0, delay_ms=2000, paths=["/api/v1/memories/search"])
        try:
            with caplog.at_level(logging.WARNING, "membrane_integrations.langchain.middleware"):
                out = agent.invoke({"messages": [HumanMessage("Do I sing?")]})
                assert out["messages"][-1].text == "Ok."
                assert recalled(model.requests[-1]) == []
                assert "took longer than 0.5s" in caplog.text
                caplog.clear()
                asyncio.run(agent.ainvoke({"messages": [HumanMessage("Do I sing?")]}))
                assert recalled(model.requests[-1]) == []
                assert "took longer than 0.5s" in caplog.text
        finally:
            emulator.set_faults()
        assert emulator.api_key not in caplog.text


def test_both_backends_on_one_agent_each_capture_the_turn(
    emulator: MembrainEmulator, daemon: Membraned
) -> None:
    pytest.importorskip("grpc")
    user = unique("kim")
    with contextlib.ExitStack() as stack:
        membrain = stack.enter_context(contextlib.closing(iter(membrain_backend(emulator))))
        membrane = stack.enter_context(
            contextlib.closing(iter(membrane_backend(daemon.addr, API_KEY)))
        )
        first, second = next(membrain), next(membrane)
        model = RecordingChatModel(responses=["Ok.", "Ok."])
        memories = [first.build(container=user), second.build(container=user)]
        agent = create_agent(model, middleware=memories, checkpointer=InMemorySaver())
        for text in ("I knit.", "Do I knit?"):
            agent.invoke({"messages": [HumanMessage(text)]}, {"configurable": {"thread_id": "k"}})
            assert all(memory.flush(30.0) == [] for memory in memories)
        assert first.stored(user) == ["I knit."]
        assert second.stored(user) == ["I knit."]
        # each middleware keeps its own fenced message, both before the question
        [a, b] = recalled(model.requests[-1])
        assert "1. I knit." in a.text and "1. user said: I knit." in b.text
        assert model.requests[-1][-1].text == "Do I knit?"


def test_a_failed_ingest_job_is_logged_with_its_id_and_the_reply_stands(
    emulator: MembrainEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    from membrane_integrations.langchain import MembrainMemoryMiddleware

    user = unique("lea")
    with emulator.client() as client:
        memory = MembrainMemoryMiddleware(client=client, container=user)
        model = RecordingChatModel(responses=["Ok.", "Ok."])
        agent = create_agent(model, middleware=[memory], checkpointer=InMemorySaver())
        thread = {"configurable": {"thread_id": "l"}}
        emulator.set_faults(job_failure_rate=1.0)
        try:
            with caplog.at_level(logging.WARNING, "membrane_integrations"):
                out = agent.invoke({"messages": [HumanMessage("I paint.")]}, thread)
                [failed] = memory.flush(30.0)
        finally:
            emulator.set_faults()
        assert out["messages"][-1].text == "Ok."
        assert failed.container == user and "IngestFailedError" in failed.reason
        assert f"could not write {failed.key} for container '{user}'" in caplog.text
        agent.invoke({"messages": [HumanMessage("I paint at night.")]}, thread)
        assert memory.flush(30.0) == []
        hits = client.search("*", k=10, scope=[f"^container\\.{user}$"]).nodes
        assert [hit.content for hit in hits] == ["I paint at night."]


def test_membrane_recall_is_reranked_by_the_given_embeddings(daemon: Membraned) -> None:
    # membraned on SQLite answers by salience whatever the query; only our re-rank can put the
    # record about drinks first. Sync and async recall share it.
    pytest.importorskip("grpc")
    from membrane_integrations.langchain import MembraneMemoryMiddleware, WordLlamaEmbeddings
    from membrane_integrations.membrane import MembraneClient

    user = unique("ray")
    facts = ["I live by the sea.", "I drink green tea every morning.", "I own a red bike."]
    with MembraneClient(daemon.addr, api_key=API_KEY) as client:
        seeding = MembraneMemoryMiddleware(client=client, container=user)
        writer = create_agent(RecordingChatModel(responses=["Ok."] * 3), middleware=[seeding])
        for text in facts:
            writer.invoke({"messages": [HumanMessage(text)]})
        assert seeding.flush(30.0) == []
        for ask in ("sync", "async"):
            model = RecordingChatModel(responses=["Ok."])
            memory = MembraneMemoryMiddleware(
                client=client, container=user, capture="off", k=1, embeddings=WordLlamaEmbeddings()
            )
            agent = create_agent(model, middleware=[memory])
            question = {"messages": [HumanMessage("What does the user drink?")]}
            if ask == "sync":
                agent.invoke(question)
            else:
                asyncio.run(agent.ainvoke(question))
            [seen] = recalled(model.requests[-1])
            assert "green tea" in seen.text, ask
            assert "sea" not in seen.text and "bike" not in seen.text, ask
