"""An agent that remembers across conversations, and a RAG chain, over the emulator (no LLM)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import MembrainRetriever, MembrainToolkit
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient
from membrane_integrations.membrain.tenancy import container_filter
from membrane_integrations.testing import MemoryRuleChatModel

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def emu() -> Iterator[MembrainEmulator]:
    with MembrainEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def client(emu: MembrainEmulator) -> Iterator[MembrainClient]:
    with emu.client() as c:
        yield c


@pytest.fixture
async def aclient(emu: MembrainEmulator) -> AsyncIterator[AsyncMembrainClient]:
    async with emu.async_client() as c:
        yield c


def _messages(result: dict[str, Any]) -> list[Any]:
    messages: list[Any] = result["messages"]
    return messages


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_agent_remembers_a_fact_in_a_later_conversation(
    mode: str, client: MembrainClient, aclient: AsyncMembrainClient
) -> None:
    container = f"agent-{mode}-{uuid.uuid4().hex[:6]}"
    toolkit = MembrainToolkit(client=client, async_client=aclient, container=container)
    agent = create_agent(MemoryRuleChatModel(), tools=toolkit.get_tools())

    async def run(text: str) -> list[Any]:
        state = {"messages": [HumanMessage(text)]}
        result = agent.invoke(state) if mode == "sync" else await agent.ainvoke(state)
        return _messages(result)

    first = await run("Remember that my favourite colour is teal")
    stored = [m for m in first if isinstance(m, ToolMessage)]
    assert [m.name for m in stored] == ["membrain_add"]
    assert stored[0].status == "success"
    assert stored[0].artifact.memory.content == "User's favourite colour is teal."
    assert client.count(scope=[container_filter(container)]) == 1

    second = await run("What is my favourite colour?")  # a fresh history: only memory links them
    assert not any("teal" in str(m.content) for m in second[:1])
    searched = [m for m in second if isinstance(m, ToolMessage)]
    assert [m.name for m in searched] == ["membrain_search"]
    assert searched[0].artifact.nodes[0].content == "User's favourite colour is teal."
    answer = second[-1]
    assert isinstance(answer, AIMessage)
    assert answer.content == "From memory: User's favourite colour is teal."

    other = MembrainToolkit(client=client, async_client=aclient, container=container + "-x")
    stranger = create_agent(MemoryRuleChatModel(), tools=other.get_tools())
    state = {"messages": [HumanMessage("What is my favourite colour?")]}
    result = stranger.invoke(state) if mode == "sync" else await stranger.ainvoke(state)
    assert "teal" not in str(_messages(result)[-1].content)


def _format(docs: list[Document]) -> str:
    return "\n".join(doc.page_content for doc in docs)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_rag_chain_answers_from_retrieved_memories(
    mode: str, client: MembrainClient, aclient: AsyncMembrainClient
) -> None:
    container = f"rag-{mode}-{uuid.uuid4().hex[:6]}"
    writer = {t.name: t for t in MembrainToolkit(client=client, container=container).get_tools()}
    writer["membrain_add"].invoke({"content": "The team deploys to production on Fridays"})
    retriever = MembrainRetriever(client=client, async_client=aclient, container=container, k=1)
    prompt = ChatPromptTemplate.from_messages(
        [("human", "Context:\n{context}\n\nQuestion: {question}")]
    )
    chain = (
        {"context": retriever | _format, "question": RunnablePassthrough()}
        | prompt
        | MemoryRuleChatModel()
        | StrOutputParser()
    )
    question = "When does the team deploy?"
    answer = chain.invoke(question) if mode == "sync" else await chain.ainvoke(question)
    assert answer == "Based on the context: The team deploys to production on Fridays"
