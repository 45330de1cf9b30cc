# %% [markdown]
# # Membrain as a RAG retriever (LCEL)
#
# `MembrainRetriever` turns Membrain search hits into LangChain `Document`s. This notebook
# stores team notes in two **containers** (two teams) and tagged with **time buckets** (months),
# then compares the raw graph-native ranking with the reranked one, slices by container and by
# month, and runs the retriever inside an LCEL RAG chain.
#
# **Runs offline by default** (the bundled Membrain emulator in process and a deterministic chat
# model from `membrane_integrations.testing`); with `OPENAI_API_KEY` set and `langchain-openai`
# installed the chain uses a real model, and with `MEMBRAIN_BASE_URL` / `MEMBRAIN_API_KEY` a
# hosted Membrain.

# %%
import os

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain import MembrainClient

if os.environ.get("MEMBRAIN_BASE_URL") and os.environ.get("MEMBRAIN_API_KEY"):
    emulator = None
    client = MembrainClient()  # reads MEMBRAIN_API_KEY and MEMBRAIN_BASE_URL
else:
    emulator = MembrainEmulator().start()
    client = emulator.client()
print("Membrain at", emulator.url if emulator else os.environ["MEMBRAIN_BASE_URL"])

# %% [markdown]
# ## Store team notes with container and time-bucket tokens
#
# `container_token` and `time_token` build the stored scope tokens (`container.nb-payments`,
# `time.month.2026-03`); `container_filter` and `time_filter` build the anchored regexes that
# select them. Filters are ANDed: each must match a token of the memory.

# %%
from datetime import date

from membrane_integrations.core.scope import time_filter, time_token
from membrane_integrations.membrain.tenancy import container_token

NOTES = {
    "nb-payments": [
        (date(2026, 2, 10), "The billing service is deployed on Fridays."),
        (date(2026, 2, 18), "Billing service deploys need a sign-off from the on-call engineer."),
        (date(2026, 3, 4), "Since March the billing service is deployed on Mondays."),
        (date(2026, 3, 12), "Billing service rollbacks are done with the release script, not by hand."),
    ],
    "nb-search": [
        (date(2026, 3, 5), "The search indexer is deployed every night at 02:00."),
    ],
}
for team, notes in NOTES.items():
    for when, note in notes:
        result = client.add(note, scope=[container_token(team), time_token("month", when)])
        print(f"{result.action:8} {team:12} {time_token('month', when)}  {note}")

# %% [markdown]
# ## Raw vs reranked
#
# Raw search is graph-native: `k` counts memory nodes *and* relationship edges between them.
# Reranked search folds the edges onto their memories and returns `k` memory nodes.
# `include_edges=True` keeps edges as documents of type `relationship_edge`.

# %%
from membrane_integrations.langchain import MembrainRetriever

QUESTION = "Which weekday do we ship billing?"


def show(docs):
    for doc in docs:
        meta = doc.metadata
        print(f"  {meta['type']:18} {meta.get('semantic_score', 0):5.2f}  {doc.page_content}")


raw = MembrainRetriever(client=client, container="nb-payments", k=4, rerank=False, include_edges=True)
reranked = MembrainRetriever(client=client, container="nb-payments", k=3, rerank=True)
print("raw:")
show(raw.invoke(QUESTION))
print("reranked:")
show(reranked.invoke(QUESTION))

# %% [markdown]
# ## Scope slices: container and time bucket
#
# The `nb-payments` retriever never returns the `nb-search` team's note, whatever the query.
# Adding `scope=[time_filter("month", ...)]` narrows it further to one month.

# %%
march = MembrainRetriever(
    client=client, container="nb-payments", k=3, scope=[time_filter("month", date(2026, 3, 1))]
)
search_team = MembrainRetriever(client=client, container="nb-search", k=3)

print("payments, March 2026 only:")
show(march.invoke(QUESTION))
print("search team (same question, its own container):")
show(search_team.invoke(QUESTION))

# %% [markdown]
# Each document carries the memory id and its scope, and the related memories the graph links
# to it:

# %%
doc = march.invoke(QUESTION)[0]
print(doc.id)
print({k: v for k, v in doc.metadata.items() if k != "related_memories"})
for related in doc.metadata["related_memories"]:
    print("  related:", related["content"])

# %% [markdown]
# ## An LCEL RAG chain
#
# A real model when `OPENAI_API_KEY` is set (and `langchain-openai` installed); otherwise
# `MemoryRuleChatModel`, which answers from the first line of the prompt's `Context:` section.

# %%
import importlib.util

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough

if os.environ.get("OPENAI_API_KEY") and importlib.util.find_spec("langchain_openai"):
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"), temperature=0)
else:
    from membrane_integrations.testing import MemoryRuleChatModel

    model = MemoryRuleChatModel()  # offline: no network, no key

prompt = ChatPromptTemplate.from_messages(
    [
        ("system", "Answer the question from the context only. Later notes win."),
        ("human", "Context:\n{context}\n\nQuestion: {question}"),
    ]
)


def format_docs(docs):
    return "\n".join(doc.page_content for doc in docs)


def rag_chain(retriever):
    return (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | prompt
        | model
        | StrOutputParser()
    )


print("all months: ", rag_chain(reranked).invoke(QUESTION))
print("March only: ", rag_chain(march).invoke(QUESTION))

# %% [markdown]
# ## Interpreted search
#
# With `response_format="interpreted"` Membrain also returns a synthesis of what it retrieved;
# the retriever puts it first, as a document of type `interpreted`.

# %%
interpreted = MembrainRetriever(
    client=client, container="nb-payments", k=3, response_format="interpreted"
)
for doc in interpreted.invoke(QUESTION):
    print(f"{doc.metadata['type']:12} {doc.page_content}")

# %% [markdown]
# ## Clean up

# %%
from membrane_integrations.membrain.tenancy import container_filter

for team in NOTES:
    print(team, client.delete_bulk(scope=[container_filter(team)]).deleted_count, "deleted")
client.close()
if emulator is not None:
    emulator.stop()
