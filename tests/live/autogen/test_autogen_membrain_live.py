"""MembrainMemory against the real emulator on 127.0.0.1 (a real HTTP server, real search)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_core import CancellationToken
from autogen_core.memory import Memory, MemoryContent, MemoryMimeType
from autogen_core.model_context import UnboundedChatCompletionContext
from autogen_core.models import SystemMessage, UserMessage
from autogen_ext.models.replay import ReplayChatCompletionClient
from pydantic import SecretStr

from membrane_integrations.autogen import MembrainMemory, MembrainMemoryConfig
from membrane_integrations.core.errors import InvalidRequestError, ServerError
from membrane_integrations.langchain import MembrainRetriever
from membrane_integrations.membrain import MembrainClient

pytestmark = pytest.mark.live

emulator_module = pytest.importorskip("membrane_integrations.emulator")


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    with emulator_module.MembrainEmulator(fault_injection=True) as emu:
        yield emu


@pytest.fixture
async def make_memory(emulator: Any) -> AsyncIterator[Callable[..., MembrainMemory]]:
    emulator.set_faults()
    memories: list[MembrainMemory] = []

    def build(container: str, **settings: Any) -> MembrainMemory:
        config = MembrainMemoryConfig(
            container=container,
            base_url=emulator.url,
            api_key=SecretStr(emulator.api_key),
            **settings,
        )
        memory = MembrainMemory(config)
        memories.append(memory)
        return memory

    yield build
    emulator.set_faults()
    for memory in memories:
        await memory.clear()
        await memory.close()


def _text(value: str, **metadata: Any) -> MemoryContent:
    return MemoryContent(content=value, mime_type=MemoryMimeType.TEXT, metadata=metadata or None)


async def test_add_query_update_context_and_clear(
    make_memory: Callable[..., MembrainMemory],
) -> None:
    memory = make_memory("live-alice", context_header="Memories:")
    await memory.add(_text("Alice drinks oolong tea every morning", type="preference"))
    await memory.add(
        MemoryContent(
            content={"allergy": "peanuts", "severity": "high"},
            mime_type=MemoryMimeType.JSON,
            metadata={"category": "health"},
        )
    )
    await memory.add(MemoryContent(content="# Trips\n- Kyoto in May", mime_type="text/markdown"))

    hits = await memory.query("what tea does Alice drink in the morning", limit=3)
    assert hits.results, "the emulator should find the tea memory"
    for item in hits.results:
        assert item.metadata is not None
        assert isinstance(item.metadata["id"], str) and item.metadata["id"]
        assert isinstance(item.metadata["score"], float)
        assert "container.live-alice" in item.metadata["scope"]
    by_mime = {item.mime_type: item for item in (await memory.query("allergy", limit=5)).results}
    assert by_mime[MemoryMimeType.JSON].content == {"allergy": "peanuts", "severity": "high"}
    assert by_mime[MemoryMimeType.JSON].metadata["category"] == "health"  # type: ignore[index]
    trips = (await memory.query("trips to kyoto", limit=1)).results
    assert [(t.content, t.mime_type) for t in trips] == [
        ("# Trips\n- Kyoto in May", MemoryMimeType.MARKDOWN)
    ]

    context = UnboundedChatCompletionContext(
        initial_messages=[UserMessage(content="Which tea for Alice?", source="user")]
    )
    result = await memory.update_context(context)
    system = (await context.get_messages())[-1]
    assert isinstance(system, SystemMessage)
    assert system.content.startswith("Memories:\n1. ")
    assert "oolong" in system.content
    assert len(result.memories.results) == len(system.content.splitlines()) - 1

    await memory.clear()
    assert (await memory.query("tea allergy trips", limit=10)).results == []


async def test_containers_are_isolated_on_the_server(
    make_memory: Callable[..., MembrainMemory],
) -> None:
    names = ["bob", "bob2", "a.b", "axb"]
    memories = {name: make_memory(name) for name in names}
    for name, memory in memories.items():
        await memory.add(_text(f"the launch code of tenant {name} is hidden here"))
    for name, memory in memories.items():
        hits = await memory.query("launch code of tenant", limit=10)
        assert [h.content for h in hits.results] == [
            f"the launch code of tenant {name} is hidden here"
        ]
    await memories["bob"].clear()
    await memories["a.b"].clear()
    assert (await memories["bob"].query("launch code", limit=10)).results == []
    assert len((await memories["bob2"].query("launch code", limit=10)).results) == 1
    assert len((await memories["axb"].query("launch code", limit=10)).results) == 1


@pytest.mark.parametrize(
    "metadata",
    [
        {"CONTAINER": "alice"},  # issue 13: the key compared case-sensitively let this through
        {"Container": "alice"},
        {"\u212aey": "x", "cONTAINER": ["alice"]},
        {"scope": ["CONTAINER.alice"]},
        {"scope": ["^Container\\.alice$"]},
        {"scope": ["\uff43ontainer.alice"]},  # fullwidth c: NFKC folds it to c
    ],
)
async def test_bob_cannot_write_into_alices_container_through_metadata(
    make_memory: Callable[..., MembrainMemory], metadata: dict[str, Any]
) -> None:
    """Issue 13: Bob's add naming ``alice`` in metadata is refused; Alice's reads see nothing."""
    bob, alice = make_memory("bob"), make_memory("alice")
    with pytest.raises(InvalidRequestError) as refused:
        await bob.add(_text("Bob secret", **metadata))
    assert refused.value.field is not None and refused.value.field.startswith("metadata")
    assert (await alice.query("secret", limit=10)).results == []
    with MembrainClient(emulator_api_key(bob), base_url=bob.config.base_url) as client:
        assert MembrainRetriever(client=client, container="alice").invoke("Bob secret") == []
    assert (await bob.query("secret", limit=10)).results == []  # nothing was stored at all


def emulator_api_key(memory: MembrainMemory) -> str:
    key = memory.config.api_key
    assert key is not None
    return key.get_secret_value()


async def test_assistant_agent_sees_the_memories_in_its_model_call(
    make_memory: Callable[..., MembrainMemory],
) -> None:
    memory = make_memory("live-carol")
    await memory.add(_text("Carol is vegetarian and avoids fish", type="diet"))
    model = ReplayChatCompletionClient(["Suggesting a lentil curry."])
    agent = AssistantAgent("chef", model_client=model, memory=[memory])
    result = await agent.run(task="Plan a dinner for Carol; she is vegetarian")
    assert result.messages[-1].to_text() == "Suggesting a lentil curry."
    (call,) = model.create_calls
    injected = [str(m.content) for m in call["messages"] if isinstance(m, SystemMessage)]
    assert any("1. Carol is vegetarian and avoids fish" in text for text in injected)


async def test_dumped_component_loads_and_reads_the_same_container(
    make_memory: Callable[..., MembrainMemory], emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = make_memory("live-dave", k=2)
    await memory.add(_text("Dave's favourite colour is teal"))
    dumped = memory.dump_component()
    assert emulator.api_key not in dumped.model_dump_json()

    monkeypatch.setenv("MEMBRAIN_API_KEY", emulator.api_key)
    loaded = Memory.load_component(dumped)
    try:
        hits = await loaded.query("favourite colour")
        assert [h.content for h in hits.results] == ["Dave's favourite colour is teal"]
    finally:
        await loaded.close()


async def test_on_error_empty_survives_server_errors(
    make_memory: Callable[..., MembrainMemory], emulator: Any
) -> None:
    strict = make_memory("live-erin", max_retries=0)
    lenient = make_memory("live-erin", max_retries=0, on_error="empty")
    emulator.set_faults(error_rate=1.0, paths=["/api/v1/memories/search"])
    with pytest.raises(ServerError):
        await strict.query("anything")
    assert (await lenient.query("anything")).results == []


async def test_cancelling_the_token_cancels_the_delayed_request(emulator: Any) -> None:
    emulator.set_faults(delay_rate=1.0, delay_ms=10_000, paths=["/api/v1/memories/search"])
    sent = asyncio.Event()
    answered: list[int] = []

    async def on_request(request: httpx.Request) -> None:
        sent.set()

    async def on_response(response: httpx.Response) -> None:
        answered.append(response.status_code)

    http = httpx.AsyncClient(event_hooks={"request": [on_request], "response": [on_response]})
    client = emulator.async_client(http_client=http, max_retries=0)
    memory = MembrainMemory(MembrainMemoryConfig(container="live-frank"), client=client)
    token = CancellationToken()
    try:
        task = asyncio.create_task(memory.query("slow", cancellation_token=token))
        await asyncio.wait_for(sent.wait(), timeout=5)
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
        assert answered == []
    finally:
        emulator.set_faults()
        await http.aclose()
