"""Membrane tools, retriever and rendering over a recording fake client (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from membrane_integrations.core.errors import PermissionDeniedError
from membrane_integrations.langchain import MembraneRetriever, MembraneToolkit
from membrane_integrations.membrane import (
    CompetencePayload,
    EpisodicPayload,
    MemoryRecord,
    MemoryType,
    PlanGraphPayload,
    PlanNode,
    RecipeStep,
    SemanticPayload,
    Sensitivity,
    TimelineEvent,
    TrustContext,
    WorkingPayload,
)
from membrane_integrations.tools._format_membrane import render_payload, render_records
from tests.unit.langchain.lc_fakes import AsyncFakeMembrain


class FakeMembrane:
    def __init__(self, records: list[MemoryRecord]) -> None:
        self.records = {r.id: r for r in records}
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def close(self) -> None:
        self.calls.append(("close", (), {}))

    def to_async(self) -> AsyncFakeMembrain:
        self.calls.append(("to_async", (), {}))
        return AsyncFakeMembrain(self)

    def retrieve(self, task: str, **kwargs: Any) -> list[MemoryRecord]:
        self.calls.append(("retrieve", (task,), kwargs))
        return list(self.records.values())

    def retrieve_by_id(self, record_id: str, **kwargs: Any) -> MemoryRecord:
        self.calls.append(("retrieve_by_id", (record_id,), kwargs))
        if record_id not in self.records:
            raise PermissionDeniedError("access denied", grpc_code="PERMISSION_DENIED")
        return self.records[record_id]

    def ingest_observation(self, *args: Any, **kwargs: Any) -> MemoryRecord:
        self.calls.append(("ingest_observation", args, kwargs))
        return MemoryRecord(
            id="new",
            sensitivity=Sensitivity(kwargs["sensitivity"]),
            scope=kwargs["scope"],
            payload=SemanticPayload(subject=args[0], predicate=args[1], object=args[2]),
        )

    def reinforce(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("reinforce", args, kwargs))


def fact(record_id: str, scope: str, payload: Any = "tea") -> MemoryRecord:
    sem = (
        None
        if payload is None
        else SemanticPayload(subject="user", predicate="likes", object=payload)
    )
    return MemoryRecord(id=record_id, type=MemoryType.SEMANTIC, scope=scope, payload=sem)


@pytest.fixture
def fake() -> FakeMembrane:
    return FakeMembrane(
        [fact("mine", "p1"), fact("theirs", "p2", "coffee"), fact("hidden", "p1", None)]
    )


def tools(fake: FakeMembrane, **kw: Any) -> dict[str, BaseTool]:
    kit = MembraneToolkit(
        client=fake,
        trust=TrustContext(max_sensitivity=Sensitivity.MEDIUM),
        actor="agent-1",
        scope="p1",
        sensitivity=Sensitivity.MEDIUM,
        **kw,
    )
    return {t.name: t for t in kit.get_tools()}


def call(tool: BaseTool, **args: Any) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "id": "1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return message


def test_retrieve_sends_fixed_trust_and_keeps_own_scope(fake: FakeMembrane) -> None:
    message = call(tools(fake)["membrane_retrieve"], task_descriptor="What does the user like?")
    ((_, _, kwargs),) = fake.calls
    trust = kwargs["trust"]
    assert trust.max_sensitivity == Sensitivity.MEDIUM
    assert trust.actor_id == "agent-1" and trust.scopes == ["p1"]
    assert [r.id for r in message.artifact] == ["mine"]
    assert "coffee" not in str(message.content)
    marked = call(tools(fake, include_redacted=True)["membrane_retrieve"], task_descriptor="x?")
    assert [r.id for r in marked.artifact] == ["mine", "hidden"]
    assert "[redacted" in str(marked.content)


def test_model_cannot_pass_trust_actor_or_lower_sensitivity(fake: FakeMembrane) -> None:
    t = tools(fake)
    for extra in ({"trust": {}}, {"actor": "root"}, {"scope": "p2"}, {"source": "x"}):
        message = call(t["membrane_retrieve"], task_descriptor="x", **extra)
        assert message.status == "error" and "Invalid tool arguments" in str(message.content)
    low = call(
        t["membrane_ingest_observation"], subject="u", predicate="p", object=1, sensitivity="public"
    )
    assert low.artifact.sensitivity == Sensitivity.MEDIUM
    high = call(
        t["membrane_ingest_observation"], subject="u", predicate="p", object=1, sensitivity="hyper"
    )
    assert high.artifact.sensitivity == Sensitivity.HYPER
    kwargs = next(k for n, _, k in fake.calls if n == "ingest_observation")
    assert kwargs["scope"] == "p1" and kwargs["source"] == "langchain"


def test_by_id_tools_hide_foreign_denied_and_redacted_records(fake: FakeMembrane) -> None:
    t = tools(fake)
    for target in ("theirs", "hidden", "absent"):
        message = call(t["membrane_reinforce"], record_id=target, rationale="r")
        assert message.status == "error"
        assert f"record {target!r} was not found" in str(message.content)
    assert not [c for c in fake.calls if c[0] == "reinforce"]
    ok = call(t["membrane_reinforce"], record_id="mine", rationale="helped")
    assert ok.artifact.record_id == "mine"
    assert [c[1] for c in fake.calls if c[0] == "reinforce"] == [("mine", "agent-1", "helped")]


def test_toolkit_lists_core_and_revision_tools(fake: FakeMembrane) -> None:
    assert len(tools(fake)) == 8
    assert set(tools(fake, include_revision_tools=True)) >= {
        "membrane_supersede",
        "membrane_retract",
        "membrane_contest",
    }
    with pytest.raises(ValueError, match="client"):
        MembraneToolkit(actor="a")


def test_retriever_filters_and_marks(fake: FakeMembrane) -> None:
    docs = MembraneRetriever(client=fake, scope="p1").invoke("q")
    assert [d.id for d in docs] == ["mine"]
    assert docs[0].page_content == "user likes tea"
    marked = MembraneRetriever(client=fake, scope="p1", redacted="mark").invoke("q")
    assert [d.metadata["redacted"] for d in marked] == [False, True]
    assert fake.calls[-1][2]["limit"] == 15
    assert len(MembraneRetriever(client=fake).invoke("q", k=2)) == 2


def test_payload_rendering() -> None:
    def rec(payload: Any) -> MemoryRecord:
        return MemoryRecord(id="r", payload=payload)

    episode = EpisodicPayload(
        timeline=[TimelineEvent(event_kind="error", ref="job", summary="boom")]
    )
    assert render_payload(rec(episode)) == "error job: boom"
    working = WorkingPayload(thread_id="t", next_actions=["a"], context_summary="ctx")
    assert render_payload(rec(working)) == "thread t is planning: ctx; next: a"
    skill = CompetencePayload(skill_name="deploy", recipe=[RecipeStep(step="build")])
    assert render_payload(rec(skill)) == "skill deploy: build"
    plan = PlanGraphPayload(plan_id="p", intent="ship", nodes=[PlanNode(op="test")])
    assert render_payload(rec(plan)) == "plan p: ship (test)"
    assert render_payload(rec({"kind": "x", "v": 1})) == '{"kind": "x", "v": 1}'
    assert render_records([]).startswith("No memory records")
    many = render_records([rec(SemanticPayload(subject="s" * 300)) for _ in range(30)], budget=900)
    assert len(many) <= 1000 and "trimmed" in many
