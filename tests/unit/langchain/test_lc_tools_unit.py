"""Membrain tools over an in-memory fake client: arguments, calls made, text, artifact, errors."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, ToolException

from membrane_integrations.core.errors import (
    AuthenticationError,
    BackendTimeoutError,
    ConflictError,
    IngestFailedError,
    IngestTimeoutError,
    InvalidRequestError,
    MalformedResponseError,
    MembraneIntegrationsError,
    NotFoundError,
    QuotaExceededError,
    RateLimitedError,
    ServerError,
)
from membrane_integrations.langchain import MembrainToolkit
from membrane_integrations.langchain._driver import tool_exception
from membrane_integrations.langchain.membrain_tools import (
    MembrainAddTool,
    MembrainSearchTool,
    SearchArgs,
)
from membrane_integrations.membrain.models import (
    CountResult,
    IngestAccepted,
    IngestResult,
    Memory,
    SearchResponse,
    Stats,
)
from tests.unit.langchain.lc_fakes import AsyncFakeMembrain, FakeMembrain

BOB = "^container\\.bob$"


def tools(fake: FakeMembrain, container: str | None = "bob", **kw: Any) -> dict[str, BaseTool]:
    kit = MembrainToolkit(
        client=fake,
        async_client=AsyncFakeMembrain(fake),
        container=container,
        include_graph_tools=True,
        **kw,
    )
    return {tool.name: tool for tool in kit.get_tools()}


def call(tool: BaseTool, **args: Any) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return message


async def acall(tool: BaseTool, **args: Any) -> ToolMessage:
    message = await tool.ainvoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return message


def calls(fake: FakeMembrain, name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    return [(a, k) for n, a, k in fake.calls if n == name]


def test_toolkit_lists_tools_by_option() -> None:
    fake = FakeMembrain()
    names = [t.name for t in MembrainToolkit(client=fake).get_tools()]
    assert names == [
        "membrain_search",
        "membrain_get",
        "membrain_stats",
        "membrain_add",
        "membrain_update",
        "membrain_delete",
        "membrain_unlink",
    ]
    read_only = MembrainToolkit(client=fake, include_write_tools=False).get_tools()
    assert [t.name for t in read_only] == ["membrain_search", "membrain_get", "membrain_stats"]
    assert len(tools(fake)) == 11


def test_toolkit_needs_a_client_and_a_valid_container() -> None:
    with pytest.raises(ValueError, match="client"):
        MembrainToolkit()
    with pytest.raises(InvalidRequestError, match="control characters"):
        MembrainToolkit(client=FakeMembrain(), container="a\nb")


def test_async_client_given_as_client_moves_to_async_client() -> None:
    fake = FakeMembrain()
    fake.seed("User likes tea", ["container.bob"])
    tool = MembrainSearchTool(client=AsyncFakeMembrain(fake))
    assert tool.client is None and tool.async_client is not None
    # invoke derives a sync client from the async one, once, and close() releases it
    for _ in range(2):
        message = call(tool, query="What does the user like?")
        assert message.status == "success" and "User likes tea" in str(message.content)
    assert [c[0] for c in fake.calls].count("to_sync") == 1
    tool.close()
    assert fake.calls[-1][0] == "close"


async def test_sync_only_toolkit_derives_one_async_client_per_loop() -> None:
    fake = FakeMembrain()
    fake.seed("User likes tea", ["container.bob"])
    kit = MembrainToolkit(client=fake, container="bob")
    search, stats = kit.get_tools()[0], kit.get_tools()[2]
    out = await search.ainvoke({"query": "What does the user like?"})
    assert "User likes tea" in out
    assert await stats.ainvoke({}) == "1 memory."
    batch = await search.abatch([{"query": "tea?"}, {"query": "drink?"}])
    assert all("User likes tea" in text for text in batch)
    # the toolkit and all its tools share one pair: one derived client for this loop
    assert [c[0] for c in fake.calls].count("to_async") == 1
    await kit.aclose()
    assert fake.calls[-1][0] == "aclose"


def test_client_without_counterpart_says_what_to_give() -> None:
    class Bare:
        def search(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("not reached")

        def close(self) -> None: ...

    import asyncio

    tool = MembrainSearchTool(client=Bare())
    with pytest.raises(TypeError, match="async_client="):
        asyncio.run(tool.ainvoke({"query": "q"}))


def test_schema_is_model_facing_and_strict() -> None:
    schema = SearchArgs.model_json_schema()
    assert set(schema["properties"]) == {
        "query",
        "k",
        "scope",
        "response_format",
        "rerank",
        "full_scope",
    }
    assert "full" in schema["properties"]["query"]["description"].lower()
    tool = MembrainSearchTool(client=FakeMembrain())
    assert "before answering personal" in tool.description
    assert "Search first" in MembrainAddTool(client=FakeMembrain()).description
    bad = call(tool, query="x", k=500)
    assert bad.status == "error" and "k" in str(bad.content)
    unknown = call(tool, query="x", secret_param=1)
    assert unknown.status == "error"


def test_search_puts_container_filter_first_and_ands_model_patterns() -> None:
    fake = FakeMembrain()
    fake.seed("User likes tea", ["container.bob", "type.preference"])
    message = call(tools(fake)["membrain_search"], query="What does the user drink?", scope=[".*"])
    ((_, kwargs),) = calls(fake, "search")
    assert kwargs["scope"] == [BOB, ".*"]
    assert "User likes tea" in str(message.content)
    assert isinstance(message.artifact, SearchResponse)
    assert message.artifact.nodes[0].content == "User likes tea"


async def test_search_async_uses_the_async_client() -> None:
    fake = FakeMembrain()
    fake.seed("User likes tea", ["container.bob"])
    kit = MembrainToolkit(async_client=AsyncFakeMembrain(fake), container="bob")
    search = kit.get_tools()[0]
    message = await acall(search, query="What does the user drink?", k=3)
    assert "User likes tea" in str(message.content)
    ((_, kwargs),) = calls(fake, "search")
    assert kwargs["k"] == 3 and kwargs["scope"] == [BOB]
    sync_message = call(search, query="q?")  # a sync client is derived for invoke
    assert sync_message.status == "success" and len(calls(fake, "search")) == 2


def test_search_full_scope_without_any_scope_is_rejected_before_sending() -> None:
    fake = FakeMembrain()
    message = call(tools(fake, container=None)["membrain_search"], query="all?", full_scope=True)
    assert message.status == "error" and "full_scope" in str(message.content)
    assert calls(fake, "search") == []


def test_leaky_server_cannot_leak_other_containers_through_search() -> None:
    fake = FakeMembrain(leaky=True)
    mine = fake.seed("Bob likes tea", ["container.bob"])
    other = fake.seed("Bob2 secret", ["container.bob2"])
    fake.link(mine, other, "both drink things")
    message = call(tools(fake)["membrain_search"], query="What do people drink?")
    assert "secret" not in str(message.content)
    artifact = message.artifact
    assert [n.id for n in artifact.nodes] == [mine]
    assert artifact.nodes[0].related_memories == []


def test_search_renders_edges_related_and_trims_to_budget() -> None:
    fake = FakeMembrain()
    ids = [fake.seed(f"Fact number {i} " + "x" * 200, ["container.bob"]) for i in range(20)]
    fake.link(ids[0], ids[1], "same topic")
    message = call(tools(fake, max_chars=600)["membrain_search"], query="What facts?", k=20)
    text = str(message.content)
    assert len(text) <= 700
    assert "trimmed" in text and "lower k" in text
    assert len(message.artifact.results) == 20  # the artifact is never trimmed
    fake.memories.clear()
    a = fake.seed("Alice manages Bob", ["container.bob"])
    b = fake.seed("Bob works on search", ["container.bob"])
    fake.link(a, b, "reporting line")
    text = str(call(tools(fake)["membrain_search"], query="Who manages whom?").content)
    assert f"related {b}: Bob works on search (reporting line)" in text


def test_add_stores_the_container_token_and_reports_id_and_action() -> None:
    fake = FakeMembrain()
    message = call(tools(fake)["membrain_add"], content="User likes tea", scope=["type.preference"])
    ((args, kwargs),) = calls(fake, "add")
    assert args == ("User likes tea",)
    assert kwargs["scope"] == ["container.bob", BOB, "type.preference"]
    assert kwargs["wait"] is True
    assert isinstance(message.artifact, IngestResult)
    assert str(message.content).startswith(f"Stored new memory {message.artifact.memory_id}")


@pytest.mark.parametrize("token", ["container.alice", "CONTAINER.bob2", "container.bob.x"])
def test_add_refuses_other_container_tokens(token: str) -> None:
    fake = FakeMembrain()
    message = call(tools(fake)["membrain_add"], content="x", scope=[token])
    assert message.status == "error" and "reserved" in str(message.content)
    assert calls(fake, "add") == []


async def test_add_timeout_returns_job_id_and_tells_model_to_check_later() -> None:
    fake = FakeMembrain()
    fake.ingest_timeout = True
    for message in (
        call(tools(fake)["membrain_add"], content="User likes tea"),
        await acall(tools(fake)["membrain_add"], content="User likes tea"),
    ):
        assert message.status == "success"
        assert "job-7" in str(message.content) and "Do not add it again" in str(message.content)
        assert message.artifact == IngestAccepted(job_id="job-7", job_status="processing")


def test_get_returns_only_own_memories_and_hides_foreign_ones() -> None:
    fake = FakeMembrain()
    mine = fake.seed("Bob likes tea", ["container.bob"])
    other = fake.seed("Bob2 secret", ["container.bob2"])
    message = call(tools(fake)["membrain_get"], memory_ids=[mine, other, "nope"])
    text = str(message.content)
    assert "Bob likes tea" in text and "secret" not in text
    assert f"Not found: {other}, nope." in text
    assert [m.id for m in message.artifact] == [mine]
    foreign = call(tools(fake)["membrain_get"], memory_ids=[other])
    missing = call(tools(fake)["membrain_get"], memory_ids=["nope"])
    assert foreign.status == missing.status == "error"
    assert str(foreign.content).replace(other, "ID") == str(missing.content).replace("nope", "ID")


def test_update_checks_ownership_and_keeps_the_container_token() -> None:
    fake = FakeMembrain()
    mine = fake.seed("User likes tea", ["container.bob", "type.preference"])
    other = fake.seed("secret", ["container.bob2"])
    message = call(tools(fake)["membrain_update"], memory_id=mine, scope=["type.drink"])
    assert message.artifact.scope == ["container.bob", BOB, "type.drink"]
    refused = call(tools(fake)["membrain_update"], memory_id=other, content="hacked")
    assert refused.status == "error" and "not found" in str(refused.content).lower()
    assert fake.memories[other].content == "secret"
    empty = call(tools(fake)["membrain_update"], memory_id=mine)
    assert empty.status == "error" and "content, scope" in str(empty.content)


def test_delete_by_id_and_bulk_are_confined_to_the_container() -> None:
    fake = FakeMembrain(leaky=False)
    mine = fake.seed("a", ["container.bob", "tmp"])
    fake.seed("b", ["container.bob", "tmp"])
    other = fake.seed("c", ["container.bob2", "tmp"])
    assert call(tools(fake)["membrain_delete"], memory_id=other).status == "error"
    assert other in fake.memories
    message = call(tools(fake)["membrain_delete"], memory_id=mine)
    assert str(message.content) == f"Deleted memory {mine}."
    bulk = call(tools(fake)["membrain_delete"], scope=["^tmp$"])
    ((_, kwargs),) = calls(fake, "delete_bulk")
    assert kwargs["scope"] == [BOB, "^tmp$"]
    assert bulk.artifact.deleted_count == 1 and other in fake.memories
    nothing = call(tools(fake)["membrain_delete"])
    assert nothing.status == "error" and "memory_id" in str(nothing.content)


def test_unlink_needs_both_memories_in_the_container() -> None:
    fake = FakeMembrain()
    a = fake.seed("a", ["container.bob"])
    b = fake.seed("b", ["container.bob"])
    c = fake.seed("c", ["container.bob2"])
    fake.link(a, b)
    fake.link(a, c)
    assert call(tools(fake)["membrain_unlink"], memory_id_1=a, memory_id_2=c).status == "error"
    assert c in fake.links[a]
    ok = call(tools(fake)["membrain_unlink"], memory_id_1=a, memory_id_2=b)
    assert ok.artifact.unlinked and "Removed the link" in str(ok.content)


def test_stats_with_a_container_counts_only_its_memories() -> None:
    fake = FakeMembrain()
    fake.seed("a", ["container.bob"])
    fake.seed("b", ["container.alice"])
    message = call(tools(fake)["membrain_stats"])
    assert message.artifact == CountResult(count=1)
    assert "alice" not in str(message.content)
    ((_, kwargs),) = calls(fake, "count")
    assert kwargs["scope"] == [BOB]
    plain = call(tools(fake, container=None)["membrain_stats"])
    assert isinstance(plain.artifact, Stats) and "2 memories" in str(plain.content)


def test_graph_tools_hide_nodes_of_other_containers() -> None:
    fake = FakeMembrain()
    a = fake.seed("a fact", ["container.bob"])
    x = fake.seed("foreign", ["container.bob2"])
    b = fake.seed("b fact", ["container.bob"])
    fake.link(a, x, "via foreign")
    fake.link(x, b, "via foreign")
    t = tools(fake)
    path = call(t["membrain_graph_path"], from_id=a, to_id=b)
    assert path.artifact.found is False and "foreign" not in str(path.content)
    hood = call(t["membrain_graph_neighborhood"], memory_id=a, hops=2)
    assert {n.id for n in hood.artifact.nodes} == {a, b}
    assert hood.artifact.edges == []
    hubs = call(t["membrain_graph_hubs"], limit=5)
    assert x not in {h.id for h in hubs.artifact.hubs}
    ((args, _),) = calls(fake, "graph_hubs")
    assert args == (100,)
    fake.leaky = True
    walk = call(t["membrain_graph_traverse"], start_memory_id=a, query="How are they linked?")
    assert {m.id for m in walk.artifact.visited} == {a, b}
    assert walk.artifact.visited_count == 2
    ((_, kwargs),) = calls(fake, "graph_traverse")
    assert kwargs["scope"] == [BOB]
    assert call(t["membrain_graph_path"], from_id=a, to_id=x).status == "error"


def test_graph_path_found_within_the_container() -> None:
    fake = FakeMembrain()
    a = fake.seed("a fact", ["container.bob"])
    b = fake.seed("b fact", ["container.bob"])
    fake.link(a, b, "cause")
    path = call(tools(fake)["membrain_graph_path"], from_id=a, to_id=b)
    assert path.artifact.path == [a, b]
    assert f"Path of 1 hop: {a} -> {b}" in str(path.content)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            QuotaExceededError("weekly quota reached", next_weekly_reset_at="2026-12-01"),
            "2026-12-01",
        ),
        (RateLimitedError("slow down", retry_after=3.0), "wait 3 seconds"),
        (AuthenticationError("key mb_live_SECRETKEY123 rejected", status_code=401), "not the user"),
        (ServerError("boom", status_code=502), "retry once later"),
    ],
)
async def test_errors_become_actionable_tool_messages_without_secrets(
    error: Exception, expected: str
) -> None:
    fake = FakeMembrain()
    fake.fail["search"] = error  # type: ignore[assignment]
    t = tools(fake)["membrain_search"]
    for message in (call(t, query="q?"), await acall(t, query="q?")):
        assert message.status == "error"
        assert expected in str(message.content)
        assert "SECRETKEY" not in str(message.content)


def test_errors_raise_tool_exception_when_handling_is_off() -> None:
    fake = FakeMembrain()
    fake.fail["get_many"] = ServerError("boom", status_code=500)
    tool = tools(fake)["membrain_get"]
    tool.handle_tool_error = False
    with pytest.raises(ToolException, match="unavailable"):
        tool.invoke({"memory_ids": ["m1"]})


def test_tool_without_container_does_not_prefetch() -> None:
    fake = FakeMembrain()
    m = fake.seed("x", [])
    call(tools(fake, container=None)["membrain_update"], memory_id=m, content="y")
    assert [n for n, _, _ in fake.calls] == ["update"]
    assert isinstance(fake.memories[m], Memory) and fake.memories[m].content == "y"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NotFoundError("memory 'x' was not found"), "search memory first"),
        (InvalidRequestError("bad scope"), "Fix the arguments"),
        (IngestFailedError("failed", job_id="j", retryable=True), "add the fact again once"),
        (IngestFailedError("failed", job_id="j"), "Do not add the same content"),
        (IngestTimeoutError("slow", job_id="j"), "search later"),
        (ConflictError("changed"), "fetch it again"),
        (MalformedResponseError("garbled"), "answered unexpectedly"),
        (BackendTimeoutError("slow"), "retry once later"),
        (MembraneIntegrationsError("odd"), "Continue without memory"),
    ],
)
def test_every_error_kind_has_advice(error: MembraneIntegrationsError, expected: str) -> None:
    text = str(tool_exception(error))
    assert text.startswith("Memory error (")
    assert expected in text
