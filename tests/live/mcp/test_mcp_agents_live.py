"""Agents of other frameworks get the memory tools over MCP, from the server an operator runs.

* LangChain: ``langchain-mcp-adapters`` loads the tools (and the system prompt) from the stdio
  server into ``langchain.agents.create_agent`` with an offline chat model.
* AutoGen: ``McpWorkbench`` gives them to an ``AssistantAgent`` driven by a replay model client.

Both backends: the emulator and the real membraned. What the agents store lands in the
operator's container, and a failing call reaches the model as an error, not a crash.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.messages import ToolCallExecutionEvent
from autogen_core import FunctionCall
from autogen_core.models import CreateResult, ModelInfo, RequestUsage
from autogen_ext.models.replay import ReplayChatCompletionClient
from autogen_ext.tools.mcp import McpWorkbench, StdioServerParams
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_mcp_adapters.client import MultiServerMCPClient

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain import MembrainClient
from membrane_integrations.membrain.tenancy import container_filter
from membrane_integrations.membrane import MembraneClient, Sensitivity, TrustContext
from membrane_integrations.testing.chat_models import MemoryRuleChatModel, ScriptedChatModel
from tests.live.mcp.mcp_servers import ROOT, command, server_env
from tests.support.membraned import Membraned, require_daemon

pytestmark = pytest.mark.live

KEY = "mcp-agents-secret"
FUNCTION_CALLING = ModelInfo(
    vision=False,
    function_calling=True,
    json_output=False,
    family="unknown",
    structured_output=False,
)


@pytest.fixture(scope="module")
def emulator() -> Iterator[MembrainEmulator]:
    with MembrainEmulator(embedder="hashing") as emu:
        yield emu


def _stdio(backend: str, container: str, env: dict[str, str], *extra: str) -> dict[str, Any]:
    """A ``langchain-mcp-adapters`` stdio connection to the operator's command."""
    import sys

    return {
        "transport": "stdio",
        "command": sys.executable,
        "args": command(backend, container, *extra),
        "env": env,
        "cwd": str(ROOT),
    }


def _membrain_env(emu: MembrainEmulator) -> dict[str, str]:
    return server_env(MEMBRAIN_BASE_URL=emu.url, MEMBRAIN_API_KEY=emu.api_key)


async def test_langchain_agent_remembers_and_recalls_through_mcp(
    emulator: MembrainEmulator,
) -> None:
    container = f"lc-mcp-{uuid.uuid4().hex[:6]}"
    client = MultiServerMCPClient(
        {"memory": _stdio("membrain", container, _membrain_env(emulator))}
    )
    tools = await client.get_tools()
    assert {"membrain_search", "membrain_add"} <= {t.name for t in tools}
    prompt = await client.get_prompt("memory", "membrain_system_prompt")
    agent = create_agent(MemoryRuleChatModel(), tools=tools, system_prompt=prompt[0].content)

    stored = await agent.ainvoke({"messages": [("user", "Remember that I ride a red bicycle")]})
    assert "Noted" in stored["messages"][-1].content
    asked = await agent.ainvoke({"messages": [("user", "What bicycle do I ride?")]})
    answer = asked["messages"][-1].content
    assert answer.startswith("From memory: User") and answer.endswith("a red bicycle.")

    # a failing call comes back to the model as an error message, and the run goes on
    failing = create_agent(
        ScriptedChatModel(
            responses=[
                AIMessage(
                    content="",
                    tool_calls=[
                        {"name": "membrain_get", "args": {"memory_ids": ["gone"]}, "id": "c1"}
                    ],
                ),
                "I could not find it.",
            ]
        ),
        tools=tools,
    )
    result = await failing.ainvoke({"messages": [("user", "show memory gone")]})
    error = next(m for m in result["messages"] if isinstance(m, ToolMessage))
    assert error.status == "error"
    assert "Memory error (NotFound)" in str(error.content)
    assert result["messages"][-1].content == "I could not find it."

    with MembrainClient(emulator.api_key, base_url=emulator.url) as direct:
        assert direct.count(scope=[container_filter(container)]) == 1


def _call(name: str, args: dict[str, Any], call_id: str = "call-1") -> CreateResult:
    return CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id=call_id, name=name, arguments=json.dumps(args))],
        usage=RequestUsage(prompt_tokens=0, completion_tokens=0),
        cached=False,
    )


async def _run_autogen(params: StdioServerParams, calls: list[CreateResult]) -> list[Any]:
    """Run an AssistantAgent whose model makes ``calls``; the tool results it got."""
    async with McpWorkbench(params) as workbench:
        agent = AssistantAgent(
            "assistant",
            model_client=ReplayChatCompletionClient(calls, model_info=FUNCTION_CALLING),
            workbench=workbench,
            max_tool_iterations=len(calls),
        )
        result = await agent.run(task="Use your memory.")
    return [
        item
        for message in result.messages
        if isinstance(message, ToolCallExecutionEvent)
        for item in message.content
    ]


def _autogen_params(
    backend: str, container: str, env: dict[str, str], *extra: str
) -> StdioServerParams:
    import sys

    return StdioServerParams(
        command=sys.executable,
        args=command(backend, container, *extra),
        env=env,
        cwd=str(ROOT),
        read_timeout_seconds=60,
    )


async def test_autogen_assistant_uses_the_membrain_tools(emulator: MembrainEmulator) -> None:
    container = f"ag-mcp-{uuid.uuid4().hex[:6]}"
    params = _autogen_params("membrain", container, _membrain_env(emulator))
    results = await _run_autogen(
        params,
        [
            _call("membrain_add", {"content": "User is learning Portuguese"}),
            _call("membrain_search", {"query": "What language is the user learning?"}, "call-2"),
            _call("membrain_get", {"memory_ids": ["not-an-id"]}, "call-3"),
        ],
    )
    assert [r.is_error for r in results] == [False, False, True]
    assert results[0].content.startswith("Stored new memory")
    assert "User is learning Portuguese" in results[1].content
    assert "Memory error (NotFound)" in results[2].content

    with MembrainClient(emulator.api_key, base_url=emulator.url) as direct:
        assert direct.count(scope=[container_filter(container)]) == 1


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon(), api_key=KEY) as server:
        yield server


@pytest.mark.membraned
async def test_both_frameworks_on_the_real_daemon(daemon: Membraned) -> None:
    scope = f"agents-{uuid.uuid4().hex[:6]}"
    env = server_env(MEMBRANE_ADDR=daemon.addr, MEMBRANE_API_KEY=KEY)

    # AutoGen records an event; LangChain's agent then recalls it, both through the MCP server
    results = await _run_autogen(
        _autogen_params("membrane", scope, env),
        [
            _call(
                "membrane_ingest_event",
                {"event_kind": "decision", "ref": "db", "summary": "Chose SQLite for the cache"},
            )
        ],
    )
    assert [r.is_error for r in results] == [False]
    record_id = results[0].content.split()[2].rstrip(".")

    client = MultiServerMCPClient({"memory": _stdio("membrane", scope, env)})
    tools = await client.get_tools()
    model = MemoryRuleChatModel(search_tool="membrane_retrieve", query_arg="task_descriptor")
    agent = create_agent(model, tools=tools)
    asked = await agent.ainvoke({"messages": [("user", "What did we choose for the cache?")]})
    assert "Chose SQLite for the cache" in asked["messages"][-1].content

    with MembraneClient(daemon.addr, api_key=KEY) as direct:
        trust = TrustContext(max_sensitivity=Sensitivity.LOW, scopes=[scope])
        assert direct.retrieve_by_id(record_id, trust=trust).scope == scope
