# %% [markdown]
# # The memory tools over MCP, for any MCP client
#
# `python -m membrane_integrations mcp membrain --container ID` serves the Membrain tools over
# the Model Context Protocol (stdio or streamable HTTP); `mcp membrane` does the same for
# Membrane. The tools are the LangChain toolkits' own (one definition serves both), and the
# **container is fixed by the operator** on the command line: no tool argument can reach
# another one.
#
# This notebook starts the Membrain emulator in this process, spawns the MCP server as an MCP
# client would (a subprocess over stdio), and talks to it with the official `mcp` SDK client,
# then with a LangChain agent through `langchain-mcp-adapters`. **Runs offline.**

# %%
import os
import sys
import tempfile

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from membrane_integrations.emulator import MembrainEmulator

emulator = MembrainEmulator(embedder="hashing").start()
server_log = tempfile.TemporaryFile("w+")  # the servers' stderr (a notebook's has no file)


def server(container: str) -> StdioServerParameters:
    """The command an MCP client runs: the key and URL come from the environment only."""
    env = {**os.environ, "MEMBRAIN_BASE_URL": emulator.url, "MEMBRAIN_API_KEY": emulator.api_key}
    args = ["-m", "membrane_integrations", "mcp", "membrain", "--container", container]
    return StdioServerParameters(command=sys.executable, args=args, env=env)


print(" ".join(["python", *server("bob").args]))

# %% [markdown]
# ## The SDK's own client: tools, calls, errors, prompt, resource
#
# A failed call is a tool result with `isError: true` whose text tells the model what to do;
# the server keeps serving.

# %%
from pydantic import AnyUrl


async def tour() -> None:
    async with (
        stdio_client(server("bob"), errlog=server_log) as (read, write),
        ClientSession(read, write) as mcp,
    ):
        await mcp.initialize()
        print("tools:", [tool.name for tool in (await mcp.list_tools()).tools])
        added = await mcp.call_tool("membrain_add", {"content": "Bob is vegetarian and avoids fish."})
        print("add:", added.content[0].text)
        found = await mcp.call_tool("membrain_search", {"query": "What does Bob eat?", "k": 1})
        print("search:", found.content[0].text)
        failed = await mcp.call_tool("membrain_get", {"memory_ids": ["no-such-id"]})
        print("error:", failed.isError, failed.content[0].text)
        invalid = await mcp.call_tool("membrain_search", {"query": ""})
        print("invalid:", invalid.isError, invalid.content[0].text)
        prompt = await mcp.get_prompt("membrain_system_prompt")
        print("prompt:", prompt.messages[0].content.text.splitlines()[0])
        stats = await mcp.read_resource(AnyUrl("membrain://stats"))
        print("resource:", stats.contents[0].text)


await tour()

# %% [markdown]
# ## Another container sees nothing
#
# A second server for the container `alice` runs the same tools on the same Membrain; whatever
# the arguments say (even Bob's container token as a scope), Bob's memory stays out of reach.

# %%
async def as_alice() -> None:
    async with (
        stdio_client(server("alice"), errlog=server_log) as (read, write),
        ClientSession(read, write) as mcp,
    ):
        await mcp.initialize()
        result = await mcp.call_tool(
            "membrain_search", {"query": "What does Bob eat?", "scope": ["container\\.bob"]}
        )
        print("alice searches with bob's token:", result.content[0].text)
        stats = await mcp.read_resource(AnyUrl("membrain://stats"))
        print("alice's resource:", stats.contents[0].text)


await as_alice()

# %% [markdown]
# ## A LangChain agent with the tools from MCP, over streamable HTTP
#
# The same command with `--transport http` serves at `http://127.0.0.1:PORT/mcp` (loopback
# unless told otherwise; one container per server process) and says so on stderr once it accepts
# connections. `langchain-mcp-adapters` loads its tools (and its system prompt) into
# `create_agent`. The model is an offline rule-following chat model: "remember that ..." calls
# `membrain_add`, a question calls `membrain_search`, then it answers from the result.

# %%
import subprocess

from langchain.agents import create_agent
from langchain_mcp_adapters.client import MultiServerMCPClient

from membrane_integrations.testing.chat_models import MemoryRuleChatModel

params = server("carol")
http = subprocess.Popen(
    [params.command, *params.args, "--transport", "http", "--port", "0"],
    env=params.env,
    stderr=subprocess.PIPE,
    text=True,
)
for line in http.stderr:  # until the server says where it listens (or exits)
    if line.startswith("MCP server ready at "):
        url = line.split()[-1]
        break
print("serving at", url.rsplit(":", 1)[0] + ":PORT/mcp")

client = MultiServerMCPClient({"memory": {"transport": "streamable_http", "url": url}})
tools = await client.get_tools()
system = (await client.get_prompt("memory", "membrain_system_prompt"))[0].content
agent = create_agent(MemoryRuleChatModel(), tools=tools, system_prompt=system)

for turn in ["Remember that my dog is called Rex", "What is my dog called?"]:
    reply = await agent.ainvoke({"messages": [("user", turn)]})
    print(f"user: {turn}\nagent: {reply['messages'][-1].content}")

# %% [markdown]
# ## For a desktop MCP client
#
# Claude Desktop (`claude_desktop_config.json`), Cursor and VS Code take an `mcpServers` entry of
# this shape; `docs/mcp.md` has the Membrane one, the HTTP transport and how to run one server
# per container.

# %%
import json

config = {
    "mcpServers": {
        "membrain-memory": {
            "command": "/path/to/venv/bin/python",
            "args": ["-m", "membrane_integrations", "mcp", "membrain", "--container", "me"],
            "env": {"MEMBRAIN_API_KEY": "mb_live_...", "MEMBRAIN_BASE_URL": "https://..."},
        }
    }
}
print(json.dumps(config, indent=2))

# %%
http.terminate()
http.wait()
emulator.stop()
