# %% [markdown]
# # A LangChain agent that remembers a user (Membrain tools)
#
# An agent built with `langchain.agents.create_agent` gets the **Membrain toolkit**: tools to
# store, search, read and edit long-term memories. In a first conversation the user tells it a
# few facts and it stores them; in a second conversation (a new thread, no chat history) it
# searches its memory to answer. Every tool call is shown.
#
# **Runs offline by default**: Membrain is the emulator bundled with this package, started in
# this process on 127.0.0.1, and the chat model is a small deterministic rule-based model from
# `membrane_integrations.testing`. With `OPENAI_API_KEY` set and `langchain-openai` installed
# the same notebook uses a real model; with `MEMBRAIN_BASE_URL` and `MEMBRAIN_API_KEY` set it
# uses a hosted Membrain.

# %%
import os

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain import MembrainClient

if os.environ.get("MEMBRAIN_BASE_URL") and os.environ.get("MEMBRAIN_API_KEY"):
    emulator = None
    client = MembrainClient()  # reads MEMBRAIN_API_KEY and MEMBRAIN_BASE_URL
    print("Membrain: hosted at", os.environ["MEMBRAIN_BASE_URL"])
else:
    emulator = MembrainEmulator().start()  # in process, on a free port, data in memory
    client = emulator.client()
    print("Membrain: emulator at", emulator.url)
    print("embedder:", emulator.embedder_description)

# %% [markdown]
# ## The chat model
#
# A real model when a key is available; otherwise `MemoryRuleChatModel`: "remember that ..."
# becomes a call of the add tool, a question becomes a call of the search tool, and after a tool
# result it answers from that result. It is deterministic, so this notebook's outputs are too.

# %%
import importlib.util

if os.environ.get("OPENAI_API_KEY") and importlib.util.find_spec("langchain_openai"):
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"), temperature=0)
else:
    from membrane_integrations.testing import MemoryRuleChatModel

    model = MemoryRuleChatModel()  # offline: no network, no key
print(type(model).__name__)

# %% [markdown]
# ## The toolkit and the agent
#
# The toolkit is bound to one **container** (here the user `nb-alice`). Every memory it stores
# carries the token `container.nb-alice`, and every search is confined to it by an anchored
# filter the model cannot remove: scope patterns the model adds can only narrow it. (The `nb-`
# prefix keeps the clean-up at the end away from real users on a hosted Membrain.) The agent's
# system prompt is the one the Membrain guide recommends, shipped as `toolkit.system_prompt()`.

# %%
from langchain.agents import create_agent

from membrane_integrations.langchain import MembrainToolkit

toolkit = MembrainToolkit(client=client, container="nb-alice")
tools = toolkit.get_tools()
print([tool.name for tool in tools])

# The Membrain guide's recommended system prompt (§8.1), naming the tools this toolkit hands out
SYSTEM = toolkit.system_prompt()
print(SYSTEM)
agent = create_agent(model, tools, system_prompt=SYSTEM)

# %%
from langchain_core.messages import AIMessage, ToolMessage


def chat(agent, text: str) -> str:
    """One user turn in a fresh thread; prints the tool calls, their results and the answer."""
    state = agent.invoke({"messages": [{"role": "user", "content": text}]})
    print(f"user:  {text}")
    for message in state["messages"][1:]:
        if isinstance(message, AIMessage) and message.tool_calls:
            for call in message.tool_calls:
                print(f"  tool call   -> {call['name']}({call['args']})")
        elif isinstance(message, ToolMessage):
            print("  tool result <- " + message.text.replace("\n", "\n                 "))
        elif isinstance(message, AIMessage):
            print(f"agent: {message.text}\n")
    return state["messages"][-1].text


# %% [markdown]
# ## Conversation 1: the user tells the agent about themselves

# %%
for text in (
    "Remember that I am vegetarian",
    "Remember that my dog is called Rex",
    "Remember that my office on Fridays is in Lisbon",
):
    chat(agent, text)

# %% [markdown]
# ## Conversation 2: a new thread, no chat history; the agent searches its memory
#
# The questions use other words than the stored facts ("pet", not "dog"): the emulator ranks by
# meaning with its default embedder, WordLlama (offline; `emulator.embedder_description` says
# which embedder runs), as a hosted Membrain does.

# %%
answers = [
    chat(agent, "Which pet do I have?"),
    chat(agent, "Where do I work at the end of the week?"),
]
assert "Rex" in answers[0] and "Lisbon" in answers[1]

# %% [markdown]
# ## Another user sees none of it
#
# A toolkit for `nb-bob` searches only `container.nb-bob`, so Alice's memories are invisible to
# it.

# %%
bob_agent = create_agent(
    model, MembrainToolkit(client=client, container="nb-bob").get_tools(), system_prompt=SYSTEM
)
bob_answer = chat(bob_agent, "Which pet do I have?")
assert "Rex" not in bob_answer

# %% [markdown]
# ## What is stored
#
# The stored memories, read directly with the client (count and search use the same container
# filter the tools use).

# %%
from membrane_integrations.membrain.tenancy import container_filter

alice = [container_filter("nb-alice")]
print("alice has", client.count(scope=alice), "memories:")
for hit in client.search("the user", k=10, scope=alice, rerank=True).nodes:
    print(f"  {hit.id[:8]}  {hit.scope}  {hit.content}")

# %% [markdown]
# ## Clean up

# %%
print(client.delete_bulk(scope=alice).deleted_count, "memories deleted")
client.close()
if emulator is not None:
    emulator.stop()
