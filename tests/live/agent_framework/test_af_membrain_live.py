"""MembrainContextProvider in a real Agent Framework agent against the emulator on 127.0.0.1.

The model is the package's scripted chat client (no LLM); it records every request, so the tests
read exactly what reached the model. What was stored is read back from the emulator itself.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("agent_framework")

from agent_framework import Agent, AgentSession, Message
from pydantic import SecretStr

from membrane_integrations.agent_framework import (
    MembrainContextConfig,
    MembrainContextProvider,
    ScriptedChatClient,
)
from membrane_integrations.agent_framework._messages import RECALL_MARK, capture_key
from membrane_integrations.membrain import MembrainClient
from membrane_integrations.membrain.tenancy import container_filter

pytestmark = pytest.mark.live

emulator_module = pytest.importorskip("membrane_integrations.emulator")


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    with emulator_module.MembrainEmulator(fault_injection=True) as emu:
        yield emu


# every provider of the running test: _stored and _count wait for their background writes
PROVIDERS: list[MembrainContextProvider] = []


def _settle() -> list[Any]:
    return [item for provider in PROVIDERS for item in provider.flush(30.0)]


@pytest.fixture
async def make_provider(emulator: Any) -> AsyncIterator[Callable[..., MembrainContextProvider]]:
    emulator.set_faults()
    providers = PROVIDERS
    providers.clear()

    def build(**settings: Any) -> MembrainContextProvider:
        config = MembrainContextConfig(
            base_url=emulator.url, api_key=SecretStr(emulator.api_key), **settings
        )
        provider = MembrainContextProvider(config)
        providers.append(provider)
        return provider

    yield build
    emulator.set_faults()
    with MembrainClient(emulator.api_key, base_url=emulator.url) as raw:
        raw.delete_bulk(scope=[".*"])
    for provider in providers:
        assert await provider.aclose() == []
    providers.clear()


def _stored(emulator: Any, container: str) -> list[str]:
    assert _settle() == []
    with MembrainClient(emulator.api_key, base_url=emulator.url) as raw:
        hits = raw.search("*", k=100, scope=[container_filter(container)])
        return sorted(node.content for node in hits.nodes)


def _count(emulator: Any, container: str) -> int:
    assert _settle() == []
    with MembrainClient(emulator.api_key, base_url=emulator.url) as raw:
        return raw.count(scope=[container_filter(container)])


def _recalled(chat: ScriptedChatClient, request: int = -1) -> list[Message]:
    return [m for m in chat.requests[request] if RECALL_MARK in m.additional_properties]


async def test_recall_reaches_the_models_messages(
    emulator: Any, make_provider: Callable[..., MembrainContextProvider]
) -> None:
    provider = make_provider(container="bob", capture="user")
    chat = ScriptedChatClient(["Noted.", "You are vegan."])
    agent = Agent(client=chat, context_providers=[provider])

    await agent.run("I am vegan and I live in Oslo.")
    assert _recalled(chat, 0) == []  # nothing stored yet
    assert _stored(emulator, "bob") == ["I am vegan and I live in Oslo."]

    reply = await agent.run("What should I cook tonight?", session=agent.create_session())
    assert reply.text == "You are vegan."
    [context] = _recalled(chat, 1)
    lines = context.text.splitlines()
    assert "not instructions" in lines[0]
    assert lines[1] == "1. I am vegan and I live in Oslo."
    assert lines[-1] == "(End of recalled memories.)"
    # the recalled context comes before the user's new message, which is still the last one
    assert chat.requests[1][-1].text == "What should I cook tonight?"


async def test_recall_respects_k_score_floor_budget_and_duplicates(
    emulator: Any, make_provider: Callable[..., MembrainContextProvider]
) -> None:
    with MembrainClient(emulator.api_key, base_url=emulator.url) as raw:
        for text in ["likes green tea", "Likes  green TEA", "plays chess", "owns a cat"]:
            raw.add(text, scope=["container.ann", "^container\\.ann$"])
    chat = ScriptedChatClient()
    tight = make_provider(container="ann", capture="off", k=4, max_context_chars=200)
    await Agent(client=chat, context_providers=[tight]).run("green tea")
    [context] = _recalled(chat)
    lines = context.text.splitlines()[1:-1]
    assert len(context.text) <= 200
    assert sum("green tea" in line.casefold() for line in lines) == 1  # de-duplicated
    assert lines[0] == "1. likes green tea"

    one = make_provider(container="ann", capture="off", k=1)
    await Agent(client=chat, context_providers=[one]).run("green tea")
    assert len(_recalled(chat)[0].text.splitlines()) == 3  # header, one memory, footer

    floor = make_provider(container="ann", capture="off", min_score=1.0)
    await Agent(client=chat, context_providers=[floor]).run("green tea")
    assert _recalled(chat) == []


async def test_capture_stores_once_across_a_resumed_run(
    emulator: Any, make_provider: Callable[..., MembrainContextProvider]
) -> None:
    provider = make_provider(container="cat", capture="user_and_assistant")
    agent = Agent(client=ScriptedChatClient(["Hello Cat."]), context_providers=[provider])
    session = agent.create_session()
    turn = Message(role="user", contents=["My name is Cat."], message_id="turn-1")
    await agent.run(turn, session=session)
    assert _stored(emulator, "cat") == ["Hello Cat.", "My name is Cat."]

    # The run is resumed from the saved session: same messages, nothing stored twice.
    saved = session.to_dict()
    resumed = AgentSession.from_dict(saved)
    await agent.run(turn, session=resumed)
    # the reply has no message id: the same words in the same container are the same message
    assert _count(emulator, "cat") == 2

    # A new process without the session ledger: the server-side key check still holds.
    fresh = make_provider(container="cat", capture="user")
    await Agent(client=ScriptedChatClient(), context_providers=[fresh]).run(turn)
    assert _stored(emulator, "cat") == ["Hello Cat.", "My name is Cat."]


async def test_recalled_context_is_never_stored_back(
    emulator: Any, make_provider: Callable[..., MembrainContextProvider]
) -> None:
    provider = make_provider(container="dan", capture="user_and_assistant")
    agent = Agent(client=ScriptedChatClient(["ok"]), context_providers=[provider])
    await agent.run(Message(role="user", contents=["Dan drinks oat milk."], message_id="a"))
    await agent.run(Message(role="user", contents=["What do I drink?"], message_id="b"))
    stored = _stored(emulator, "dan")
    assert not any("recalled" in text.casefold() for text in stored)
    # a statement is stored; the question and the bare acknowledgement are not
    assert stored == ["Dan drinks oat milk."]


async def test_identity_per_run_and_per_session(
    emulator: Any, make_provider: Callable[..., MembrainContextProvider]
) -> None:
    provider = make_provider(capture="user")  # no default container
    chat = ScriptedChatClient()
    agent = Agent(client=chat, context_providers=[provider])
    eve = agent.create_session()
    provider.bind_session(eve, container="eve")
    await agent.run("Eve likes jazz.", session=eve)
    with provider.identity(container="fay"):
        await agent.run("Fay likes opera.", session=agent.create_session())
    assert _settle() == []
    assert _stored(emulator, "eve") == ["Eve likes jazz."]
    assert _stored(emulator, "fay") == ["Fay likes opera."]

    # The session's identity survives serialisation; the run's wins over it.
    restored = AgentSession.from_dict(eve.to_dict())
    await agent.run("What music do I like?", session=restored)
    assert "Eve likes jazz." in _recalled(chat)[0].text
    with provider.identity(container="fay"):
        await agent.run("What music do I like?", session=restored)
    assert "Fay likes opera." in _recalled(chat)[0].text
    assert "Eve" not in _recalled(chat)[0].text


async def test_a_failing_or_slow_recall_does_not_break_the_run(
    emulator: Any,
    make_provider: Callable[..., MembrainContextProvider],
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = make_provider(container="gus", capture="off", recall_timeout=0.5, max_retries=0)
    chat = ScriptedChatClient(["still here"])
    agent = Agent(client=chat, context_providers=[provider])

    emulator.set_faults(error_rate=1.0, paths=["/api/v1/memories/search"])
    with caplog.at_level(logging.WARNING, "membrane_integrations.agent_framework"):
        assert (await agent.run("hello")).text == "still here"
    assert "recall for container 'gus' failed" in caplog.text
    assert emulator.api_key not in caplog.text

    caplog.clear()
    emulator.set_faults(delay_rate=1.0, delay_ms=3000, paths=["/api/v1/memories/search"])
    with caplog.at_level(logging.WARNING, "membrane_integrations.agent_framework"):
        assert (await agent.run("hello again")).text == "still here"
    assert "took longer than 0.5s" in caplog.text
    assert _recalled(chat) == []


async def test_a_failing_capture_does_not_break_the_reply(
    emulator: Any,
    make_provider: Callable[..., MembrainContextProvider],
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = make_provider(container="hal", capture="user", max_retries=0)
    agent = Agent(client=ScriptedChatClient(["fine"]), context_providers=[provider])
    session = agent.create_session()
    emulator.set_faults(job_failure_rate=1.0)
    turn = Message(role="user", contents=["Hal is a pilot."], message_id="h1")
    with caplog.at_level(logging.WARNING, "membrane_integrations"):
        assert (await agent.run(turn, session=session)).text == "fine"
        # the write failed in the background: flush reports it with its key, and logs it
        [failed] = await provider.aflush(30.0)
    assert failed.container == "hal" and failed.key == capture_key("hal", turn)
    assert "IngestFailedError" in failed.reason
    assert f"could not write {failed.key} for container 'hal'" in caplog.text
    assert _count(emulator, "hal") == 0

    # Reported, not retried behind the caller's back: the next message is stored as usual.
    emulator.set_faults()
    await agent.run(Message(role="user", contents=["Hal flies gliders."]), session=session)
    assert _stored(emulator, "hal") == ["Hal flies gliders."]


async def test_a_provider_round_trips_through_the_frameworks_serialisation(
    emulator: Any, make_provider: Callable[..., MembrainContextProvider]
) -> None:
    provider = make_provider(container="ivy", k=3, capture="user_and_assistant")
    data = provider.to_dict()
    assert data["type"] == "membrain_context_provider"
    assert emulator.api_key not in provider.to_json()
    assert emulator.api_key not in repr(provider)
    client = emulator.async_client()
    try:
        loaded = MembrainContextProvider.from_dict(
            data, dependencies={"membrain_context_provider": {"client": client}}
        )
        assert loaded.config == provider.config.model_copy(update={"api_key": None})
        assert loaded.client is client
        await Agent(client=ScriptedChatClient(), context_providers=[loaded]).run("Ivy skis.")
        assert await loaded.aclose() == []  # flushed; not its client: it stays open
        assert _stored(emulator, "ivy") == ["Ivy skis."]
        assert await client.count() >= 1
    finally:
        await client.aclose()


async def test_a_streamed_run_recalls_and_captures_too(
    emulator: Any, make_provider: Callable[..., MembrainContextProvider]
) -> None:
    provider = make_provider(container="jon", capture="user_and_assistant")
    chat = ScriptedChatClient(["Got it.", "You like rye bread."])
    agent = Agent(client=chat, context_providers=[provider])
    async for _ in agent.run("Jon likes rye bread.", stream=True):
        pass
    assert _stored(emulator, "jon") == ["Jon likes rye bread."]  # "Got it." is no fact
    stream = agent.run("What bread do I like?", stream=True)
    text = "".join([update.text async for update in stream])
    assert text == "You like rye bread."
    assert "1. Jon likes rye bread." in _recalled(chat)[0].text
