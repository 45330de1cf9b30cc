# %% [markdown]
# # AutoGen agents with long-term memory: `MembrainMemory` and `MembraneMemory`
#
# Both classes implement `autogen_core.memory.Memory`. Given to an `AssistantAgent`, a memory is
# queried with the user's message before each model call, and the relevant memories are added to
# the model's context as one system message. This notebook shows exactly what gets injected.
#
# * Part 1: `MembrainMemory` (HTTP), against the Membrain emulator started in this process.
# * Part 2: `MembraneMemory` (gRPC), against a local **membraned** started by the notebook when
#   it is installed; its cells are skipped politely when it is not.
#
# **Runs offline by default** with a deterministic model that answers from the first injected
# memory. With `OPENAI_API_KEY` set and `autogen-ext[openai]` installed it uses a real model.

# %%
import importlib.util
import os

if os.environ.get("OPENAI_API_KEY") and importlib.util.find_spec("openai"):
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    def new_model():
        return OpenAIChatCompletionClient(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
else:
    from membrane_integrations.demo.models import MemoryAnsweringChatClient

    def new_model():
        return MemoryAnsweringChatClient()  # offline: answers from the injected memories


print(type(new_model()).__name__)

# %% [markdown]
# ## Part 1: `MembrainMemory`
#
# The memory is confined to one **container** (here the user `bob`): every add stores the
# token `container.bob`, every query is filtered by it. The API key is never dumped with the
# component config.

# %%
from pydantic import SecretStr

from membrane_integrations.autogen import MembrainMemory, MembrainMemoryConfig
from membrane_integrations.emulator import MembrainEmulator

emulator = MembrainEmulator().start()
memory = MembrainMemory(
    MembrainMemoryConfig(
        container="bob", base_url=emulator.url, api_key=SecretStr(emulator.api_key), k=3
    )
)
config = memory.dump_component().config
print({k: config[k] for k in ("container", "base_url", "api_key_env", "k")}, "api_key" in config)

# %%
from autogen_core.memory import MemoryContent, MemoryMimeType

for fact, kind in (
    ("Bob is vegetarian and avoids fish.", "diet"),
    ("Bob's daughter is allergic to peanuts.", "allergy"),
    ("Bob prefers Italian food on weekends.", "preference"),
):
    await memory.add(
        MemoryContent(content=fact, mime_type=MemoryMimeType.TEXT, metadata={"type": kind})
    )

hits = await memory.query("Any dietary restrictions when I make dinner for Bob?")
for item in hits.results:
    print(f"{item.metadata['score']:.2f}  {item.metadata['scope']}  {item.content}")

# %% [markdown]
# ### The agent, and what it was given
#
# `agent.run` yields a `MemoryQueryEvent` with the memories it retrieved; the model then sees
# them as a system message right after the user's turn.

# %%
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.messages import MemoryQueryEvent

TASK = "What should I keep in mind when I cook for Bob?"
agent = AssistantAgent("cook", model_client=new_model(), memory=[memory])
result = await agent.run(task=TASK)

for message in result.messages:
    if isinstance(message, MemoryQueryEvent):
        print("memories injected:")
        for item in message.content:
            print("  -", item.content)
print("agent:", result.messages[-1].to_text())

# %% [markdown]
# The same injection, done by hand on an empty model context: this is the system message the
# model receives.

# %%
from autogen_core.model_context import UnboundedChatCompletionContext
from autogen_core.models import UserMessage

context = UnboundedChatCompletionContext()
await context.add_message(UserMessage(content=TASK, source="user"))
await memory.update_context(context)
for message in await context.get_messages():
    print(f"[{type(message).__name__}]\n{message.content}\n")

# %% [markdown]
# Another container sees nothing of Bob's:

# %%
alice = MembrainMemory(
    MembrainMemoryConfig(container="alice", base_url=emulator.url, api_key=SecretStr(emulator.api_key))
)
print(len((await alice.query("cooking dinner for Bob")).results), "memories for alice")
await alice.close()

await memory.clear()
await memory.close()
emulator.stop()

# %% [markdown]
# ## Part 2: `MembraneMemory` (needs membraned)
#
# Membrane is a daemon with typed, revisable memory (see notebook 04). The next cell starts a
# throwaway `membraned` on 127.0.0.1 with a temporary database, found or built by the package
# launcher (`MEMBRANED_BIN`, a cached build of `MEMBRANED_SOURCE`, `go build`, `go install`);
# when none can be had it says how to get one and the cells marked `%%membraned` are skipped.

# %%
%load_ext membrane_integrations.demo.notebook
from membrane_integrations.demo.notebook import start_membraned

daemon = start_membraned()

# %%
%%membraned
from membrane_integrations.autogen import MembraneMemory, MembraneMemoryConfig

membrane_memory = MembraneMemory(MembraneMemoryConfig(container="bob", addr=daemon.addr, k=3))
for fact in (
    "Bob is vegetarian and avoids fish.",
    "Bob's daughter is allergic to peanuts.",
):
    await membrane_memory.add(
        MemoryContent(content=fact, mime_type=MemoryMimeType.TEXT, metadata={"predicate": "diet"})
    )
agent = AssistantAgent("cook", model_client=new_model(), memory=[membrane_memory])
result = await agent.run(task=TASK)
for message in result.messages:
    if isinstance(message, MemoryQueryEvent):
        print("memories injected:")
        for item in message.content:
            print(f"  - {item.content}   ({item.metadata['type']}, salience {item.metadata['score']:.2f})")
print("agent:", result.messages[-1].to_text())

# %%
%%membraned
await membrane_memory.clear()  # retracts the container's records (Membrane keeps the audit trail)
await membrane_memory.close()
daemon.stop()
