"""MembrainMemory over the real async client and an in-memory Membrain (no sockets)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_core import CancellationToken
from autogen_core.memory import Memory, MemoryContent, MemoryMimeType
from autogen_core.model_context import UnboundedChatCompletionContext
from autogen_core.models import SystemMessage, UserMessage
from autogen_ext.models.replay import ReplayChatCompletionClient
from pydantic import SecretStr

from membrane_integrations.autogen import MembrainMemory, MembrainMemoryConfig
from membrane_integrations.core.errors import (
    AddOutcomeUnknownError,
    InvalidRequestError,
    ServerError,
)
from membrane_integrations.membrain._add_token import is_add_token
from membrane_integrations.membrain.recall import pool_size
from membrane_integrations.membrain.tenancy import container_write_tokens

from .autogen_fake_membrain import API_KEY, FakeMembrain

MakeMemory = Callable[..., MembrainMemory]


def _text(value: str, **metadata: object) -> MemoryContent:
    return MemoryContent(content=value, mime_type=MemoryMimeType.TEXT, metadata=metadata or None)


async def test_add_stores_the_container_token_first_and_metadata_as_tokens(
    fake: FakeMembrain, make_memory: MakeMemory
) -> None:
    memory = make_memory("bob", category="notes")
    await memory.add(_text("Bob drinks green tea", type="preference"))
    await memory.add(
        MemoryContent(
            content={"diet": "vegan", "city": "Zürich"},
            mime_type=MemoryMimeType.JSON,
            metadata={"category": "profile"},
        )
    )
    first, second = fake.json_bodies("/api/v1/memories")
    for body in (first, second):  # the client's add token comes last (membrain/_add_token.py)
        assert is_add_token(body["scope"].pop())
    assert first == {
        "content": "Bob drinks green tea",
        "scope": [*container_write_tokens("bob"), "type.preference"],
        "category": "notes",
    }
    assert second["content"] == '{"diet": "vegan", "city": "Zürich"}'
    assert second["scope"] == [*container_write_tokens("bob"), "mime.json"]
    assert second["category"] == "profile"


async def test_query_returns_items_with_id_and_score_and_restores_json(
    fake: FakeMembrain, make_memory: MakeMemory
) -> None:
    memory = make_memory("bob")
    await memory.add(_text("Bob drinks green tea"))
    await memory.add(MemoryContent(content={"diet": "vegan"}, mime_type=MemoryMimeType.JSON))
    result = await memory.query("what tea does bob drink", limit=1)
    assert len(result.results) == 1
    top = result.results[0]
    assert top.content == "Bob drinks green tea"
    assert top.metadata is not None
    assert top.metadata["id"] == "m1"
    assert top.metadata["score"] > 0
    json_hit = await memory.query(MemoryContent(content="vegan diet", mime_type="text/plain"))
    restored = [r for r in json_hit.results if r.mime_type == MemoryMimeType.JSON]
    assert restored[0].content == {"diet": "vegan"}


async def test_query_sends_the_container_filter_first_then_the_extra_patterns(
    fake: FakeMembrain, make_memory: MakeMemory
) -> None:
    memory = make_memory("a.b", scope=["type\\.preference"], k=3)
    await memory.query("anything", scope=["time\\.week\\..*"])
    (body,) = fake.json_bodies("/api/v1/memories/search")
    assert body["scope"] == ["^container\\.a\\.b$", "type\\.preference", "time\\.week\\..*"]
    # a reranked pool of memory nodes to choose the 3 from (membrain.recall)
    assert body["k"] == pool_size(3) and body["rerank"] is True


@pytest.mark.parametrize("pair", [("bob", "bob2"), ("a.b", "axb"), ("bob", "BOB2")])
async def test_two_containers_are_isolated_for_query_and_clear(
    fake: FakeMembrain, make_memory: MakeMemory, pair: tuple[str, str]
) -> None:
    mine, theirs = make_memory(pair[0]), make_memory(pair[1])
    await mine.add(_text("secret plan of the first tenant"))
    await theirs.add(_text("secret plan of the second tenant"))

    mine_hits = await mine.query("secret plan tenant", limit=10)
    theirs_hits = await theirs.query("secret plan tenant", limit=10)
    assert [r.content for r in mine_hits.results] == ["secret plan of the first tenant"]
    assert [r.content for r in theirs_hits.results] == ["secret plan of the second tenant"]

    await mine.clear()
    assert (await mine.query("secret plan tenant")).results == []
    assert len((await theirs.query("secret plan tenant")).results) == 1
    (params,) = [r.url.params.get_list("scope") for r in fake.requests if r.method == "DELETE"]
    assert len(params) == 1 and params[0].startswith("^container\\.") and params[0].endswith("$")


async def test_a_hit_without_our_container_token_is_never_shown(
    fake: FakeMembrain, make_memory: MakeMemory
) -> None:
    fake.extra_hits = [
        {"type": "memory_node", "id": "x", "content": "foreign", "scope": ["container.bob2"]}
    ]
    memory = make_memory("bob")
    await memory.add(_text("own memory"))
    assert [r.content for r in (await memory.query("own memory")).results] == ["own memory"]


async def test_metadata_cannot_write_into_another_container(make_memory: MakeMemory) -> None:
    memory = make_memory("bob")
    with pytest.raises(InvalidRequestError, match="another container"):
        await memory.add(_text("x", scope=["container.alice"]))
    with pytest.raises(InvalidRequestError, match="reserved"):
        await memory.add(_text("x", container="alice"))


async def test_on_error_raise_is_the_default(fake: FakeMembrain, make_memory: MakeMemory) -> None:
    memory = make_memory("bob")
    fake.fail_status = 500
    with pytest.raises(ServerError) as caught:
        await memory.query("tea")
    assert API_KEY not in str(caught.value)
    with pytest.raises(ServerError):
        await memory.update_context(_context("tea?"))


async def test_on_error_empty_logs_a_warning_without_the_key(
    fake: FakeMembrain, make_memory: MakeMemory, caplog: pytest.LogCaptureFixture
) -> None:
    memory = make_memory("bob", on_error="empty", wait_timeout=0.2)
    fake.fail_status = 503
    caplog.set_level(logging.DEBUG)
    assert (await memory.query("tea")).results == []
    context = _context("tea?")
    result = await memory.update_context(context)
    assert result.memories.results == []
    assert len(await context.get_messages()) == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "on_error='empty'" in warnings[0].getMessage()
    assert all(API_KEY not in r.getMessage() for r in caplog.records)
    # add and clear raise whatever on_error says; invalid input raises too.
    with pytest.raises(AddOutcomeUnknownError) as unknown:  # the create and its lookup got 503s
        await memory.add(_text("x"))
    assert isinstance(unknown.value.__cause__, ServerError)
    with pytest.raises(ServerError):
        await memory.clear()
    with pytest.raises(InvalidRequestError):
        await memory.query("   ")


async def test_cancelling_the_token_cancels_the_request_in_flight(
    fake: FakeMembrain, make_memory: MakeMemory
) -> None:
    memory = make_memory("bob")
    fake.gate = asyncio.Event()
    token = CancellationToken()
    query = asyncio.create_task(memory.query("tea", cancellation_token=token))
    await asyncio.wait_for(fake.entered.wait(), timeout=5)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(query, timeout=5)
    assert fake.cancelled


async def test_an_already_cancelled_token_sends_nothing(
    fake: FakeMembrain, make_memory: MakeMemory
) -> None:
    memory = make_memory("bob")
    token = CancellationToken()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await memory.add(_text("x"), cancellation_token=token)
    assert fake.requests == []


async def test_unknown_query_arguments_are_refused(make_memory: MakeMemory) -> None:
    memory = make_memory("bob")
    with pytest.raises(InvalidRequestError, match="unknown query argument"):
        await memory.query("tea", top_p=3)
    with pytest.raises(InvalidRequestError, match="limit"):
        await memory.query("tea", limit=0)


def _context(text: str) -> UnboundedChatCompletionContext:
    return UnboundedChatCompletionContext(initial_messages=[UserMessage(content=text, source="u")])


async def test_update_context_adds_one_numbered_deduplicated_system_message(
    make_memory: MakeMemory,
) -> None:
    memory = make_memory("bob", max_context_chars=200, context_header="Memories:")
    for text in ("Bob drinks green tea", "bob drinks  GREEN tea", "Bob likes tea at noon"):
        await memory.add(_text(text))
    await memory.add(_text("tea " * 100))
    context = _context("which tea does bob drink")
    result = await memory.update_context(context)
    messages = await context.get_messages()
    assert len(messages) == 2
    system = messages[-1]
    assert isinstance(system, SystemMessage)
    assert system.content.startswith("Memories:\n1. ")
    assert len(system.content) <= 200
    lines = system.content.splitlines()[1:]
    assert [line.split(". ", 1)[0] for line in lines] == [str(i) for i in range(1, len(lines) + 1)]
    assert sum("green tea" in line.lower() for line in lines) == 1
    assert len(result.memories.results) == len(lines)


async def test_update_context_without_a_user_message_does_nothing(
    fake: FakeMembrain, make_memory: MakeMemory
) -> None:
    memory = make_memory("bob")
    context = UnboundedChatCompletionContext(initial_messages=[SystemMessage(content="sys")])
    assert (await memory.update_context(context)).memories.results == []
    assert fake.requests == []


async def test_assistant_agent_model_call_receives_the_memories(make_memory: MakeMemory) -> None:
    memory = make_memory("bob")
    await memory.add(_text("Bob is allergic to peanuts", type="health"))
    await memory.add(_text("Bob prefers answers in French"))
    model = ReplayChatCompletionClient(["Noted."])
    agent = AssistantAgent("assistant", model_client=model, memory=[memory])
    result = await agent.run(task="Can Bob eat peanuts?")
    assert result.messages[-1].to_text() == "Noted."
    (call,) = model.create_calls
    systems = [m for m in call["messages"] if isinstance(m, SystemMessage)]
    assert any("1. Bob is allergic to peanuts" in str(m.content) for m in systems)
    events = [m for m in result.messages if m.type == "MemoryQueryEvent"]
    assert events, "the agent should report the memory query"


def test_dump_and_load_round_trip_without_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    config = MembrainMemoryConfig(
        container="a.b",
        base_url="http://127.0.0.1:9",
        api_key=SecretStr(API_KEY),
        scope=["type\\.preference"],
        on_error="empty",
        max_context_chars=900,
    )
    memory = MembrainMemory(config)
    dumped = memory.dump_component()
    assert dumped.provider == "membrane_integrations.autogen.MembrainMemory"
    assert API_KEY not in dumped.model_dump_json()
    assert "api_key" not in dumped.config
    assert API_KEY not in repr(memory) and API_KEY not in repr(memory.config)

    monkeypatch.setenv("MEMBRAIN_API_KEY", "mb_test_from_env_0002")
    loaded = Memory.load_component(dumped.model_dump(mode="json"))
    assert isinstance(loaded, MembrainMemory)
    assert loaded.config.model_dump() == config.model_dump()
    assert loaded.config.resolve_api_key() == "mb_test_from_env_0002"
    assert loaded.dump_component().model_dump() == dumped.model_dump()


def test_container_ids_are_validated() -> None:
    with pytest.raises(ValueError, match="container"):
        MembrainMemoryConfig(container="bob\nalice")
    with pytest.raises(ValueError, match="pattern"):
        MembrainMemoryConfig(container="bob", scope=["(?P<x>a)"])
