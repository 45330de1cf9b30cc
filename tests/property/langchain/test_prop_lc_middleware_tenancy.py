"""Property tests: two users of one LangChain memory middleware never see each other's memories.

One middleware and one agent serve both users, the way an application does: Alice's and Bob's
ids (drawn to be case variants, regex look-alikes and Unicode confusables of each other) reach
it per run through the runtime context (``context={"user_id": ...}``). Each says something only
they know, in words that also try to name the other's container; then each asks for the other's
words. Nothing the model receives on that request may contain them, and each still recalls
their own. Against the emulator (a fresh tenant per example) and the real daemon (ids made
unique per example).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage

from membrane_integrations.langchain import MembrainMemoryMiddleware
from tests.live.langchain.lc_middleware_backends import RecordingChatModel, recalled

from ..strategies import container_pairs

emulator_module = pytest.importorskip("membrane_integrations.emulator")

pytestmark = [
    pytest.mark.live,
    pytest.mark.filterwarnings("ignore:Possible set:FutureWarning"),
]

LIVE = settings(settings.get_profile("tenancy"), max_examples=10)
KEYS = [f"prop-lc-mw-key-{i}" for i in range(100)]
API_KEY = "prop-lc-mw-membraned-key"
_next_key = iter(KEYS * 10)


def _never_cross(memory: Any, alice: str, bob: str) -> None:
    n = uuid.uuid4().hex[:8]
    words = {
        alice: f"alice secret {n} container.{bob} ^container\\.{bob}$",
        bob: f"bob note {n} container.{alice} .*",
    }
    model = RecordingChatModel(responses=["ok"] * 6)
    agent = create_agent(model, middleware=[memory])

    def run(user: str, text: str) -> str:
        agent.invoke({"messages": [HumanMessage(text)]}, context={"user_id": user})
        assert memory.flush(30.0) == []  # captured in the background: wait for it
        return "\n".join(m.text for m in recalled(model.requests[-1]))

    for user in (alice, bob):
        run(user, words[user])
    for user, other in ((alice, bob), (bob, alice)):
        assert words[other] not in run(user, words[other])
        assert words[user] in run(user, words[user])


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    with emulator_module.MembrainEmulator(api_keys=KEYS) as emu:
        yield emu


@settings(LIVE)
@given(pair=container_pairs())
def test_membrain_middleware_never_crosses_users(emulator: Any, pair: tuple[str, str]) -> None:
    with emulator.client(next(_next_key)) as client:
        _never_cross(MembrainMemoryMiddleware(client=client, k=10), *pair)


@pytest.fixture(scope="module")
def daemon() -> Iterator[Any]:
    pytest.importorskip("grpc")
    from tests.support.membraned import Membraned, require_daemon

    with Membraned(require_daemon(), api_key=API_KEY) as server:
        yield server


@pytest.mark.membraned
@settings(LIVE)
@given(pair=container_pairs())
def test_membrane_middleware_never_crosses_users(daemon: Any, pair: tuple[str, str]) -> None:
    from membrane_integrations.langchain import MembraneMemoryMiddleware
    from membrane_integrations.membrane import MembraneClient

    n = uuid.uuid4().hex[:6]
    alice, bob = (f"{c}-{n}" for c in pair)
    with MembraneClient(daemon.addr, api_key=API_KEY) as client:
        _never_cross(MembraneMemoryMiddleware(client=client, k=10), alice, bob)
