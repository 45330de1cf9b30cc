"""The Membrane MCP server, spawned as an operator runs it, against the real membraned.

The key comes from ``MEMBRANE_API_KEY`` (the daemon requires it), the scope, trust ceiling and
trust scopes from the command line. Through the ``mcp`` SDK client over stdio and streamable
HTTP: the toolkit's tools, calls, LangChain's error texts as ``isError`` results, another
server's scope out of reach, the ceiling holding whatever a tool argument says.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from pydantic import AnyUrl

from membrane_integrations.langchain import MembraneToolkit
from membrane_integrations.membrane import MembraneClient, Sensitivity, TrustContext
from tests.live.mcp.mcp_servers import http_server, server_env, stdio_params
from tests.live.mcp.test_mcp_membrain_live import _lc_text, _text, same_arguments
from tests.support.membraned import Membraned, require_daemon

pytestmark = [pytest.mark.live, pytest.mark.membraned]

KEY = "mcp-test-secret-key"


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon(), api_key=KEY) as server:
        yield server


@pytest.fixture
def scope() -> str:
    return f"mcp-{uuid.uuid4().hex[:8]}"


def _env(daemon: Membraned) -> dict[str, str]:
    return server_env(MEMBRANE_ADDR=daemon.addr, MEMBRANE_API_KEY=KEY)


@asynccontextmanager
async def session_for(daemon: Membraned, scope: str, *extra: str) -> AsyncIterator[ClientSession]:
    params = stdio_params("membrane", scope, _env(daemon), "--revision-tools", *extra)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def _lc_tools(daemon: Membraned, scope: str) -> dict[str, Any]:
    kit = MembraneToolkit(
        client=MembraneClient(daemon.addr, api_key=KEY),
        trust=TrustContext(max_sensitivity=Sensitivity.LOW, authenticated=True),
        actor=f"mcp:{scope}",
        scope=scope,
        source="mcp",
        include_revision_tools=True,
    )
    return {tool.name: tool for tool in kit.get_tools()}


async def test_tools_calls_and_errors_over_stdio(daemon: Membraned, scope: str) -> None:
    lc = _lc_tools(daemon, scope)
    async with session_for(daemon, scope) as session:
        listed = (await session.list_tools()).tools
        assert [t.name for t in listed] == list(lc)
        for tool in listed:
            assert tool.description == lc[tool.name].description
            assert same_arguments(tool.inputSchema, lc[tool.name])

        stored = await session.call_tool(
            "membrane_ingest_observation",
            {"subject": "user", "predicate": "prefers", "object": {"editor": "helix"}},
        )
        assert not stored.isError, _text(stored)
        record_id = _text(stored).split()[2].rstrip(".")
        found = await session.call_tool(
            "membrane_retrieve", {"task_descriptor": "Which editor does the user prefer?"}
        )
        assert record_id in _text(found) and "helix" in _text(found)
        helped = await session.call_tool(
            "membrane_reinforce", {"record_id": record_id, "rationale": "it answered"}
        )
        assert not helped.isError and _text(helped) == f"Reinforced record {record_id}."

        missing = {"record_id": "no-such-record", "rationale": "why not"}
        failed = await session.call_tool("membrane_retract", missing)
        assert failed.isError
        assert _text(failed) == _lc_text(lc["membrane_retract"], missing)
        assert _text(failed).startswith("Memory error (NotFound)")

        bad = {"record_id": record_id, "rationale": "r", "amount": 7}
        invalid = await session.call_tool("membrane_penalize", bad)
        assert invalid.isError and _text(invalid) == _lc_text(lc["membrane_penalize"], bad)

        # still serving; the stats resource counts the scope
        read = await session.read_resource(AnyUrl("membrane://stats"))
        assert read.contents[0].text == f"Scope {scope}: 1 record (semantic 1)."  # type: ignore[union-attr]
        prompt = await session.get_prompt("membrane_system_prompt")
        assert "membrane_supersede" in prompt.messages[0].content.text  # type: ignore[union-attr]

    # what the server wrote is in the operator's scope, from source "mcp"
    with MembraneClient(daemon.addr, api_key=KEY) as direct:
        record = direct.retrieve_by_id(
            record_id, trust=TrustContext(max_sensitivity=Sensitivity.LOW, scopes=[scope])
        )
    assert record.scope == scope


async def test_another_scope_and_the_ceiling_are_out_of_reach(
    daemon: Membraned, scope: str
) -> None:
    other = f"{scope}-other"
    async with session_for(daemon, scope) as mine:
        stored = await mine.call_tool(
            "membrane_ingest_event", {"event_kind": "decision", "ref": "ADR-7", "summary": "pg"}
        )
        record_id = _text(stored).split()[2].rstrip(".")
        # a tool may mark a record more sensitive than the ceiling: then this server can't see it
        hidden = await mine.call_tool(
            "membrane_ingest_event",
            {"event_kind": "secret", "ref": "vault", "summary": "x", "sensitivity": "high"},
        )
        hidden_id = _text(hidden).split()[2].rstrip(".")
        seen = await mine.call_tool("membrane_retrieve", {"task_descriptor": "what was decided?"})
        assert record_id in _text(seen) and hidden_id not in _text(seen)

    async with session_for(daemon, other) as theirs:
        seen = await theirs.call_tool(
            "membrane_retrieve", {"task_descriptor": "what was decided about ADR-7?"}
        )
        assert record_id not in _text(seen)
        for name, args in [
            ("membrane_reinforce", {"record_id": record_id, "rationale": "r"}),
            ("membrane_retract", {"record_id": record_id, "rationale": "r"}),
            (
                "membrane_ingest_outcome",
                {"target_record_id": record_id, "outcome_status": "success"},
            ),
        ]:
            result = await theirs.call_tool(name, args)
            assert result.isError and _text(result).startswith("Memory error (NotFound)")

    # the record is untouched
    with MembraneClient(daemon.addr, api_key=KEY) as direct:
        record = direct.retrieve_by_id(
            record_id, trust=TrustContext(max_sensitivity=Sensitivity.LOW, scopes=[scope])
        )
    assert record.id == record_id and record.salience == pytest.approx(1.0)


async def test_streamable_http(daemon: Membraned, scope: str) -> None:
    with http_server("membrane", scope, _env(daemon), "--max-sensitivity", "medium") as url:
        async with (
            streamable_http_client(url) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            stored = await session.call_tool(
                "membrane_ingest_working_state",
                {"thread_id": "t1", "state": "blocked", "context_summary": "waiting on review"},
            )
            assert not stored.isError
            found = await session.call_tool(
                "membrane_retrieve", {"task_descriptor": "where does thread t1 stand?"}
            )
            assert "waiting on review" in _text(found)
