"""Memory in the live agent loop, on the emulator and the real membraned (issue 28).

* recall is transient: the model sees the fenced block, the checkpointer never stores it;
* capture never holds the reply: a hung backend (a loopback proxy that swallows every request)
  cannot hold ``invoke`` / ``ainvoke`` past the recall timeout, and the write it could not make
  is reported by ``flush`` with its key; a slowed backend gets every statement after ``close``;
* notes, not transcripts: questions and greetings are not stored; an extractor (a scripted chat
  model here) turns a turn into facts, and on Membrane a fact that replaces one supersedes it.

Test timeouts are generous deadlines (a thread join, a flush limit), never pass criteria.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

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
from tests.support.slow_proxy import SlowProxy

pytestmark = pytest.mark.live

API_KEY = "membraned-lc-live-loop-key-28"
DEADLINE = 60.0  # a join limit: a call that is still running then is hung


@pytest.fixture(scope="module")
def emulator() -> Iterator[MembrainEmulator]:
    with MembrainEmulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon(), api_key=API_KEY) as server:
        yield server


@pytest.fixture(params=["membrain", "membrane"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "membrain":
        yield from membrain_backend(request.getfixturevalue("emulator"))
    else:
        pytest.importorskip("grpc")
        server = request.getfixturevalue("daemon")
        yield from membrane_backend(server.addr, API_KEY)


def _upstream(request: pytest.FixtureRequest, name: str) -> tuple[str, int]:
    if name == "membrain":
        url = urlsplit(request.getfixturevalue("emulator").url)
        return url.hostname or "127.0.0.1", url.port or 80
    host, port = request.getfixturevalue("daemon").addr.rsplit(":", 1)
    return host, int(port)


def _through(request: pytest.FixtureRequest, name: str, proxy: SlowProxy, **kw: Any) -> Any:
    """A middleware whose client talks to the backend through ``proxy`` (client defaults)."""
    if name == "membrain":
        from membrane_integrations.langchain import MembrainMemoryMiddleware
        from membrane_integrations.membrain import MembrainClient

        key = request.getfixturevalue("emulator").api_key
        client = MembrainClient(key, base_url=proxy.url)
        return MembrainMemoryMiddleware(client=client, **kw), client
    from membrane_integrations.langchain import MembraneMemoryMiddleware
    from membrane_integrations.membrane import MembraneClient

    client = MembraneClient(proxy.addr, api_key=API_KEY)  # timeout None, the default
    return MembraneMemoryMiddleware(client=client, **kw), client


def _in_thread(call: Any) -> Any:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["out"] = call()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(DEADLINE)
    assert not thread.is_alive(), "the agent call is still running: the backend holds it"
    if "error" in box:
        raise box["error"]
    return box["out"]


def test_the_checkpointer_never_holds_the_recalled_block(backend: Backend) -> None:
    user = unique("ada")
    memory = backend.build(capture="user")
    saver = InMemorySaver()
    model = RecordingChatModel(responses=["Noted.", "Tea."])
    agent = create_agent(model, middleware=[memory], checkpointer=saver)
    config = {"configurable": {"thread_id": "ada"}}
    context = {"user_id": user}
    agent.invoke({"messages": [HumanMessage("I drink green tea.")]}, config, context=context)
    assert memory.flush(30.0) == []
    out = agent.invoke({"messages": [HumanMessage("What do I drink?")]}, config, context=context)

    [block] = recalled(model.requests[-1])
    assert "green tea" in block.text  # the model saw it
    assert recalled(out["messages"]) == []  # the state never had it
    saved = [saver.serde.dumps_typed(c.checkpoint)[1] for c in saver.list(config)]
    assert saved and not any(b"recalled_memories" in blob for blob in saved)
    assert [m.type for m in out["messages"]] == ["human", "ai", "human", "ai"]


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("name", ["membrain", "membrane"])
def test_a_hung_backend_cannot_hold_the_reply(
    request: pytest.FixtureRequest, name: str, flavour: str
) -> None:
    if name == "membrane":
        pytest.importorskip("grpc")
    upstream = _upstream(request, name)
    with SlowProxy(upstream, mode="hang") as proxy:
        memory, client = _through(
            request, name, proxy, container=unique("hung"), recall_timeout=0.5, write_timeout=1.0
        )
        model = RecordingChatModel(responses=["Still here."])
        agent = create_agent(model, middleware=[memory])
        question = {"messages": [HumanMessage("I am vegan.")]}
        if flavour == "sync":
            out = _in_thread(lambda: agent.invoke(question))
            unwritten = memory.flush(DEADLINE)
        else:

            async def run() -> Any:
                return await agent.ainvoke(question), await memory.aflush(DEADLINE)

            out, unwritten = _in_thread(lambda: asyncio.run(run()))
        assert out["messages"][-1].text == "Still here."
        assert recalled(model.requests[-1]) == []
        # the one statement could not be written: reported with its key, not dropped
        [failed] = unwritten
        assert failed.container == memory.container and len(failed.key) == 32
        assert memory.close() == []
        client.close()


@pytest.mark.parametrize("name", ["membrain", "membrane"])
def test_a_slowed_backend_gets_every_statement_after_close(
    request: pytest.FixtureRequest, name: str
) -> None:
    if name == "membrane":
        pytest.importorskip("grpc")
    backend = next(
        membrain_backend(request.getfixturevalue("emulator"))
        if name == "membrain"
        else membrane_backend(request.getfixturevalue("daemon").addr, API_KEY)
    )
    user = unique("sam")
    said = ["I am vegan.", "Do you know any good cafes?", "Hello!", "My sister is Ana.", "Thanks!"]
    with SlowProxy(_upstream(request, name), mode="delay", delay_s=0.2) as proxy:
        memory, client = _through(request, name, proxy, container=user, write_timeout=30.0)
        model = RecordingChatModel(responses=["Ok."] * len(said))
        agent = create_agent(model, middleware=[memory], checkpointer=InMemorySaver())
        for text in said:
            agent.invoke({"messages": [HumanMessage(text)]}, {"configurable": {"thread_id": "s"}})
        assert memory.close() == []
        client.close()
    stored = backend.stored(user)
    assert sorted(stored) == ["I am vegan.", "My sister is Ana."]  # no question, no greeting
    backend.close()


def _extracting(answers: list[str]) -> RecordingChatModel:
    return RecordingChatModel(responses=answers)


def test_an_extractor_stores_facts_and_membrane_supersedes(backend: Backend) -> None:
    user = unique("eli")
    extractor = _extracting(
        [
            '[{"fact": "User lives in Bergen.", "replaces": null}]',
            '[{"fact": "User lives in Oslo.", "replaces": "User lives in Bergen."}]',
        ]
    )
    memory = backend.build(container=user, extractor=extractor)
    model = RecordingChatModel(responses=["Nice.", "Congrats on the move!"])
    agent = create_agent(model, middleware=[memory], checkpointer=InMemorySaver())
    thread = {"configurable": {"thread_id": "e"}}
    agent.invoke({"messages": [HumanMessage("Hi! I live in Bergen.")]}, thread)
    assert memory.flush(30.0) == []
    assert backend.stored(user) == ["User lives in Bergen."]
    agent.invoke({"messages": [HumanMessage("I just moved to Oslo, any tips?")]}, thread)
    assert memory.flush(30.0) == []

    # the extractor read the turn and the memories recalled for it, with the guide's prompt
    system, prompt = extractor.requests[-1]
    assert "atomic, third-person statement" in system.text
    assert "- User lives in Bergen." in prompt.text and "user: I just moved" in prompt.text
    if backend.name == "membrane":
        assert backend.stored(user) == ["User lives in Oslo."]  # superseded, not duplicated
    else:
        assert sorted(backend.stored(user)) == ["User lives in Bergen.", "User lives in Oslo."]
    memory.close()


def test_captured_notes_carry_a_ttl_and_the_expiry_sweep_forgets_them(backend: Backend) -> None:
    from datetime import timedelta

    from membrane_integrations.core.ttl import system_clock

    user = unique("ttl")
    memory = backend.build(container=user, note_ttl=1)
    agent = create_agent(RecordingChatModel(responses=["Enjoy!"]), middleware=[memory])
    agent.invoke({"messages": [HumanMessage("I am in Paris this week.")]})
    assert memory.flush(30.0) == []
    assert backend.stored(user) == ["I am in Paris this week."]

    client = memory.clients.for_sync()
    if backend.name == "membrain":
        from membrane_integrations.membrain import expiry

        identity: Any = memory._identity(user)
    else:
        from membrane_integrations.membrane import expiry  # type: ignore[no-redef]

        identity = memory._identity(user)
    now = system_clock()
    assert expiry.sweep(client, identity, now) == 0  # not expired yet
    assert expiry.sweep(client, identity, now + timedelta(minutes=2)) == 1
    assert backend.stored(user) == []
    memory.close()
