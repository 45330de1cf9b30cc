"""The demo's Membrain stories (the terminal twins of notebooks 01-03).

Each story takes a :class:`MembrainTarget` (where Membrain is and the key), a container id that
confines everything it stores, and a :class:`~.console.Console`. Stories return what they
stored and recalled, so a test can check them; everything they print is short and readable.

Example:
    >>> import io
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> with MembrainEmulator() as emu:
    ...     target = MembrainTarget(emu.url, emu.api_key)
    ...     result = agent_story(target, "doc-demo", Console(out=io.StringIO(), err=io.StringIO()))
    >>> result.answers[-2]
    "From memory: User's dog is called Rex."
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from pydantic import SecretStr

from ..core.scope import time_filter, time_token
from ..membrain import MembrainClient
from ..membrain.tenancy import container_token
from .console import Console, short
from .models import autogen_chat_client, langchain_chat_model, model_label

__all__ = [
    "MembrainTarget",
    "StoryResult",
    "agent_story",
    "autogen_story",
    "cleanup",
    "rag_story",
]

LEARN = (
    "Remember that I am vegetarian",
    "Remember that my dog is called Rex",
    "Remember that my office on Fridays is in Lisbon",
)
# Asked in other words than the facts were stored in: the emulator ranks by meaning (WordLlama).
ASK = ("Which pet do I have?", "Where do I work at the end of the week?")

# Team notes of two months: (month, note). The RAG story slices them by month.
NOTES = (
    (date(2026, 2, 10), "The billing service is deployed on Fridays."),
    (date(2026, 2, 18), "Billing service deploys need a sign-off from the on-call engineer."),
    (date(2026, 3, 4), "Since March the billing service is deployed on Mondays."),
    (date(2026, 3, 12), "Billing service rollbacks are done with the release script, not by hand."),
)
RAG_QUESTION = "Which weekday do we ship billing?"

PANTRY = (
    "Bob is vegetarian and avoids fish.",
    "Bob's daughter is allergic to peanuts.",
    "Bob prefers Italian food on weekends.",
)
AUTOGEN_TASK = "I am cooking for Bob's family tonight: is anyone allergic to something?"


@dataclass(frozen=True)
class MembrainTarget:
    """A Membrain server: its root URL (without ``/api/v1``) and API key."""

    base_url: str
    api_key: str = field(repr=False)

    def client(self) -> MembrainClient:
        """A new synchronous client (the caller closes it)."""
        return MembrainClient(self.api_key, base_url=self.base_url)


@dataclass
class StoryResult:
    """What a story stored, what it recalled and what the agent answered."""

    stored: list[str] = field(default_factory=list)
    recalled: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)


def _show_turn(messages: list[BaseMessage], console: Console, result: StoryResult) -> None:
    for message in messages:
        if isinstance(message, AIMessage) and message.tool_calls:
            for call in message.tool_calls:
                args = ", ".join(f"{k}={v!r}" for k, v in call["args"].items())
                console.say(short(f"tool call   {call['name']}({args})"), indent=5)
        elif isinstance(message, ToolMessage):
            lines = message.text.splitlines() or [""]
            shown = lines[1] if len(lines) > 1 and lines[0].endswith("results.") else lines[0]
            console.say(short(f"tool result {shown.strip()}"), indent=5)
            if message.name == "membrain_add":
                result.stored.append(message.text)
            else:
                result.recalled.append(message.text)
        elif isinstance(message, AIMessage):
            console.say(short(f"agent: {message.text}"), indent=5)
            result.answers.append(message.text)


def agent_story(target: MembrainTarget, container: str, console: Console) -> StoryResult:
    """A LangChain agent with the Membrain toolkit learns facts, then uses them next time."""
    from langchain.agents import create_agent

    from ..langchain import MembrainToolkit

    console.heading("1. A LangChain agent with Membrain tools remembers a user")
    result = StoryResult()
    model = langchain_chat_model()
    console.say(f"model: {model_label(model)}")
    with target.client() as client:
        toolkit = MembrainToolkit(client=client, container=container)
        # the Membrain guide's recommended system prompt (§8.1), shipped with the toolkit
        agent = create_agent(model, toolkit.get_tools(), system_prompt=toolkit.system_prompt())
        for title, turns in (("Conversation 1", LEARN), ("Conversation 2 (a new thread)", ASK)):
            console.say(title + ":")
            for text in turns:
                console.say(f"user: {text}", indent=5)
                with console.wait("the agent is thinking"):
                    state = agent.invoke({"messages": [{"role": "user", "content": text}]})
                _show_turn(state["messages"][1:], console, result)
    return result


def _format_docs(docs: list[Document]) -> str:
    return "\n".join(doc.page_content for doc in docs)


def _show_docs(label: str, docs: list[Document], console: Console) -> list[str]:
    console.say(label)
    for doc in docs:
        score = round(float(doc.metadata.get("semantic_score") or 0.0), 2) or 0.0
        kind = "edge  " if doc.metadata.get("type") == "relationship_edge" else "memory"
        console.say(short(f"{score:5.2f} {kind} {doc.page_content}"), indent=5)
    return [doc.page_content for doc in docs]


def rag_story(target: MembrainTarget, container: str, console: Console) -> StoryResult:
    """``MembrainRetriever`` in an LCEL chain: the container's best matches, then the same
    question on a time-bucket slice, which is what lets the chain answer with the current rule."""
    from ..langchain import MembrainRetriever

    console.heading("2. MembrainRetriever in a RAG chain (LCEL)")
    result = StoryResult()
    with target.client() as client:
        with console.wait(f"storing {len(NOTES)} team notes"):
            for when, note in NOTES:
                client.add(note, scope=[container_token(container), time_token("month", when)])
                result.stored.append(note)
        console.say(f"stored {len(NOTES)} notes tagged by month (time.month.2026-02 / 2026-03)")
        everything = MembrainRetriever(client=client, container=container, k=4)
        march = MembrainRetriever(
            client=client,
            container=container,
            k=2,
            scope=[time_filter("month", date(2026, 3, 1))],
        )
        console.say(f"question: {RAG_QUESTION}")
        with console.wait("searching"):
            slices = [(r, r.invoke(RAG_QUESTION)) for r in (everything, march)]
        labels = (
            "the whole container (the old Friday rule ranks first):",
            "only March 2026 (container AND time-bucket filter):",
        )
        for label, (_, docs) in zip(labels, slices, strict=True):
            result.recalled.extend(_show_docs(label, docs, console))
        prompt = ChatPromptTemplate.from_messages(
            [
                ("system", "Answer the question from the context only."),
                ("human", "Context:\n{context}\n\nQuestion: {question}"),
            ]
        )
        chain = (
            {"context": march | _format_docs, "question": RunnablePassthrough()}
            | prompt
            | langchain_chat_model()
            | StrOutputParser()
        )
        with console.wait("running the chain"):
            answer = chain.invoke(RAG_QUESTION)
        console.say(short(f"chain answer (March slice): {answer}"))
        result.answers.append(answer)
    return result


async def ask_the_cook(memory: Any, model: Any, console: Console, result: StoryResult) -> None:
    """Run an AutoGen ``AssistantAgent`` with ``memory`` on :data:`AUTOGEN_TASK`; say (and keep
    in ``result``) the memories injected into the model's context and the answer."""
    from autogen_agentchat.agents import AssistantAgent
    from autogen_agentchat.messages import MemoryQueryEvent

    agent = AssistantAgent("cook", model_client=model, memory=[memory])
    with console.wait("the agent is thinking"):
        run = await agent.run(task=AUTOGEN_TASK)
    for message in run.messages:
        if isinstance(message, MemoryQueryEvent):
            console.say("memories injected into the model's context:")
            for item in message.content:
                console.say(short(str(item.content)), indent=5)
                result.recalled.append(str(item.content))
    answer = run.messages[-1].to_text()
    console.say(short(f"agent: {answer}"))
    result.answers.append(answer)


