# %% [markdown]
# # Microsoft Agent Framework agents with long-term memory
#
# `MembrainContextProvider` and `MembraneContextProvider` are Agent Framework **context
# providers**: pass one to `Agent(context_providers=[...])`. Before each run the provider recalls
# memories relevant to the new user input and hands them to the model as one message marked as
# recalled data; after the run it stores the turn (capture policy `off`, `user` or
# `user_and_assistant`), once per message. This notebook shows exactly what the model receives.
#
# * Part 1: Membrain (HTTP), against the Membrain emulator started in this process.
# * Part 2: Membrane (gRPC), against a local **membraned** when one can be found or built.
#
# **Runs offline**: the model is a scripted chat client that answers from the first recalled
# memory, and records every request it gets.

# %%
from agent_framework import Agent, Message

from membrane_integrations.agent_framework import ScriptedChatClient


def answer_from_memory(messages: list[Message]) -> str:
    """The offline model: answer a question with the first recalled memory, if there is one."""
    if not messages[-1].text.rstrip().endswith("?"):
        return "Noted."
    for message in messages:
        lines = message.text.splitlines()
        if len(lines) > 1 and lines[1].startswith("1. "):
            return "From memory: " + lines[1][3:]
    return "Noted."


def model_input(chat: ScriptedChatClient) -> None:
    """Print what the model received on its last request."""
    for message in chat.requests[-1]:
        print(f"[{message.role}]\n{message.text}\n")

# %% [markdown]
# ## Part 1: `MembrainContextProvider`
#
# The identity (here the container `bob`) comes from the application, never from the model. It can
# be the config's default, set for a session (`provider.bind_session(session, container=...)`) or
# for a run (`with provider.identity(container=...)`). The API key is never serialised.

# %%
from pydantic import SecretStr

from membrane_integrations.agent_framework import MembrainContextConfig, MembrainContextProvider
from membrane_integrations.emulator import MembrainEmulator

emulator = MembrainEmulator().start()
memory = MembrainContextProvider(
    MembrainContextConfig(base_url=emulator.url, api_key=SecretStr(emulator.api_key), k=3)
)
print(memory.to_dict(), emulator.api_key in memory.to_json())

# %%
chat = ScriptedChatClient(answer_from_memory)
agent = Agent(client=chat, instructions="You are a helpful cook.", context_providers=[memory])
bob = agent.create_session()
memory.bind_session(bob, container="bob")

for fact in (
    "Bob's daughter is allergic to peanuts.",
    "Bob is vegetarian and avoids fish.",
):
    print((await agent.run(fact, session=bob)).text)
await memory.aflush()  # capture is written in the background after the reply: wait for it here

# %% [markdown]
# ### A new run, and what the model was given
#
# The recalled memories arrive as one user-role message before the new input, numbered,
# de-duplicated and trimmed to `max_context_chars`, with a header saying they are data. (The
# earlier turns after it are the session's history, kept by the framework's own history provider.)

# %%
reply = await agent.run("What should I keep in mind when I cook for Bob?", session=bob)
model_input(chat)
print("agent:", reply.text)

# %% [markdown]
# Another user of the same agent and provider sees nothing of Bob's:

# %%
with memory.identity(container="alice"):
    reply = await agent.run("What should I keep in mind when I cook for Bob?")
print("agent:", reply.text)
print("recalled for alice:", [m.text for m in chat.requests[-1] if "Recalled" in m.text])

await memory.aclose()
emulator.stop()

# %% [markdown]
# ## Part 2: `MembraneContextProvider` (needs membraned)
#
# The next cell starts a throwaway `membraned` on 127.0.0.1 with a temporary database, found or
# built by the package launcher; when none can be had the cells marked `%%membraned` are skipped.
# For Membrane the identity also carries the trust context: `actor_id` and `max_sensitivity`.

# %%
%load_ext membrane_integrations.demo.notebook
from membrane_integrations.demo.notebook import start_membraned

daemon = start_membraned()

# %%
%%membraned
from membrane_integrations.agent_framework import MembraneContextConfig, MembraneContextProvider

membrane_memory = MembraneContextProvider(
    MembraneContextConfig(addr=daemon.addr, container="bob", capture="user", k=3)
)
chat = ScriptedChatClient(answer_from_memory)
agent = Agent(client=chat, context_providers=[membrane_memory])
await agent.run("I am vegetarian and avoid fish.")
await membrane_memory.aflush()
with membrane_memory.identity(container="bob", actor_id="kitchen-app", max_sensitivity="low"):
    reply = await agent.run("What should I cook tonight?")
model_input(chat)
print("agent:", reply.text)

# %%
%%membraned
await membrane_memory.aclose()
daemon.stop()
