"""Membrane tools and retriever against a real membraned (sync and async).

One daemon serves the module; every test works in its own scope, so records do not mix.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from membrane_integrations.langchain import MembraneRetriever, MembraneToolkit
from membrane_integrations.langchain.membrane_tools import MembraneActionResult
from membrane_integrations.membrane import (
    AsyncMembraneClient,
    MembraneClient,
    MemoryRecord,
    Sensitivity,
    TrustContext,
)
from tests.support.membraned import Membraned, require_daemon, running_daemon

pytestmark = pytest.mark.live

TRUST = TrustContext(max_sensitivity=Sensitivity.MEDIUM, authenticated=True)


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    """The real daemon of this module."""
    with Membraned(require_daemon()) as server:
        yield server


@pytest.fixture(scope="module")
def client(daemon: Membraned) -> Iterator[MembraneClient]:
    with MembraneClient(daemon.addr, timeout=10) as c:
        yield c


@pytest.fixture
async def aclient(daemon: Membraned) -> AsyncIterator[AsyncMembraneClient]:
    async with AsyncMembraneClient(daemon.addr, timeout=10) as c:
        yield c


def _kit(client: Any, aclient: Any, scope: str, **kw: Any) -> dict[str, BaseTool]:
    kit = MembraneToolkit(
        client=client,
        async_client=aclient,
        trust=TRUST,
        actor="agent-7",
        scope=scope,
        include_revision_tools=True,
        **kw,
    )
    return {t.name: t for t in kit.get_tools()}


async def use(tool: BaseTool, mode: str, ok: bool = True, **args: Any) -> ToolMessage:
    call = {"type": "tool_call", "id": "c1", "name": tool.name, "args": args}
    message = tool.invoke(call) if mode == "sync" else await tool.ainvoke(call)
    assert isinstance(message, ToolMessage)
    assert (message.status == "success") is ok, message.content
    return message


async def round_trip(client: Any, aclient: Any, mode: str, scope: str) -> None:
    t = _kit(client, aclient, scope)
    event = await use(
        t["membrane_ingest_event"],
        mode,
        event_kind="file_edit",
        ref="src/auth.py",
        summary="Refactored the login handler",
        tags=["auth"],
    )
    event_record = event.artifact
    assert isinstance(event_record, MemoryRecord) and event_record.scope == scope
    assert "Refactored the login handler" in str(event.content)
    fact = await use(
        t["membrane_ingest_observation"],
        mode,
        subject="user",
        predicate="prefers",
        object={"language": "Python"},
        sensitivity="public",
    )
    assert fact.artifact.sensitivity == Sensitivity.LOW  # never below the floor
    output = await use(
        t["membrane_ingest_tool_output"],
        mode,
        tool_name="run_tests",
        args={"suite": "auth"},
        result={"passed": 42, "failed": 0},
        depends_on=[event_record.id],
    )
    assert "run_tests" in str(output.content)
    state = await use(
        t["membrane_ingest_working_state"],
        mode,
        thread_id="t-1",
        state="executing",
        next_actions=["deploy"],
        context_summary="Tests pass",
    )
    assert "thread t-1 is executing" in str(state.content)
    outcome = await use(
        t["membrane_ingest_outcome"],
        mode,
        target_record_id=event_record.id,
        outcome_status="success",
    )
    assert "success" in str(outcome.content)

    found = await use(t["membrane_retrieve"], mode, task_descriptor="Fix the login bug", limit=20)
    ids = {r.id for r in found.artifact}
    assert {event_record.id, fact.artifact.id, state.artifact.id} <= ids
    assert all(r.scope == scope for r in found.artifact)
    assert 'user prefers {"language": "Python"}' in str(found.content)
    semantic = await use(
        t["membrane_retrieve"],
        mode,
        task_descriptor="What does the user prefer?",
        memory_types=["semantic"],
    )
    assert [r.id for r in semantic.artifact] == [fact.artifact.id]

    reinforced = await use(
        t["membrane_reinforce"], mode, record_id=fact.artifact.id, rationale="It was right"
    )
    assert isinstance(reinforced.artifact, MembraneActionResult)
    penalized = await use(
        t["membrane_penalize"],
        mode,
        record_id=state.artifact.id,
        amount=0.1,
        rationale="Stale",
    )
    assert penalized.artifact.action == "penalize"
    newer = await use(
        t["membrane_supersede"],
        mode,
        record_id=fact.artifact.id,
        payload_changes={"object": {"language": "Go"}},
        rationale="User switched to Go",
    )
    assert newer.artifact.payload.object == {"language": "Go"}
    assert newer.artifact.scope == scope
    await use(
        t["membrane_contest"],
        mode,
        record_id=newer.artifact.id,
        contesting_ref=event_record.id,
        rationale="Conflicting evidence",
    )
    await use(t["membrane_retract"], mode, record_id=state.artifact.id, rationale="Done")

    audited = client.retrieve_by_id(fact.artifact.id, trust=TRUST)
    changes = [e for e in audited.audit_log if e.action.value != "create"]
    assert changes and {e.actor for e in changes} == {"agent-7"}


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_every_membrane_tool(
    mode: str, client: MembraneClient, aclient: AsyncMembraneClient
) -> None:
    await round_trip(client, aclient, mode, scope=f"project-{mode}-{uuid.uuid4().hex[:6]}")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_trust_scope_and_actor_cannot_be_widened_by_the_model(
    mode: str, client: MembraneClient, aclient: AsyncMembraneClient
) -> None:
    scope = f"tenant-{uuid.uuid4().hex[:6]}"
    secret = client.ingest_observation(
        "user", "password-hint", "blue", sensitivity=Sensitivity.HIGH, scope=scope
    )
    foreign = client.ingest_observation("user", "likes", "tea", scope=scope + "-other")
    t = _kit(client, aclient, scope)
    found = await use(t["membrane_retrieve"], mode, task_descriptor="What does the user like?")
    assert all(r.id not in (secret.id, foreign.id) for r in found.artifact)
    assert "blue" not in str(found.content) and "tea" not in str(found.content)
    marked = _kit(client, aclient, scope, include_redacted=True)["membrane_retrieve"]
    shown = await use(marked, mode, task_descriptor="What does the user like?")
    redacted = [r for r in shown.artifact if r.id == secret.id]
    assert redacted and redacted[0].redacted and "blue" not in str(shown.content)
    assert "[redacted" in str(shown.content)

    for name, args in [
        ("membrane_reinforce", {"rationale": "x"}),
        ("membrane_penalize", {"rationale": "x"}),
        ("membrane_retract", {"rationale": "x"}),
        ("membrane_contest", {"rationale": "x", "contesting_ref": "r"}),
        ("membrane_supersede", {"rationale": "x", "payload_changes": {"object": "y"}}),
    ]:
        for target in (secret.id, foreign.id, "no-such-record"):
            refused = await use(t[name], mode, ok=False, record_id=target, **args)
            assert f"record {target!r} was not found" in str(refused.content)
    bad = await use(
        t["membrane_ingest_outcome"],
        mode,
        ok=False,
        target_record_id=foreign.id,
        outcome_status="failure",
    )
    assert "not found" in str(bad.content)
    for extra in ({"trust": {"max_sensitivity": "hyper"}}, {"actor": "root"}, {"scope": "x"}):
        widened = await use(t["membrane_retrieve"], mode, ok=False, task_descriptor="all", **extra)
        assert "Invalid tool arguments" in str(widened.content)
    untouched = client.retrieve_by_id(foreign.id, trust=TrustContext(Sensitivity.HYPER))
    assert untouched.salience == foreign.salience and not any(
        e.actor == "agent-7" for e in untouched.audit_log
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_retriever_documents(
    mode: str, client: MembraneClient, aclient: AsyncMembraneClient
) -> None:
    scope = f"rag-{uuid.uuid4().hex[:6]}"
    for i in range(4):
        client.ingest_observation("service", f"fact-{i}", f"value {i}", tags=["svc"], scope=scope)
    hidden = client.ingest_observation(
        "service", "secret", "s3cr3t", sensitivity=Sensitivity.HIGH, scope=scope
    )
    client.ingest_observation("service", "elsewhere", "x", scope="not-" + scope)
    retriever = MembraneRetriever(
        client=client, async_client=aclient, trust=TRUST, scope=scope, k=3
    )

    async def get(r: MembraneRetriever, **kw: Any) -> list[Any]:
        query = "What do we know about the service?"
        return r.invoke(query, **kw) if mode == "sync" else await r.ainvoke(query, **kw)

    docs = await get(retriever)
    assert len(docs) == 3
    for doc in docs:
        assert doc.id == doc.metadata["id"]
        assert doc.metadata["scope"] == scope and doc.metadata["type"] == "semantic"
        assert doc.metadata["tags"] == ["svc"] and doc.metadata["redacted"] is False
        assert doc.page_content.startswith("service fact-")
        assert set(doc.metadata) >= {"sensitivity", "salience", "confidence"}
    assert len(await get(retriever, k=10)) == 4
    marked = dataclasses.replace(TRUST)
    shown = await get(
        MembraneRetriever(
            client=client, async_client=aclient, trust=marked, scope=scope, k=10, redacted="mark"
        )
    )
    redacted = [d for d in shown if d.id == hidden.id]
    assert redacted and redacted[0].metadata["redacted"] is True
    assert "s3cr3t" not in redacted[0].page_content


@pytest.mark.membraned
def test_against_real_membraned() -> None:
    with running_daemon() as daemon, daemon.client() as client:
        import asyncio

        async def main() -> None:
            async with daemon.async_client() as aclient:
                await round_trip(client, aclient, "sync", scope="real-daemon")
                await round_trip(client, aclient, "async", scope="real-daemon-async")

        asyncio.run(main())


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_agent_recalls_a_membrane_fact(
    mode: str, client: MembraneClient, aclient: AsyncMembraneClient
) -> None:
    from langchain.agents import create_agent
    from langchain_core.messages import HumanMessage

    from membrane_integrations.testing import MemoryRuleChatModel

    scope = f"agent-{uuid.uuid4().hex[:6]}"
    client.ingest_observation("user", "prefers", "dark mode", scope=scope)
    kit = MembraneToolkit(
        client=client, async_client=aclient, trust=TRUST, actor="agent-7", scope=scope
    )
    model = MemoryRuleChatModel(search_tool="membrane_retrieve", query_arg="task_descriptor")
    agent = create_agent(model, tools=kit.get_tools())
    state = {"messages": [HumanMessage("Which theme does the user prefer?")]}
    result = agent.invoke(state) if mode == "sync" else await agent.ainvoke(state)
    assert result["messages"][-1].content == "From memory: user prefers dark mode"