async def _autogen(target: MembrainTarget, container: str, console: Console) -> StoryResult:
    from autogen_core.memory import MemoryContent, MemoryMimeType

    from ..autogen import MembrainMemory, MembrainMemoryConfig

    result = StoryResult()
    config = MembrainMemoryConfig(
        container=container, base_url=target.base_url, api_key=SecretStr(target.api_key), k=3
    )
    memory = MembrainMemory(config)
    try:
        with console.wait(f"storing {len(PANTRY)} memories"):
            for fact in PANTRY:
                await memory.add(
                    MemoryContent(content=fact, mime_type=MemoryMimeType.TEXT, metadata={})
                )
                result.stored.append(fact)
        console.say(short(f"stored: {' '.join(PANTRY)}"))
        model: Any = autogen_chat_client()
        console.say(f"model: {model_label(model)}")
        console.say(f"task: {AUTOGEN_TASK}")
        await ask_the_cook(memory, model, console, result)
        await model.close()
    finally:
        await memory.close()
    return result


def autogen_story(target: MembrainTarget, container: str, console: Console) -> StoryResult:
    """An AutoGen ``AssistantAgent`` with ``MembrainMemory``: the memories it is given."""
    console.heading("3. An AutoGen agent with MembrainMemory")
    return asyncio.run(_autogen(target, container, console))


def cleanup(target: MembrainTarget, containers: list[str]) -> int:
    """Delete everything the stories stored in ``containers``; returns how many were deleted."""
    from ..membrain.tenancy import container_filter

    deleted = 0
    with target.client() as client:
        for container in containers:
            deleted += client.delete_bulk(scope=[container_filter(container)]).deleted_count
    return deleted
