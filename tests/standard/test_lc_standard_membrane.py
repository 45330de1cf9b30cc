"""The ``langchain-tests`` standard suites for every Membrane tool and the retriever.

Integration suites run against a real membraned (found or built by the package launcher);
unit suites build the tools on a client that is never called.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import RetrieversIntegrationTests, ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from membrane_integrations.langchain import (
    MembraneContestTool,
    MembraneIngestEventTool,
    MembraneIngestObservationTool,
    MembraneIngestOutcomeTool,
    MembraneIngestToolOutputTool,
    MembraneIngestWorkingStateTool,
    MembranePenalizeTool,
    MembraneReinforceTool,
    MembraneRetractTool,
    MembraneRetriever,
    MembraneRetrieveTool,
    MembraneSupersedeTool,
)
from membrane_integrations.membrane import (
    AsyncMembraneClient,
    MembraneClient,
    Sensitivity,
    TrustContext,
)
from tests.standard.conftest import CONSTRUCTIONS, clients, register
from tests.support.membraned import Membraned, require_daemon

SCOPE = "standard"
TRUST = TrustContext(max_sensitivity=Sensitivity.MEDIUM, authenticated=True)


@dataclass
class _World:
    double: Membraned | None = None
    client: MembraneClient | None = None
    ids: dict[str, str] = field(default_factory=dict)
    pending: list[AsyncMembraneClient] = field(default_factory=list)

    def running(self) -> tuple[Membraned, MembraneClient]:
        assert self.double is not None and self.client is not None, "daemon fixture not active"
        return self.double, self.client

    def async_client(self) -> AsyncMembraneClient:
        double, _ = self.running()
        client = AsyncMembraneClient(double.addr, timeout=10)
        self.pending.append(client)
        return client

    def fresh_fact(self) -> str:
        _, client = self.running()
        return client.ingest_observation("user", "mentioned", "something", scope=SCOPE).id


WORLD = _World()


@pytest.fixture(scope="module", autouse=True)
def _double() -> Iterator[None]:
    with Membraned(require_daemon()) as double, MembraneClient(double.addr, timeout=10) as client:
        WORLD.double, WORLD.client = double, client
        WORLD.ids = {
            "event": client.ingest_event("file_edit", "src/a.py", summary="edit", scope=SCOPE).id,
            "fact": client.ingest_observation("user", "prefers", "tea", scope=SCOPE).id,
            "other": client.ingest_observation("user", "drinks", "water", scope=SCOPE).id,
        }
        for i in range(3):
            client.ingest_observation("service", f"fact-{i}", i, scope=SCOPE)
        yield
        WORLD.double = WORLD.client = None


@pytest.fixture(autouse=True)
async def _close_async_clients() -> AsyncIterator[None]:
    yield
    while WORLD.pending:
        await WORLD.pending.pop().close()


Example = Callable[[_World], dict[str, Any]]

EXAMPLES: dict[type[BaseTool], Example] = {
    MembraneRetrieveTool: lambda w: {"task_descriptor": "What does the user prefer?", "limit": 3},
    MembraneIngestEventTool: lambda w: {"event_kind": "error", "ref": "job#1", "summary": "x"},
    MembraneIngestObservationTool: lambda w: {
        "subject": "user",
        "predicate": "prefers",
        "object": {"language": "Python"},
    },
    MembraneIngestToolOutputTool: lambda w: {
        "tool_name": "run_tests",
        "args": {"suite": "auth"},
        "result": {"passed": 3},
    },
    MembraneIngestOutcomeTool: lambda w: {
        "target_record_id": w.ids["event"],
        "outcome_status": "success",
    },
    MembraneIngestWorkingStateTool: lambda w: {"thread_id": "t1", "state": "planning"},
    MembraneReinforceTool: lambda w: {"record_id": w.ids["fact"], "rationale": "helped"},
    MembranePenalizeTool: lambda w: {
        "record_id": w.ids["fact"],
        "amount": 0.01,
        "rationale": "slightly off",
    },
    MembraneSupersedeTool: lambda w: {
        "record_id": w.fresh_fact(),
        "payload_changes": {"object": "corrected"},
        "rationale": "correction",
    },
    MembraneRetractTool: lambda w: {"record_id": w.fresh_fact(), "rationale": "wrong"},
    MembraneContestTool: lambda w: {
        "record_id": w.ids["other"],
        "contesting_ref": w.ids["fact"],
        "rationale": "conflict",
    },
}
UNIT_WORLD = _World(ids={"event": "r1", "fact": "r2", "other": "r3"})


class _UnitBase(ToolsUnitTests):
    tool_cls: ClassVar[type[BaseTool]]

    @property
    def tool_constructor(self) -> type[BaseTool]:
        return self.tool_cls

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        # a channel to a closed port: never used, constructing it connects nowhere
        return {"client": MembraneClient("127.0.0.1:9"), "trust": TRUST, "actor": "agent"}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        if self.tool_cls in (MembraneSupersedeTool, MembraneRetractTool):
            return self._unit_example()  # the integration examples ingest a fresh record
        return EXAMPLES[self.tool_cls](UNIT_WORLD)

    def _unit_example(self) -> dict[str, Any]:
        base = {"record_id": "r9", "rationale": "why"}
        if self.tool_cls is MembraneSupersedeTool:
            return {**base, "payload_changes": {"object": "x"}}
        return base


@pytest.mark.live
class _IntegrationBase(ToolsIntegrationTests):
    tool_cls: ClassVar[type[BaseTool]]
    construction: ClassVar[str]

    @property
    def tool_constructor(self) -> type[BaseTool]:
        return self.tool_cls

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {
            **_clients(self.construction),
            "trust": TRUST,
            "actor": "standard-agent",
            "scope": SCOPE,
        }

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return EXAMPLES[self.tool_cls](WORLD)


def _clients(construction: str) -> dict[str, Any]:
    return clients(construction, lambda: WORLD.running()[1], WORLD.async_client)


@pytest.mark.live
class _RetrieverBase(RetrieversIntegrationTests):
    construction: ClassVar[str]

    @property
    def retriever_constructor(self) -> type[MembraneRetriever]:
        return MembraneRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {**_clients(self.construction), "trust": TRUST, "scope": SCOPE}

    @property
    def retriever_query_example(self) -> str:
        return "What do we know about the user and the service?"


SUITES = register(
    globals(),
    EXAMPLES,
    unit=_UnitBase,
    integration=_IntegrationBase,
    retriever=_RetrieverBase,
    retriever_name="MembraneRetriever",
)


def test_every_tool_has_all_suites() -> None:
    names = {n for n in globals() if n.startswith("TestMembrane")}
    assert len(names) == SUITES == (1 + len(CONSTRUCTIONS)) * len(EXAMPLES) + len(CONSTRUCTIONS)
