# Cells for notebook 05 (the LangGraph store part), for the lead to append to
# notebooks/_build/05_middleware_and_store.py. Percent format; self-contained (starts its own
# emulator and, if it can, a throwaway membraned).

# %% [markdown]
# ## The same memory through a LangGraph store
#
# `MembrainStore` and `MembraneStore` are LangGraph `BaseStore`s: pass one to
# `create_agent(..., store=...)` and every tool can read and write long-term memory through
# `runtime.store`, in any thread. A namespace is confined to the store's container (Membrain)
# or scope (Membrane); `put` on an existing key replaces it. Here the agent saves a preference
# in one thread and reads it back in another, with a scripted model (no LLM needed).

# %%
%load_ext membrane_integrations._demo.notebook
import uuid

from langchain.agents import create_agent
from langchain.tools import ToolRuntime
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import MembrainStore
from membrane_integrations.testing import ScriptedChatModel

store_emulator = MembrainEmulator().start()
store_client = store_emulator.client()
store = MembrainStore(client=store_client, container="user-bob")


@tool
def save_preference(preference: str, runtime: ToolRuntime) -> str:
    """Save the user's seating preference."""
    runtime.store.put(("prefs",), "seat", {"preference": preference})
    return "saved"


@tool
def read_preference(runtime: ToolRuntime) -> str:
    """Read the user's seating preference."""
    item = runtime.store.get(("prefs",), "seat")
    return "nothing saved" if item is None else item.value["preference"]


def call(name, args):
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": uuid.uuid4().hex}])


def scripted():
    return ScriptedChatModel(responses=[
        call("save_preference", {"preference": "window seat"}), "Noted.",
        call("read_preference", {}), "You like a window seat.",
    ])


def two_threads(agent):
    agent.invoke({"messages": [HumanMessage("I always want a window seat")]},
                 config={"configurable": {"thread_id": "t1"}})
    reply = agent.invoke({"messages": [HumanMessage("Where do I like to sit?")]},
                         config={"configurable": {"thread_id": "t2"}})
    for message in reply["messages"]:
        if isinstance(message, ToolMessage):
            print("tool read:", message.content)
    print("agent:", reply["messages"][-1].content)


two_threads(create_agent(scripted(), [save_preference, read_preference], store=store))

# %% [markdown]
# The store is also searchable by meaning (Membrain's semantic search; the score is on each
# item), filterable on value fields, and lists its namespaces:

# %%
store.put(("notes",), "trip", {"text": "Bob is flying to Lisbon in May"})
store.put(("notes",), "pet", {"text": "Bob has a golden retriever"})
for hit in store.search(("notes",), query="which animal does he own", limit=2):
    print(f"{hit.score:.2f}", hit.key, hit.value)
print(store.list_namespaces())

# %% [markdown]
# ### The same with Membrane
#
# `MembraneStore` keeps each item as a semantic record of its scope: a second `put` on the key
# **supersedes** the record (the old version stays, retracted, in the audit trail) and
# `delete` retracts it. The daemon's SQLite store does not rank by the query, so pass
# `embeddings=` (here the offline WordLlama) to rank searches client-side.

# %%
from membrane_integrations._demo.notebook import start_membraned

store_daemon = start_membraned()

# %%
%%membraned
from membrane_integrations.langchain import MembraneStore, WordLlamaEmbeddings

membrane_client = store_daemon.client()
membrane_store = MembraneStore(client=membrane_client, scope="user-bob",
                               embeddings=WordLlamaEmbeddings())
two_threads(create_agent(scripted(), [save_preference, read_preference], store=membrane_store))
membrane_store.put(("prefs",), "seat", {"preference": "aisle seat"})  # supersedes
print(membrane_store.get(("prefs",), "seat").value)

# %%
store_client.close()
store_emulator.stop()
