"""The Agent Framework providers in the live loop, on the emulator and the real membraned.

A hung backend (a loopback proxy that swallows every request) cannot hold ``agent.run`` past
the recall timeout, and the write it could not make is reported by ``aflush`` with its key;
questions are not stored; an extractor's facts are, and on Membrane a replacing fact
supersedes the old one. Timeouts here are generous deadlines, never pass criteria.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

pytest.importorskip("agent_framework")

from agent_framework import Agent
from pydantic import SecretStr

from membrane_integrations.agent_framework import (
    MembrainContextConfig,
    MembrainContextProvider,
    ScriptedChatClient,
)
from membrane_integrations.core.notes import Note, Turn
from membrane_integrations.emulator import MembrainEmulator
from tests.support.membraned import Membraned, require_daemon
from tests.support.slow_proxy import SlowProxy

pytestmark = pytest.mark.live

API_KEY = "membraned-af-live-loop-key-28"
DEADLINE = 60.0


@pytest.fixture(scope="module")
def emulator() -> Iterator[MembrainEmulator]:
    with MembrainEmulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon(), api_key=API_KEY) as server:
        yield server


def _provider(request: pytest.FixtureRequest, name: str, addr: str | None, **kw: Any) -> Any:
    """A provider on ``name``'s server, or through ``addr`` (a proxy) when given."""
    if name == "membrain":
        emu = request.getfixturevalue("emulator")
        config = MembrainContextConfig(
            base_url=f"http://{addr}" if addr else emu.url, api_key=SecretStr(emu.api_key), **kw
        )
        return MembrainContextProvider(config)
    pytest.importorskip("grpc")
    from membrane_integrations.agent_framework import (
        MembraneContextConfig,
        MembraneContextProvider,
    )

    daemon = request.getfixturevalue("daemon")
    # the config's timeout is None: the client waits forever unless a call says otherwise
    config = MembraneContextConfig(
        addr=addr or daemon.addr, api_key=SecretStr(API_KEY), timeout=None, **kw
    )
    return MembraneContextProvider(config)


def _upstream(request: pytest.FixtureRequest, name: str) -> tuple[str, int]:
    if name == "membrain":
        url = urlsplit(request.getfixturevalue("emulator").url)
        return url.hostname or "127.0.0.1", url.port or 80
    host, port = request.getfixturevalue("daemon").addr.rsplit(":", 1)
    return host, int(port)


async def _stored(provider: Any, container: str) -> list[str]:
    """The container's texts, read with the provider's own client after its writes landed."""
    assert await provider.aflush(30.0) == []
    if isinstance(provider, MembrainContextProvider):
        page = await provider.client.search("*", k=100, scope=[f"^container\\.{container}$"])
        return sorted(node.content for node in page.nodes)
    from membrane_integrations.membrane.recall import arecall_records, record_text

    identity = provider.resolve_identity({})
    records = await arecall_records(provider.client, provider.view(identity), "", 1000, 0.0)
    return sorted(text for r in records if (text := record_text(r)) is not None)


@pytest.mark.parametrize("name", ["membrain", "membrane"])
def test_a_hung_backend_cannot_hold_the_run(request: pytest.FixtureRequest, name: str) -> None:
    with SlowProxy(_upstream(request, name), mode="hang") as proxy:
        provider = _provider(
            request, name, proxy.addr, container="hung", recall_timeout=0.5, write_timeout=1.0
        )
        chat = ScriptedChatClient(["Still here."])
        agent = Agent(client=chat, context_providers=[provider])

        async def run() -> tuple[str, list[Any]]:
            reply = await asyncio.wait_for(agent.run("I am vegan."), DEADLINE)
            unwritten = await asyncio.wait_for(provider.aflush(DEADLINE), DEADLINE + 5)
            await asyncio.wait_for(provider.aclose(), DEADLINE)
            return reply.text, unwritten

        text, unwritten = asyncio.run(run())
    assert text == "Still here."
    [failed] = unwritten  # reported with its key, not dropped
    assert failed.container == "hung" and len(failed.key) == 32


@pytest.mark.parametrize("name", ["membrain", "membrane"])
def test_questions_are_not_stored_and_an_extractor_supersedes(
    request: pytest.FixtureRequest, name: str
) -> None:
    seen: list[Turn] = []

    def extractor(turn: Turn) -> list[Note]:
        seen.append(turn)
        if "Oslo" in turn.messages[0][1]:
            return [Note("User lives in Oslo.", replaces="User lives in Bergen.")]
        return [Note("User lives in Bergen.")]

    async def run() -> tuple[list[str], list[str]]:
        plain = _provider(request, name, None, container=f"q-{name}")
        agent = Agent(client=ScriptedChatClient(), context_providers=[plain])
        for text in ("Hello!", "I keep bees.", "Where can I buy honey jars?", "Thanks!"):
            await agent.run(text)
        plain_stored = await _stored(plain, f"q-{name}")
        await plain.aclose()

        facts = _provider(request, name, None, container=f"x-{name}")
        facts.extractor = extractor
        agent = Agent(client=ScriptedChatClient(), context_providers=[facts])
        await agent.run("I live in Bergen.")
        assert await facts.aflush(30.0) == []
        await agent.run("I moved to Oslo last week.", session=agent.create_session())
        fact_stored = await _stored(facts, f"x-{name}")
        await facts.aclose()
        return plain_stored, fact_stored

    plain_stored, fact_stored = asyncio.run(run())
    assert plain_stored == ["I keep bees." if name == "membrain" else "user said: I keep bees."]
    assert "User lives in Bergen." in seen[-1].recalled  # the extractor saw what it replaces
    if name == "membrane":
        assert fact_stored == ["User lives in Oslo."]
    else:
        assert fact_stored == ["User lives in Bergen.", "User lives in Oslo."]


@pytest.mark.parametrize("name", ["membrain", "membrane"])
def test_captured_notes_carry_the_configured_ttl(request: pytest.FixtureRequest, name: str) -> None:
    from datetime import timedelta

    from membrane_integrations.core.ttl import system_clock
    from membrane_integrations.membrain.tenancy import Tenancy

    container = f"ttl-{name}"

    async def run() -> tuple[list[str], int, int, list[str]]:
        provider = _provider(request, name, None, container=container, note_ttl=1)
        agent = Agent(client=ScriptedChatClient(), context_providers=[provider])
        await agent.run("I am in Lisbon until Friday.")
        before = await _stored(provider, container)
        now = system_clock()
        if name == "membrain":
            from membrane_integrations.membrain import expiry

            target: Any = Tenancy(container)
        else:
            from membrane_integrations.membrane import expiry  # type: ignore[no-redef]

            target = provider.view(provider.resolve_identity({}))
        early = await expiry.asweep(provider.client, target, now)
        late = await expiry.asweep(provider.client, target, now + timedelta(minutes=2))
        after = await _stored(provider, container)
        await provider.aclose()
        return before, early, late, after

    before, early, late, after = asyncio.run(run())
    assert len(before) == 1 and "Lisbon" in before[0]
    assert (early, late, after) == (0, 1, [])
