"""Property tests: two users of one Agent Framework provider never see each other's memories.

One provider serves both users, the way an application does: Alice's and Bob's ids (drawn to be
case variants, regex look-alikes and Unicode confusables of each other) reach it per session
(``bind_session``) or per run (``identity``). Each says something only they know, in words that
also try to name the other's container; then each asks for the other's words. Nothing the model
receives on that request may contain them, and each still recalls their own. Against the
emulator (a fresh tenant per example) and the real daemon (ids made unique per example).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("agent_framework")

from agent_framework import Agent, AgentSession
from pydantic import SecretStr

from membrane_integrations.agent_framework import (
    MembrainContextConfig,
    MembrainContextProvider,
    MembraneContextConfig,
    MembraneContextProvider,
    ScriptedChatClient,
)
from membrane_integrations.agent_framework._base import BackendContextProvider

from ..strategies import container_pairs

emulator_module = pytest.importorskip("membrane_integrations.emulator")

pytestmark = [
    pytest.mark.live,
    pytest.mark.filterwarnings("ignore:Possible set:FutureWarning"),
]

LIVE = settings.get_profile("tenancy")
KEYS = [f"prop-af-key-{i}" for i in range(200)]
API_KEY = "prop-af-membraned-key"
_next_key = iter(KEYS * 10)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    with emulator_module.MembrainEmulator(api_keys=KEYS) as emu:
        yield emu


async def _never_cross(
    provider: BackendContextProvider[Any, Any], alice: str, bob: str, per_run: bool
) -> None:
    n = uuid.uuid4().hex[:8]
    words = {
        alice: f"alice secret {n} container.{bob} ^container\\.{bob}$",
        bob: f"bob note {n} container.{alice} .*",
    }
    chat = ScriptedChatClient()
    agent = Agent(client=chat, context_providers=[provider])
    sessions: dict[str, AgentSession] = {}
    for user in (alice, bob):
        sessions[user] = agent.create_session()
        if not per_run:
            provider.bind_session(sessions[user], container=user)

    async def run(user: str, text: str) -> None:
        if per_run:
            with provider.identity(container=user):
                await agent.run(text, session=sessions[user])
        else:
            await agent.run(text, session=sessions[user])

    try:
        for user in (alice, bob):
            await run(user, words[user])
        for user, other in ((alice, bob), (bob, alice)):
            await run(user, words[other])
            seen = "\n".join(m.text for m in chat.requests[-1][:-1])  # all but the question
            assert words[other] not in seen
            await run(user, words[user])
            assert words[user] in "\n".join(m.text for m in chat.requests[-1][:-1])
    finally:
        await provider.aclose()


@settings(LIVE)
@given(pair=container_pairs(), per_run=st.booleans())
def test_membrain_provider_never_crosses_users(
    emulator: Any, pair: tuple[str, str], per_run: bool
) -> None:
    config = MembrainContextConfig(
        base_url=emulator.url, api_key=SecretStr(next(_next_key)), capture="user", k=10
    )
    asyncio.run(_never_cross(MembrainContextProvider(config), *pair, per_run))


@pytest.fixture(scope="module")
def daemon() -> Iterator[Any]:
    pytest.importorskip("grpc")
    from tests.support.membraned import Membraned, require_daemon

    with Membraned(require_daemon(), api_key=API_KEY) as server:
        yield server


@pytest.mark.membraned
@settings(LIVE)
@given(pair=container_pairs(), per_run=st.booleans())
def test_membrane_provider_never_crosses_users(
    daemon: Any, pair: tuple[str, str], per_run: bool
) -> None:
    n = uuid.uuid4().hex[:6]
    alice, bob = (f"{c}-{n}" for c in pair)
    config = MembraneContextConfig(
        addr=daemon.addr, api_key=SecretStr(API_KEY), capture="user", k=10
    )
    asyncio.run(_never_cross(MembraneContextProvider(config), alice, bob, per_run))
