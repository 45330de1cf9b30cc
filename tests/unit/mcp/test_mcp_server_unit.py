"""The MCP server's own logic, in-process through the SDK's memory transport (no server).

A backend that is down gives the LangChain tool's error text as an ``isError`` result and the
server keeps answering; the command line turns the operator's flags into the settings every
tool call gets (and nothing else does).
"""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from mcp.shared.memory import create_connected_server_and_client_session
from pydantic import AnyUrl

from membrane_integrations.langchain import MembrainToolkit
from membrane_integrations.mcp import membrain_server
from membrane_integrations.mcp.cli import _membrane, add_mcp_parser
from membrane_integrations.membrain import AsyncMembrainClient
from membrane_integrations.membrane import Sensitivity

DOWN = "http://127.0.0.1:9"  # nothing listens on the discard port


def _text(result: Any) -> str:
    return "".join(block.text for block in result.content)


async def test_a_backend_that_is_down_is_a_tool_error_and_the_server_stays_up() -> None:
    async with AsyncMembrainClient("k-unit", base_url=DOWN, max_retries=0) as client:
        server = membrain_server(client, container="unit")
        twin = MembrainToolkit(async_client=client, container="unit").get_tools()[0]
        args = {"query": "What does the user like?"}
        async with create_connected_server_and_client_session(server.lowlevel) as session:
            first = await session.call_tool("membrain_search", args)
            again = await session.call_tool("membrain_search", args)
            with pytest.raises(Exception, match="BackendUnavailable"):
                await session.read_resource(AnyUrl("membrain://stats"))
            with pytest.raises(Exception, match="Unknown resource"):
                await session.read_resource(AnyUrl("membrain://other"))
            with pytest.raises(Exception, match="Unknown prompt"):
                await session.get_prompt("nope")
            tools = await session.list_tools()
        lc = await twin.ainvoke({"type": "tool_call", "id": "1", "name": twin.name, "args": args})
    assert isinstance(lc, ToolMessage)
    assert first.isError and again.isError
    assert _text(first) == _text(again) == lc.content
    assert _text(first).startswith("Memory error (BackendUnavailable)")
    assert "k-unit" not in _text(first)
    assert len(tools.tools) == 7


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_mcp_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["mcp", *argv])


async def test_the_operator_flags_are_the_membrane_identity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEMBRANE_ADDR", "127.0.0.1:9")
    monkeypatch.setenv("MEMBRANE_API_KEY", "unit-secret")
    args = _parse(
        "membrane", "--container", "proj", "--max-sensitivity", "medium",
        "--trust-scope", "proj", "--trust-scope", "shared", "--sensitivity", "high",
    )  # fmt: skip
    client, server = _membrane(args)
    try:
        identity = server.settings
        trust = identity.view.trust
        assert (trust.max_sensitivity, trust.scopes, trust.actor_id) == (
            Sensitivity.MEDIUM,
            ["proj", "shared"],
            "mcp:proj",
        )
        assert (identity.scope, identity.source, identity.sensitivity) == (
            "proj",
            "mcp",
            Sensitivity.HIGH,
        )
        assert client.addr == "127.0.0.1:9" and "unit-secret" not in repr(client)
        assert len(server.specs) == 8  # no revision tools unless asked
    finally:
        await client.aclose()


def test_the_key_is_never_a_flag() -> None:
    with pytest.raises(SystemExit):
        _parse("membrain", "--container", "c", "--api-key", "k")
    assert _parse("membrain", "--container", "c").host == "127.0.0.1"
