"""Provider behaviour that needs no server: identity, configuration, dumping, the bare import."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

pytest.importorskip("agent_framework")

from agent_framework import Agent, AgentSession
from pydantic import SecretStr, ValidationError

from membrane_integrations.agent_framework import (
    MembrainContextConfig,
    MembrainContextProvider,
    MembrainIdentity,
    MembraneContextConfig,
    MembraneContextProvider,
    MembraneIdentity,
    ScriptedChatClient,
)
from membrane_integrations.core.errors import InvalidRequestError

KEY = "mb_live_unit0000secret"
# A closed local port: nothing is ever sent in these tests, and nothing could be.
NOWHERE = "http://127.0.0.1:9"


def _membrain(**settings: object) -> MembrainContextProvider:
    return MembrainContextProvider(
        MembrainContextConfig(base_url=NOWHERE, api_key=SecretStr(KEY), **settings)  # type: ignore[arg-type]
    )


def test_identity_comes_from_the_run_then_the_session_then_the_config() -> None:
    provider = _membrain(container="default")
    session = AgentSession()
    state = session.state.setdefault(provider.source_id, {})
    assert provider.resolve_identity(state).container == "default"
    provider.bind_session(session, container="alice")
    assert session.state["membrain"]["identity"] == {"container": "alice"}
    assert provider.resolve_identity(state).container == "alice"
    with provider.identity(container="bob") as run:
        assert run == MembrainIdentity(container="bob")
        assert provider.resolve_identity(state).container == "bob"
    assert provider.resolve_identity(state).container == "alice"


def test_no_identity_means_no_run() -> None:
    provider = _membrain(capture="user")
    with pytest.raises(InvalidRequestError, match="no identity"):
        provider.resolve_identity({})
    agent = Agent(client=ScriptedChatClient(), context_providers=[provider])
    with pytest.raises(InvalidRequestError, match="no identity"):
        asyncio.run(agent.run("hello"))


def test_identities_are_validated_wherever_they_come_from() -> None:
    provider = _membrain()
    for bad in ({"container": ""}, {"container": "a\nb"}, {"container": "x", "extra": 1}):
        with pytest.raises(InvalidRequestError), provider.identity(**bad):
            pass
    # a tampered session state is refused, not used
    with pytest.raises(InvalidRequestError):
        provider.resolve_identity({"identity": {"container": "x" * 5000}})
    with pytest.raises(InvalidRequestError, match="not a mapping"):
        provider.resolve_identity({"identity": "alice"})
    with (
        pytest.raises(InvalidRequestError, match="not both"),
        provider.identity(MembrainIdentity(container="a"), container="b"),
    ):
        pass
    with pytest.raises(ValidationError):
        MembrainContextConfig(container="")
    with pytest.raises(ValidationError):
        MembraneIdentity(container="a", max_sensitivity="secret")  # type: ignore[arg-type]


def test_run_identities_do_not_leak_between_concurrent_tasks() -> None:
    provider = _membrain()

    async def one(name: str) -> str:
        with provider.identity(container=name):
            await asyncio.sleep(0)
            return provider.resolve_identity({}).container

    async def both() -> list[str]:
        return list(await asyncio.gather(one("alice"), one("bob")))

    assert asyncio.run(both()) == ["alice", "bob"]


def test_membrane_identity_becomes_the_trust_context() -> None:
    provider = MembraneContextProvider(
        MembraneContextConfig(addr="127.0.0.1:9", actor_id="app", max_sensitivity="low")
    )
    view = provider.view(MembraneIdentity(container="alice"))
    trust = view.trust
    assert (trust.actor_id, trust.max_sensitivity.value, trust.scopes) == ("app", "low", ["alice"])
    view = provider.view(MembraneIdentity(container="bob", actor_id="hr", max_sensitivity="high"))
    assert (view.trust.actor_id, view.trust.max_sensitivity.value, view.scope) == (
        "hr",
        "high",
        "bob",
    )
    asyncio.run(provider.aclose())


def test_the_dump_never_holds_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = _membrain(container="bob", scope=["topic\\.food"])
    data = provider.to_dict()
    assert data == {
        "type": "membrain_context_provider",
        "source_id": "membrain",
        "config": provider.config.model_dump(mode="json", exclude_none=True),
    }
    assert KEY not in provider.to_json() and KEY not in repr(provider)
    monkeypatch.setenv("MEMBRAIN_API_KEY", "mb_live_fromenv0000")
    loaded = MembrainContextProvider.from_json(provider.to_json())
    assert loaded.config.api_key is None
    assert loaded.config.resolve_api_key() == "mb_live_fromenv0000"
    assert loaded.config.scope == ["topic\\.food"] and loaded.source_id == "membrain"
    with pytest.raises(ValueError, match="Type mismatch"):
        MembraneContextProvider.from_dict(data)
    asyncio.run(provider.aclose())
    asyncio.run(loaded.aclose())


def test_the_bare_package_imports_no_framework() -> None:
    code = (
        "import sys, membrane_integrations, membrane_integrations.agent_framework as af\n"
        "af.MembrainContextConfig(container='x')\n"
        "assert 'agent_framework' not in sys.modules, 'agent_framework imported'\n"
        "assert 'grpc' not in sys.modules, 'grpc imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
