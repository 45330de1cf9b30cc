# %% [markdown]
# # Memory with no tool call: agent middleware (and a LangGraph store)
#
# `MembrainMemoryMiddleware` and `MembraneMemoryMiddleware` are LangChain 1.x **agent
# middlewares**: add one to `create_agent(..., middleware=[memory])` and the agent remembers
# without ever calling a memory tool. Before each model call the middleware searches the user's
# memories for the latest message and hands the model ONE fenced block marked as recalled data
# (in the model request only: the thread keeps just the conversation); after the reply a
# background writer stores the turn's statements (not its questions), once per message.
#
# Here a user states a preference in one thread; in another thread (no shared chat history)
# the agent answers from it. The user comes from the application, per run, through the agent's
# runtime context: `agent.invoke(..., context={"user_id": "bob"})`, never from the model.
#
# * Part 1: Membrain (HTTP), against the Membrain emulator started in this process.
# * Part 2: Membrane (gRPC), against a local **membraned** when one can be found or built.
#
# **Runs offline**: the model is a tiny scripted chat model that answers a question from the
# first recalled memory it finds in its input, and records every request.

# %%
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult


class AnswerFromMemory(BaseChatModel):
    """The offline model: answer a question with the first recalled memory, if there is one."""

    requests: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "answer-from-memory"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: object,
    ) -> ChatResult:
        self.requests.append(list(messages))
        answer = "Noted."
        if messages[-1].text.rstrip().endswith("?"):
            for message in messages:
                lines = message.text.splitlines()
                if lines[:1] == ["<recalled_memories>"] and len(lines) > 2:
                    answer = "From memory: " + lines[2][3:]
                    break
        return ChatResult(generations=[ChatGeneration(message=AIMessage(answer))])


def model_input(model: AnswerFromMemory) -> None:
    """Print what the model received on its last request."""
    for message in model.requests[-1]:
        print(f"[{message.type}]\n{message.text}\n")

# %% [markdown]
# ## Part 1: `MembrainMemoryMiddleware`
#
# One middleware serves every user of the agent: with no fixed `container`, it reads the user
# from the run's context (`context_key`, default `user_id`); a run without one is refused. A
# checkpointer keeps each thread's messages; the middleware keeps only its ledger of what it
# stored there.

# %%
from langchain.agents import create_agent
from langgraph.checkpoint.memory import InMemorySaver

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import MembrainMemoryMiddleware

emulator = MembrainEmulator().start()
client = emulator.client()
memory = MembrainMemoryMiddleware(client=client, capture="user", k=3)
model = AnswerFromMemory()
agent = create_agent(
    model,
    tools=[],
    system_prompt="You are a helpful cook.",
    middleware=[memory],
    checkpointer=InMemorySaver(),
)


def say(agent, memory, text: str, thread: str, user: str) -> str:
    state = agent.invoke(
        {"messages": [{"role": "user", "content": text}]},
        config={"configurable": {"thread_id": thread}},
        context={"user_id": user},
    )
    # capture is written in the background after the reply; the demo waits for it so that the
    # next turn can recall it (an application just calls memory.close() when it shuts down)
    assert memory.flush() == []
    print(f"user ({user}, thread {thread}): {text}\nagent: {state['messages'][-1].text}")
    return state["messages"][-1].text


_ = say(agent, memory, "I am vegetarian and avoid fish.", thread="monday", user="bob")

# %% [markdown]
# A new thread: no chat history is shared, and the model calls no tool. The middleware
# recalled Bob's preference and put it in front of the question, fenced and marked as data:

# %%
answer = say(agent, memory, "What should I cook tonight?", thread="friday", user="bob")
model_input(model)
assert answer == "From memory: I am vegetarian and avoid fish."

# %% [markdown]
# The recalled block was part of the model request only: the thread's state holds no copy of
# it, however long it gets. Questions are not stored (only Bob's statement is), and a stored
# turn is not stored again when the thread resumes. Alice, another user of the same agent,
# sees none of Bob's memories.

# %%
from membrane_integrations.membrain.tenancy import container_filter

_ = say(agent, memory, "And for dessert?", thread="friday", user="bob")
state = agent.get_state({"configurable": {"thread_id": "friday"}}).values
recalled = [m for m in state["messages"] if m.id == memory.recall_id]
print("recalled messages in the thread:", len(recalled))
_ = say(agent, memory, "What should I cook tonight?", thread="alice-1", user="alice")

print("bob's memories:", client.count(scope=[container_filter("bob")]))

# %%
client.close()
emulator.stop()

# %% [markdown]
# ## Part 2: `MembraneMemoryMiddleware` (needs membraned)
#
# The same agent on Membrane. The next cell starts a throwaway `membraned` on 127.0.0.1 with a
# temporary database, found or built by the package launcher; when none can be had the cells
# marked `%%membraned` are skipped. The user's id is the record scope and the only trust scope
# of every recall; a captured message becomes a semantic record `user said <text>`.

# %%
%load_ext membrane_integrations.demo.notebook
from membrane_integrations.demo.notebook import start_membraned

daemon = start_membraned()

# %%
%%membraned
from membrane_integrations.langchain import MembraneMemoryMiddleware
from membrane_integrations.membrane import MembraneClient

membrane_client = MembraneClient(daemon.addr)
membrane_memory = MembraneMemoryMiddleware(client=membrane_client, capture="user", k=3)
model = AnswerFromMemory(requests=[])
agent = create_agent(model, tools=[], middleware=[membrane_memory], checkpointer=InMemorySaver())
_ = say(agent, membrane_memory, "I am vegetarian and avoid fish.", thread="monday", user="bob")
_ = say(agent, membrane_memory, "What should I cook tonight?", thread="friday", user="bob")
model_input(model)
_ = say(agent, membrane_memory, "What should I cook tonight?", thread="alice-1", user="alice")

# %%
%%membraned
membrane_client.close()
daemon.stop()

# %% [markdown]
# ## The same with the store
#
# The middleware recalls and captures on its own. An agent can also be given a LangGraph
# store backed by Membrain or Membrane (`create_agent(..., store=...)`), which its tools read
# and write through `ToolRuntime.store`; the cells below show it.

# %% [markdown]
# ## The same memory through a LangGraph store
#
# `MembrainStore` and `MembraneStore` are LangGraph `BaseStore`s: pass one to
# `create_agent(..., store=...)` and every tool can read and write long-term memory through
# `runtime.store`, in any thread. A namespace is confined to the store's container (Membrain)
# or scope (Membrane); `put` on an existing key replaces it. Here the agent saves a preference
# in one thread and reads it back in another, with a scripted model (no LLM needed).

# %%
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
from membrane_integrations.demo.notebook import start_membraned

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
%%membraned
membrane_client.close()
store_daemon.stop()

# %%
store_client.close()
store_emulator.stop()
