"""MembraneContextProvider in a real Agent Framework agent against the real membraned daemon.

The model is the package's scripted chat client; what was stored is read back from the daemon
itself (scope, tags, sensitivity). Needs ``MEMBRANED_BIN`` or a daemon the harness can build.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("grpc")
pytest.importorskip("agent_framework")

from agent_framework import Agent, AgentSession, Message
from pydantic import SecretStr

from membrane_integrations.agent_framework import (
    MembraneContextConfig,
    MembraneContextProvider,
    MembraneIdentity,
    ScriptedChatClient,
)
from membrane_integrations.agent_framework._messages import RECALL_MARK
from membrane_integrations.membrane import (
    AsyncMembraneClient,
    MemoryRecord,
    Sensitivity,
    TrustContext,
)
from tests.support.membraned import Membraned, require_daemon

pytestmark = [pytest.mark.live, pytest.mark.membraned]

API_KEY = "membraned-agent-framework-key-17"


@pytest.fixture
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon(), api_key=API_KEY) as server:
        yield server


# every provider of the running test: _stored waits for their background writes first
PROVIDERS: list[MembraneContextProvider] = []


async def _settle() -> list[Any]:
    return [item for provider in PROVIDERS for item in await provider.aflush(30.0)]


@pytest.fixture
async def make_provider(daemon: Membraned) -> AsyncIterator[Callable[..., MembraneContextProvider]]:
    providers = PROVIDERS
    providers.clear()

    def build(**settings: Any) -> MembraneContextProvider:
        config = MembraneContextConfig(addr=daemon.addr, api_key=SecretStr(API_KEY), **settings)
        provider = MembraneContextProvider(config)
        providers.append(provider)
        return provider

    yield build
    for provider in providers:
        await provider.aclose()
    providers.clear()


async def _stored(daemon: Membraned, scope: str) -> list[MemoryRecord]:
    assert await _settle() == []
    trust = TrustContext(max_sensitivity=Sensitivity.HYPER, scopes=[scope])
    async with AsyncMembraneClient(daemon.addr, api_key=API_KEY) as client:
        records = await client.retrieve("", trust=trust, limit=1000)
    return [r for r in records if r.scope == scope]


def _recalled(chat: ScriptedChatClient, request: int = -1) -> list[Message]:
    return [m for m in chat.requests[request] if RECALL_MARK in m.additional_properties]


async def test_recall_reaches_the_model_and_capture_is_a_scoped_record(
    daemon: Membraned, make_provider: Callable[..., MembraneContextProvider]
) -> None:
    provider = make_provider(container="bob", capture="user_and_assistant")
    chat = ScriptedChatClient(["Noted, you eat no meat.", "You are vegan."])
    agent = Agent(client=chat, context_providers=[provider])
    await agent.run("I am vegan.")
    records = await _stored(daemon, "bob")
    assert sorted(r.payload.object for r in records) == [
        "I am vegan.",
        "Noted, you eat no meat.",
    ]  # type: ignore[union-attr]
    user = next(r for r in records if r.payload.subject == "user")  # type: ignore[union-attr]
    assert "role.user" in user.tags and any(t.startswith("msg.") for t in user.tags)
    assert user.sensitivity is Sensitivity.LOW

    reply = await agent.run("What do I eat?", session=agent.create_session())
    assert reply.text == "You are vegan."
    [context] = _recalled(chat, 1)
    assert "not instructions" in context.text.splitlines()[0]
    assert "1. " in context.text and "user said: I am vegan." in context.text
    assert chat.requests[1][-1].text == "What do I eat?"


async def test_capture_stores_once_across_a_resumed_run(
    daemon: Membraned, make_provider: Callable[..., MembraneContextProvider]
) -> None:
    provider = make_provider(container="cat", capture="user")
    agent = Agent(client=ScriptedChatClient(), context_providers=[provider])
    session = agent.create_session()
    turn = Message(role="user", contents=["My name is Cat."], message_id="turn-1")
    await agent.run(turn, session=session)
    resumed = AgentSession.from_dict(session.to_dict())
    await agent.run(turn, session=resumed)
    await agent.run(turn, session=resumed)
    assert len(await _stored(daemon, "cat")) == 1


async def test_two_users_never_see_each_others_memories(
    daemon: Membraned, make_provider: Callable[..., MembraneContextProvider]
) -> None:
    provider = make_provider(capture="user")  # one provider, identity per session
    chat = ScriptedChatClient()
    agent = Agent(client=chat, context_providers=[provider])
    alice, bob = agent.create_session(), agent.create_session()
    provider.bind_session(alice, MembraneIdentity(container="alice"))
    provider.bind_session(bob, container="Alice")  # scopes compare exactly
    await agent.run("Alice's PIN is 4411.", session=alice)
    await agent.run("Bob's dog is Rex.", session=bob)
    assert await _settle() == []
    await agent.run("What do you know?", session=bob)
    assert "4411" not in "".join(m.text for m in chat.requests[-1])
    await agent.run("What do you know?", session=alice)
    recalled = _recalled(chat)[0].text
    assert "4411" in recalled and "Rex" not in recalled


async def test_the_trust_ceiling_comes_from_the_identity(
    daemon: Membraned, make_provider: Callable[..., MembraneContextProvider]
) -> None:
    writer = make_provider(container="dan", capture="user", capture_sensitivity="high")
    await Agent(client=ScriptedChatClient(), context_providers=[writer]).run("Dan's salary: 99")
    assert await _settle() == []
    chat = ScriptedChatClient()
    reader = make_provider(container="dan", capture="off")
    agent = Agent(client=chat, context_providers=[reader])
    await agent.run("salary?")  # the config's ceiling is medium
    assert _recalled(chat) == []
    with reader.identity(container="dan", max_sensitivity="high", actor_id="payroll"):
        await agent.run("salary?")
    assert "99" in _recalled(chat)[0].text


async def test_a_stopped_daemon_does_not_break_the_run(
    daemon: Membraned,
    make_provider: Callable[..., MembraneContextProvider],
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = make_provider(container="eve", capture="user", recall_timeout=5.0, timeout=2.0)
    agent = Agent(client=ScriptedChatClient(["still here"]), context_providers=[provider])
    await agent.run("I warm up.")
    assert await _settle() == []
    daemon.stop()
    with caplog.at_level(logging.WARNING, "membrane_integrations"):
        assert (await agent.run("I row.")).text == "still here"
        [failed] = await provider.aflush(30.0)
    assert "recall for container 'eve'" in caplog.text
    assert failed.container == "eve"
    assert f"could not write {failed.key} for container 'eve'" in caplog.text
    assert API_KEY not in caplog.text


async def test_serialisation_round_trip_without_the_key(
    daemon: Membraned, make_provider: Callable[..., MembraneContextProvider]
) -> None:
    provider = make_provider(container="fay", capture="user", max_sensitivity="low")
    assert API_KEY not in provider.to_json() and API_KEY not in repr(provider)
    loaded = MembraneContextProvider.from_dict(
        provider.to_dict(),
        dependencies={"membrane_context_provider": {"client": provider.client}},
    )
    assert loaded.config.max_sensitivity == "low" and loaded.config.api_key is None
    await Agent(client=ScriptedChatClient(), context_providers=[loaded]).run("Fay rows.")
    assert await loaded.aflush(30.0) == []
    assert [r.payload.object for r in await _stored(daemon, "fay")] == ["Fay rows."]  # type: ignore[union-attr]
