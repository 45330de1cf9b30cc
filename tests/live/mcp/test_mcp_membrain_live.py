"""The Membrain MCP server, spawned as an operator runs it, through the ``mcp`` SDK's own client.

Over stdio and over streamable HTTP, against the emulator: the tools are the LangChain
toolkit's (names, descriptions, argument schemas), calls work, failures are tool errors
(``isError``) with the text the LangChain tool gives for the same call, the server stays up, the
prompt is the toolkit's system prompt and the stats resource counts the container.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from langchain_core.messages import ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from mcp import ClientSession
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from pydantic import AnyUrl

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import MembrainToolkit
from membrane_integrations.membrain import MembrainClient
from membrane_integrations.membrain.tenancy import container_filter
from tests.live.mcp.mcp_servers import http_server, server_env, stdio_params

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def emulator() -> Iterator[MembrainEmulator]:
    with MembrainEmulator(embedder="hashing") as emu:
        yield emu


@pytest.fixture
def container() -> str:
    return f"mcp-{uuid.uuid4().hex[:8]}"


def _env(emu: MembrainEmulator) -> dict[str, str]:
    return server_env(MEMBRAIN_BASE_URL=emu.url, MEMBRAIN_API_KEY=emu.api_key)


@asynccontextmanager
async def stdio_session(
    emu: MembrainEmulator, container: str, *extra: str
) -> AsyncIterator[ClientSession]:
    params = stdio_params("membrain", container, _env(emu), *extra)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def _lc_tools(emu: MembrainEmulator, container: str, **kw: Any) -> dict[str, Any]:
    client = MembrainClient(emu.api_key, base_url=emu.url)
    kit = MembrainToolkit(client=client, container=container, **kw)
    return {tool.name: tool for tool in kit.get_tools()}


def _lc_text(tool: Any, args: dict[str, Any]) -> str:
    """What the LangChain tool tells the model for this call (its error text on failure)."""
    message = tool.invoke({"type": "tool_call", "id": "1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return str(message.content)


def _plain(schema: Any, defs: dict[str, Any]) -> Any:
    """The schema as LangChain sends it: ``$ref`` resolved, pydantic's ``title`` fields dropped."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return _plain({**defs[ref.removeprefix("#/$defs/")], **rest}, defs)
        return {k: _plain(v, defs) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [_plain(v, defs) for v in schema]
    return schema


def same_arguments(input_schema: dict[str, Any], lc_tool: Any) -> bool:
    """The MCP tool's JSON schema asks for the arguments the LangChain tool sends to a model:
    the same properties (types, bounds, descriptions, defaults) and required ones; both are the
    one args model's schema (LangChain inlines ``$defs`` and drops ``title`` fields)."""
    assert input_schema == lc_tool.args_schema.model_json_schema()
    sent = convert_to_openai_tool(lc_tool)["function"]["parameters"]
    defs = input_schema.get("$defs", {})
    mine = {k: _plain(input_schema.get(k), defs) for k in ("properties", "required")}
    return bool(mine == {k: sent.get(k) for k in ("properties", "required")})


def _text(result: Any) -> str:
    return "".join(block.text for block in result.content)


async def test_the_tools_are_the_langchain_toolkits(
    emulator: MembrainEmulator, container: str
) -> None:
    lc = _lc_tools(emulator, container, include_graph_tools=True)
    async with stdio_session(emulator, container, "--graph-tools") as session:
        listed = (await session.list_tools()).tools
    assert [t.name for t in listed] == list(lc)
    for tool in listed:
        twin = lc[tool.name]
        assert tool.description == twin.description
        assert same_arguments(tool.inputSchema, twin)


async def test_read_only_serves_no_write_tool(emulator: MembrainEmulator, container: str) -> None:
    async with stdio_session(emulator, container, "--read-only") as session:
        names = [t.name for t in (await session.list_tools()).tools]
    assert names == ["membrain_search", "membrain_get", "membrain_stats"]


async def test_calls_errors_prompt_and_stats_over_stdio(
    emulator: MembrainEmulator, container: str
) -> None:
    lc = _lc_tools(emulator, container)
    async with stdio_session(emulator, container) as session:
        added = await session.call_tool("membrain_add", {"content": "User keeps bees on the roof"})
        assert not added.isError
        assert _text(added).startswith("Stored new memory")

        found = await session.call_tool(
            "membrain_search", {"query": "What animals does the user keep?", "k": 3}
        )
        assert not found.isError
        assert "User keeps bees on the roof" in _text(found)

        # a failure of the backend: a tool error with the LangChain tool's very text
        missing = {"memory_ids": ["no-such-memory"]}
        failed = await session.call_tool("membrain_get", missing)
        assert failed.isError
        assert _text(failed) == _lc_text(lc["membrain_get"], missing)
        assert _text(failed).startswith("Memory error (NotFound)")

        # bad arguments: the same validation message
        for bad in ({"query": ""}, {"query": "q", "k": 0, "surprise": 1}, {}):
            invalid = await session.call_tool("membrain_search", bad)
            assert invalid.isError
            assert _text(invalid) == _lc_text(lc["membrain_search"], bad)
            assert _text(invalid).startswith("Invalid tool arguments")

        # a rule of the tool itself, raised before any request
        rule = {"query": "anything", "scope": ["(unclosed"]}
        ruled = await session.call_tool("membrain_search", rule)
        assert ruled.isError and _text(ruled) == _lc_text(lc["membrain_search"], rule)
        assert _text(ruled).startswith("Memory error (InvalidRequest)")

        unknown = await session.call_tool("membrain_forget_everything", {})
        assert unknown.isError and "membrain_search" in _text(unknown)

        # the server is still up and serving
        stats = await session.call_tool("membrain_stats", {})
        assert not stats.isError and _text(stats) == "1 memory."

        prompts = (await session.list_prompts()).prompts
        assert [p.name for p in prompts] == ["membrain_system_prompt"]
        prompt = await session.get_prompt("membrain_system_prompt")
        kit = MembrainToolkit(client=MembrainClient(emulator.api_key, base_url=emulator.url))
        assert prompt.messages[0].content.text == kit.system_prompt()  # type: ignore[union-attr]

        resources = (await session.list_resources()).resources
        assert [str(r.uri) for r in resources] == ["membrain://stats"]
        read = await session.read_resource(AnyUrl("membrain://stats"))
        assert read.contents[0].text == f"Container {container}: 1 memory."  # type: ignore[union-attr]

    # what the server wrote carries the operator's container
    with MembrainClient(emulator.api_key, base_url=emulator.url) as direct:
        assert direct.count(scope=[container_filter(container)]) == 1


async def test_a_wrong_key_is_an_actionable_tool_error(
    emulator: MembrainEmulator, container: str
) -> None:
    env = server_env(MEMBRAIN_BASE_URL=emulator.url, MEMBRAIN_API_KEY="mb_live_wrongwrongwrong")
    params = stdio_params("membrain", container, env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        result = await session.call_tool("membrain_stats", {})
    assert result.isError
    assert _text(result).startswith("Memory error (Authentication)")
    assert "configuration problem" in _text(result)
    assert "wrongwrong" not in _text(result)


async def test_streamable_http(emulator: MembrainEmulator, container: str) -> None:
    with http_server("membrain", container, _env(emulator)) as url:
        assert url.startswith("http://127.0.0.1:")  # loopback unless told otherwise
        async with (
            streamable_http_client(url) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            names = [t.name for t in (await session.list_tools()).tools]
            assert names == list(_lc_tools(emulator, container))
            added = await session.call_tool("membrain_add", {"content": "User drinks oat milk"})
            assert not added.isError
            found = await session.call_tool(
                "membrain_search", {"query": "What milk does the user drink?"}
            )
            assert "User drinks oat milk" in _text(found)
            failed = await session.call_tool("membrain_delete", {"memory_id": "nope"})
            assert failed.isError and _text(failed).startswith("Memory error (NotFound)")
        # a page on another origin cannot drive it (DNS rebinding): the Host header is checked
        async with httpx.AsyncClient() as http:
            reply = await http.post(
                url,
                headers={"Host": "evil.example", "Accept": "application/json, text/event-stream"},
                json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            )
        assert reply.status_code in (400, 403, 421)


async def test_streamable_http_with_a_bearer_token(
    emulator: MembrainEmulator, container: str
) -> None:
    token = uuid.uuid4().hex
    env = {**_env(emulator), "MEMBRANE_MCP_TOKEN": token}
    with http_server("membrain", container, env) as url:
        async with httpx.AsyncClient() as http:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
                denied = await http.post(
                    url,
                    headers={"Accept": "application/json, text/event-stream", **headers},
                    json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                )
                assert denied.status_code == 401
                assert token not in denied.text
        auth = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"})
        async with (
            auth,
            streamable_http_client(url, http_client=auth) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            stats = await session.call_tool("membrain_stats", {})
            assert not stats.isError and _text(stats) == "0 memories."


def test_beyond_loopback_it_needs_a_token_or_no_auth(container: str) -> None:
    import subprocess
    import sys

    from tests.live.mcp.mcp_servers import ROOT, command

    argv = [sys.executable, *command("membrain", container, "--transport", "http")]
    refused = subprocess.run(
        [*argv, "--host", "0.0.0.0"],
        cwd=ROOT,
        env=server_env(MEMBRAIN_API_KEY="k", MEMBRAIN_BASE_URL="http://127.0.0.1:9"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2
    assert "MEMBRANE_MCP_TOKEN" in refused.stderr and "--no-auth" in refused.stderr
