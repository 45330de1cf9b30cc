"""The ``langchain-tests`` standard suites for every Membrain tool and the retriever.

Unit suites build each tool on a client that is never called (no I/O); integration suites
run against one emulator on 127.0.0.1 started for this module.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import RetrieversIntegrationTests, ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import (
    MembrainAddTool,
    MembrainDeleteTool,
    MembrainGetTool,
    MembrainGraphHubsTool,
    MembrainGraphNeighborhoodTool,
    MembrainGraphPathTool,
    MembrainGraphTraverseTool,
    MembrainRetriever,
    MembrainSearchTool,
    MembrainStatsTool,
    MembrainUnlinkTool,
    MembrainUpdateTool,
)
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient
from membrane_integrations.membrain.tenancy import container_token
from tests.standard.conftest import CONSTRUCTIONS, clients, register

CONTAINER = "standard"


@dataclass
class _World:
    emu: MembrainEmulator | None = None
    client: MembrainClient | None = None
    ids: list[str] = field(default_factory=list)
    pending: list[AsyncMembrainClient] = field(default_factory=list)

    def async_client(self) -> AsyncMembrainClient:
        """A new async client, closed by ``_close_async_clients`` inside the test's loop."""
        emu, _ = self.running()
        client = emu.async_client()
        self.pending.append(client)
        return client

    def running(self) -> tuple[MembrainEmulator, MembrainClient]:
        assert self.emu is not None and self.client is not None, "emulator fixture not active"
        return self.emu, self.client

    def fresh_id(self) -> str:
        _, client = self.running()
        content = f"A disposable note {uuid.uuid4().hex}"
        return client.add(content, scope=[container_token(CONTAINER)]).memory_id


WORLD = _World()


@pytest.fixture(scope="module", autouse=True)
def _emulator() -> Iterator[None]:
    with MembrainEmulator() as emu, emu.client() as client:
        WORLD.emu, WORLD.client = emu, client
        facts = [
            "User drinks green tea every morning",
            "User likes green tea with honey",
            "User is allergic to peanuts",
            "User lives in Lisbon near the river",
        ]
        tokens = [container_token(CONTAINER), "type.fact"]
        WORLD.ids = [client.add(fact, scope=tokens).memory_id for fact in facts]
        yield
        WORLD.emu = WORLD.client = None


@pytest.fixture(autouse=True)
async def _close_async_clients() -> AsyncIterator[None]:
    yield
    while WORLD.pending:
        await WORLD.pending.pop().aclose()


Example = Callable[[_World], dict[str, Any]]

EXAMPLES: dict[type[BaseTool], Example] = {
    MembrainSearchTool: lambda w: {"query": "What does the user drink?", "k": 3},
    MembrainAddTool: lambda w: {"content": "User prefers window seats", "scope": ["type.pref"]},
    MembrainGetTool: lambda w: {"memory_ids": w.ids[:2]},
    MembrainUpdateTool: lambda w: {"memory_id": w.ids[3], "content": "User lives in Lisbon"},
    MembrainDeleteTool: lambda w: {"memory_id": w.fresh_id()},
    MembrainUnlinkTool: lambda w: {"memory_id_1": w.ids[2], "memory_id_2": w.ids[3]},
    MembrainStatsTool: lambda w: {},
    MembrainGraphPathTool: lambda w: {"from_id": w.ids[0], "to_id": w.ids[1]},
    MembrainGraphHubsTool: lambda w: {"limit": 3},
    MembrainGraphNeighborhoodTool: lambda w: {"memory_id": w.ids[0], "hops": 2},
    MembrainGraphTraverseTool: lambda w: {
        "start_memory_id": w.ids[0],
        "query": "What else does the user drink?",
        "edge_similarity_threshold": 0.1,
    },
}
UNIT_EXAMPLE_IDS = _World(ids=["m1", "m2", "m3", "m4"])


class _UnitBase(ToolsUnitTests):
    tool_cls: ClassVar[type[BaseTool]]

    @property
    def tool_constructor(self) -> type[BaseTool]:
        return self.tool_cls

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        # never called in unit tests: constructing a client opens no connection
        client = MembrainClient("mb_test_unit", base_url="http://127.0.0.1:9")
        return {"client": client, "container": CONTAINER}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        if self.tool_cls is MembrainDeleteTool:
            return {"memory_id": "m1"}
        return EXAMPLES[self.tool_cls](UNIT_EXAMPLE_IDS)


@pytest.mark.live
class _IntegrationBase(ToolsIntegrationTests):
    tool_cls: ClassVar[type[BaseTool]]
    construction: ClassVar[str]

    @property
    def tool_constructor(self) -> type[BaseTool]:
        return self.tool_cls

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {**_clients(self.construction), "container": CONTAINER}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return EXAMPLES[self.tool_cls](WORLD)


def _clients(construction: str) -> dict[str, Any]:
    return clients(construction, lambda: WORLD.running()[1], WORLD.async_client)


@pytest.mark.live
class _RetrieverBase(RetrieversIntegrationTests):
    construction: ClassVar[str]

    @property
    def retriever_constructor(self) -> type[MembrainRetriever]:
        return MembrainRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {**_clients(self.construction), "container": CONTAINER}

    @property
    def retriever_query_example(self) -> str:
        return "What does the user like to drink?"


SUITES = register(
    globals(),
    EXAMPLES,
    unit=_UnitBase,
    integration=_IntegrationBase,
    retriever=_RetrieverBase,
    retriever_name="MembrainRetriever",
)


def test_every_tool_has_all_suites() -> None:
    names = {n for n in globals() if n.startswith("TestMembrain")}
    assert len(names) == SUITES == (1 + len(CONSTRUCTIONS)) * len(EXAMPLES) + len(CONSTRUCTIONS)
