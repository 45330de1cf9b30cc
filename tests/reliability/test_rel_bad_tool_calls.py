# ruff: noqa: E501  (one row per line keeps the table of cases readable)
"""A model's malformed tool calls against live Membrain tools: each answered with an error
``ToolMessage`` the model can act on (a validation message, or the typed error's text), never a
traceback, and nothing written on the emulator. Run through ``invoke`` and ``ainvoke``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import (
    MembrainAddTool,
    MembrainDeleteTool,
    MembrainGetTool,
    MembrainGraphNeighborhoodTool,
    MembrainSearchTool,
    MembrainUpdateTool,
)
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient

pytestmark = pytest.mark.live

KEY = "emu-rel-tool-calls"
VALIDATION = "Invalid tool arguments: "

ROWS = [
    ("add", {}, VALIDATION + "content: Field required"),
    ("add", {"content": 42}, VALIDATION + "content: Input should be a valid string"),
    ("add", {"content": ["a", "b"]}, VALIDATION + "content: Input should be a valid string"),
    ("add", {"content": ""}, VALIDATION + "content: String should have at least 1 character"),
    ("add", {"content": "x" * 20_001}, VALIDATION + "content: String should have at most 20000"),
    ("add", {"content": "User keeps bees", "scope": "type.hobby"}, VALIDATION + "scope: Input should be a valid list"),
    ("add", {"content": "User keeps bees", "scope": [1, 2]}, VALIDATION + "scope.0: Input should be a valid string"),
    ("add", {"content": "User keeps bees", "scope": [f"t.{i}" for i in range(60)]}, "Memory error (InvalidRequest): scope has"),
    ("add", {"content": "User keeps bees", "scope": ["container.alice"]}, "Memory error (InvalidRequest): scope token 'container.alice' is reserved"),
    ("add", {"content": "User keeps bees", "memory_id": "m1"}, VALIDATION + "memory_id: Extra inputs are not permitted"),
    ("search", {"query": ""}, VALIDATION + "query: String should have at least 1 character"),
    ("search", {"query": "q", "k": 0}, VALIDATION + "k: Input should be greater than or equal to 1"),
    ("search", {"query": "q", "k": 101}, VALIDATION + "k: Input should be less than or equal to 100"),
    ("search", {"query": "q", "k": "many"}, VALIDATION + "k: Input should be a valid integer"),
    ("search", {"query": "q", "scope": ["("]}, "Memory error (InvalidRequest): invalid scope pattern '('"),
    ("search", {"query": "q", "response_format": "xml"}, VALIDATION + "response_format: Input should be"),
    ("get", {"memory_ids": "m1"}, VALIDATION + "memory_ids: Input should be a valid list"),
    ("get", {"memory_ids": ["no-such-memory"]}, "Memory error (NotFound): memory 'no-such-memory' was not found"),
    ("update", {"memory_id": "no-such-memory", "content": "x"}, "Memory error (NotFound)"),
    ("delete", {"memory_id": "no-such-memory"}, "Memory error (NotFound)"),
    ("get", {"memory_ids": ["FOREIGN"]}, "Memory error (NotFound)"),
    ("update", {"memory_id": "FOREIGN", "content": "overwritten"}, "Memory error (NotFound)"),
    ("delete", {"memory_id": "FOREIGN"}, "Memory error (NotFound)"),
    ("neighborhood", {"memory_id": "m1", "hops": 9}, VALIDATION + "hops: Input should be less than or equal to 5"),
]  # fmt: skip


@pytest.fixture(scope="module")
def emu() -> Iterator[MembrainEmulator]:
    with MembrainEmulator(api_keys=[KEY]) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def sync_client(emu: MembrainEmulator) -> Iterator[MembrainClient]:
    with MembrainClient(KEY, base_url=emu.url) as client:
        yield client


@pytest.fixture(scope="module")
def foreign(sync_client: MembrainClient) -> str:
    """A memory of another container under the same key, which no tool may touch."""
    return sync_client.add("Another user's fact", scope=["container.alice"]).memory_id


@pytest.fixture
async def tools(
    emu: MembrainEmulator, sync_client: MembrainClient
) -> AsyncIterator[dict[str, Any]]:
    # an async client belongs to one event loop, and each test has its own loop
    async with AsyncMembrainClient(KEY, base_url=emu.url) as aclient:
        common: dict[str, Any] = {
            "client": sync_client,
            "async_client": aclient,
            "container": "rel-bob",
        }
        yield {
            "add": MembrainAddTool(**common),
            "search": MembrainSearchTool(**common),
            "get": MembrainGetTool(**common),
            "update": MembrainUpdateTool(**common),
            "delete": MembrainDeleteTool(**common),
            "neighborhood": MembrainGraphNeighborhoodTool(**common),
        }


def _state(emu: MembrainEmulator) -> list[dict[str, Any]]:
    assert emu.engine.wait_idle()
    tenant = emu.engine.tenant_id(KEY)
    return [emu.engine.get(tenant, n["id"]) for n in emu.engine.graph_export(tenant)["nodes"]]


def _foreign(value: Any, memory_id: str) -> Any:
    if value == "FOREIGN":
        return memory_id
    if value == ["FOREIGN"]:
        return [memory_id]
    return value


def test_the_table_covers_every_kind_of_mistake() -> None:
    assert len(ROWS) >= 20


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize(("tool", "args", "says"), ROWS)
async def test_a_bad_tool_call_is_an_error_message_and_writes_nothing(
    emu: MembrainEmulator,
    tools: dict[str, Any],
    foreign: str,
    mode: str,
    tool: str,
    args: dict[str, Any],
    says: str,
) -> None:
    before = _state(emu)
    target = tools[tool]
    args = {k: _foreign(v, foreign) for k, v in args.items()}
    call = {"type": "tool_call", "id": "call-1", "name": target.name, "args": args}
    reply = await target.ainvoke(call) if mode == "ainvoke" else target.invoke(call)
    assert isinstance(reply, ToolMessage) and reply.status == "error"
    text = str(reply.content)
    assert text.startswith(says), text
    assert text.endswith("call the tool again.") or "Memory error (" in text
    assert "Traceback" not in text and reply.artifact is None
    assert _state(emu) == before
