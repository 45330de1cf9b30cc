"""MembraneMemory over real gRPC against a fresh real membraned per test.

What the daemon stored is read back from the daemon itself (types, scopes, salience, audit
trail). Two tests keep the in-process TEST DOUBLE: an injected UNAVAILABLE (``fail_next``) and a
call held in flight to cancel it (``hold``), which a real daemon cannot do on demand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("grpc")

import grpc
from autogen_agentchat.agents import AssistantAgent
from autogen_core import CancellationToken
from autogen_core.memory import Memory, MemoryContent, MemoryMimeType
from autogen_core.model_context import UnboundedChatCompletionContext
from autogen_core.models import SystemMessage, UserMessage
from autogen_ext.models.replay import ReplayChatCompletionClient
from pydantic import SecretStr

from membrane_integrations.autogen import MembraneMemory, MembraneMemoryConfig
from membrane_integrations.core.errors import MembraneIntegrationsError
from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrane import (
    AsyncMembraneClient,
    AuditAction,
    MemoryRecord,
    MemoryType,
    Sensitivity,
    TrustContext,
)
from tests.support.membrane_double import MembraneDouble
from tests.support.membraned import Membraned, require_daemon

pytestmark = pytest.mark.live

API_KEY = "membrane-autogen-test-key-42"
NO_RETRIES = RetryPolicy(max_retries=0, initial_backoff=0.0, jitter=0.0)


@pytest.fixture
def double() -> Iterator[MembraneDouble]:
    with MembraneDouble(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon(), api_key=API_KEY) as server:
        yield server


async def _stored(daemon: Membraned, *scopes: str) -> list[MemoryRecord]:
    """Every record of ``scopes`` as the daemon holds it (highest trust, salience 0 included)."""
    trust = TrustContext(max_sensitivity=Sensitivity.HYPER, scopes=list(scopes))
    async with AsyncMembraneClient(daemon.addr, api_key=API_KEY) as client:
        return await client.retrieve("", trust=trust, limit=1000)


@pytest.fixture
async def make_memory(daemon: Membraned) -> AsyncIterator[Callable[..., MembraneMemory]]:
    memories: list[MembraneMemory] = []

    def build(container: str, **settings: Any) -> MembraneMemory:
        config = MembraneMemoryConfig(
            container=container, addr=daemon.addr, api_key=SecretStr(API_KEY), **settings
        )
        memory = MembraneMemory(config)
        memories.append(memory)
        return memory

    yield build
    for memory in memories:
        await memory.close()


def _text(value: str, **metadata: Any) -> MemoryContent:
    return MemoryContent(content=value, mime_type=MemoryMimeType.TEXT, metadata=metadata or None)


async def test_each_kind_is_stored_and_read_back(
    make_memory: Callable[..., MembraneMemory], daemon: Membraned
) -> None:
    memory = make_memory("bob")
    await memory.add(_text("green tea", predicate="prefers", topic="drinks"))
    await memory.add(MemoryContent(content={"diet": "vegan"}, mime_type=MemoryMimeType.JSON))
    await memory.add(_text("deployed the app", kind="event", event_kind="deploy"))
    await memory.add(
        MemoryContent(
            content={"passed": 42},
            mime_type=MemoryMimeType.JSON,
            metadata={"kind": "tool_output", "tool_name": "run_tests", "args": {"suite": "a"}},
        )
    )
    await memory.add(_text("writing the report", kind="working_state", state="executing"))

    stored = await _stored(daemon, "bob")
    kinds = sorted(
        (r.type.value, type(r.payload).__name__ if r.payload is not None else "") for r in stored
    )
    # two observations (semantic), an event and a tool output (episodic), one working state
    assert [k for k, _ in kinds] == ["episodic", "episodic", "semantic", "semantic", "working"]
    tool = [r for r in stored if r.type is MemoryType.EPISODIC and r.payload.tool_graph]  # type: ignore[union-attr]
    assert len(tool) == 1 and tool[0].payload.tool_graph[0].tool == "run_tests"  # type: ignore[union-attr]
    assert all(r.scope == "bob" for r in stored)
    stored_ids = {r.id for r in stored}

    items = (await memory.query("anything", limit=10)).results
    by_kind = {item.metadata["kind"]: item for item in items if item.metadata}  # type: ignore[index]
    assert set(by_kind) == {"observation", "event", "tool_output", "working_state"}
    contents = [item.content for item in items]
    assert "user prefers green tea" in contents
    assert {"diet": "vegan"} in contents
    assert by_kind["event"].content == "deployed the app"
    assert by_kind["tool_output"].content == {"passed": 42}
    assert by_kind["tool_output"].metadata["tool_name"] == "run_tests"  # type: ignore[index]
    assert by_kind["working_state"].content == "writing the report"
    for item in items:
        assert item.metadata is not None
        assert item.metadata["id"] in stored_ids
        assert 0 < item.metadata["score"] <= 1
    tagged = [i for i in items if "topic.drinks" in (i.metadata or {}).get("tags", [])]
    assert len(tagged) == 1


async def test_metadata_sensitivity_raises_the_floor_and_never_lowers_it(
    make_memory: Callable[..., MembraneMemory], daemon: Membraned
) -> None:
    memory = make_memory("carol", default_sensitivity="medium", max_sensitivity="hyper")
    await memory.add(_text("asks for less", sensitivity="public"))
    await memory.add(_text("asks for more", sensitivity="high"))
    await memory.add(_text("asks for nothing"))
    stored = {str(r.payload.object): r.sensitivity for r in await _stored(daemon, "carol")}  # type: ignore[union-attr]
    assert stored == {
        "asks for less": Sensitivity.MEDIUM,
        "asks for more": Sensitivity.HIGH,
        "asks for nothing": Sensitivity.MEDIUM,
    }


async def test_containers_unscoped_and_redacted_records_are_not_shown(
    make_memory: Callable[..., MembraneMemory], daemon: Membraned
) -> None:
    memories = {name: make_memory(name) for name in ("bob", "bob2", "a.b")}
    for name, memory in memories.items():
        await memory.add(_text(f"secret of {name}"))
    async with AsyncMembraneClient(daemon.addr, api_key=API_KEY) as client:
        # Visible to every trust scope on the daemon: unscoped, and one level above (redacted).
        await client.ingest_observation("x", "is", "unscoped gossip", scope="")
        await client.ingest_observation("x", "is", "too sensitive", scope="bob", sensitivity="high")
        await client.ingest_observation("x", "is", "other high", scope="bob2", sensitivity="high")
    for name, memory in memories.items():
        contents = [i.content for i in (await memory.query("secret", limit=10)).results]
        assert contents == [f"secret of {name}"]


async def test_clear_retracts_and_zeroes_only_this_container(
    make_memory: Callable[..., MembraneMemory], daemon: Membraned
) -> None:
    mine, theirs = make_memory("bob"), make_memory("bob2")
    await mine.add(_text("a fact"))
    await mine.add(_text("an event", kind="event"))
    await mine.add(_text("a thread", kind="working_state"))
    await theirs.add(_text("their fact"))
    await mine.clear()
    assert (await mine.query("anything", limit=10)).results == []
    assert [i.content for i in (await theirs.query("anything")).results] == ["their fact"]
    everything = await _stored(daemon, "bob", "bob2")
    assert len(everything) == 4
    for record in everything:
        assert (record.salience == 0) == (record.scope == "bob")
    # the two semantic-or-working records were retracted, the immutable event penalised
    last = sorted(
        (r.type.value, r.audit_log[-1].action, r.audit_log[-1].rationale)
        for r in everything
        if r.scope == "bob"
    )
    assert [(t, a) for t, a, _ in last] == [
        ("episodic", AuditAction.DECAY),
        ("semantic", AuditAction.DELETE),
        ("working", AuditAction.DELETE),
    ]
    assert all("cleared by MembraneMemory for container 'bob'" in why for *_, why in last)


async def test_update_context_and_assistant_agent(
    make_memory: Callable[..., MembraneMemory],
) -> None:
    memory = make_memory("carol", context_header="Memories:")
    await memory.add(_text("vegetarian", predicate="is"))
    await memory.add(_text("vegetarian", predicate="is"))
    context = UnboundedChatCompletionContext(
        initial_messages=[UserMessage(content="dinner idea?", source="user")]
    )
    result = await memory.update_context(context)
    system = (await context.get_messages())[-1]
    assert isinstance(system, SystemMessage)
    assert system.content == "Memories:\n1. user is vegetarian"
    assert len(result.memories.results) == 1

    model = ReplayChatCompletionClient(["Lentil curry."])
    agent = AssistantAgent("chef", model_client=model, memory=[memory])
    await agent.run(task="Plan a dinner for Carol")
    (call,) = model.create_calls
    injected = [str(m.content) for m in call["messages"] if isinstance(m, SystemMessage)]
    assert any("1. user is vegetarian" in text for text in injected)


async def test_dump_and_load_round_trip_without_the_key(
    make_memory: Callable[..., MembraneMemory], monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = make_memory("dave", default_kind="event", max_sensitivity="high")
    await memory.add(_text("dave logged in"))
    dumped = memory.dump_component()
    assert dumped.provider == "membrane_integrations.autogen.MembraneMemory"
    assert API_KEY not in dumped.model_dump_json()
    assert API_KEY not in repr(memory) and API_KEY not in repr(memory.config)
    monkeypatch.setenv("MEMBRANE_API_KEY", API_KEY)
    loaded = Memory.load_component(dumped)
    try:
        assert isinstance(loaded, MembraneMemory)
        assert loaded.config.default_kind == "event"
        hits = await loaded.query("login")
        assert [h.content for h in hits.results] == ["dave logged in"]
    finally:
        await loaded.close()


async def test_missing_key_is_an_authentication_error_without_the_key(
    daemon: Membraned, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEMBRANE_API_KEY", raising=False)
    memory = MembraneMemory(MembraneMemoryConfig(container="eve", addr=daemon.addr))
    try:
        with pytest.raises(MembraneIntegrationsError) as caught:
            await memory.add(_text("x"))
        assert caught.value.grpc_code == "UNAUTHENTICATED"
    finally:
        await memory.close()


async def test_on_error_empty_and_raise(double: MembraneDouble) -> None:
    async with AsyncMembraneClient(double.addr, api_key=API_KEY, retry_policy=NO_RETRIES) as client:
        lenient = MembraneMemory(
            MembraneMemoryConfig(container="erin", on_error="empty"), client=client
        )
        strict = MembraneMemory(MembraneMemoryConfig(container="erin"), client=client)
        double.fail_next("Retrieve", grpc.StatusCode.UNAVAILABLE, times=2)
        assert (await lenient.query("x")).results == []
        with pytest.raises(MembraneIntegrationsError):
            await strict.query("x")
        double.fail_next("IngestObservation", grpc.StatusCode.UNAVAILABLE)
        with pytest.raises(MembraneIntegrationsError):
            await lenient.add(_text("x"))


async def test_cancelling_the_token_cancels_the_call(double: MembraneDouble) -> None:
    release = double.hold("Retrieve")
    async with AsyncMembraneClient(double.addr, api_key=API_KEY) as client:
        memory = MembraneMemory(MembraneMemoryConfig(container="frank"), client=client)
        token = CancellationToken()
        task = asyncio.create_task(memory.query("slow", cancellation_token=token))
        deadline = time.monotonic() + 5
        while not double.calls_of("Retrieve"):
            assert time.monotonic() < deadline, "the call never reached the double"
            await asyncio.sleep(0.01)
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
        release.set()
