"""Scenarios of membraned v0.2.0 behaviour, written once and run three ways.

Each scenario takes a fresh daemon's client (sync or async; every call goes through ``resolve``)
and asserts the behaviour documented in ``shared/spec/membrane-grpc-v1.md``. They run:
- against the real daemon in ``test_membraned.py`` (recording cassettes when MEMBRANE_RECORD=1);
- against the TEST DOUBLE, recorded into a temporary cassette, in the cassette machinery tests;
- replayed from committed daemon cassettes in ``tests/cassette/membrane``.

Requests must be deterministic for replay: no client-side timestamps, ids only from replies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest

from membrane_integrations.core.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from membrane_integrations.membrane import (
    AsyncMembraneClient,
    AuditAction,
    EpisodicPayload,
    MembraneClient,
    MemoryType,
    OutcomeStatus,
    RevisionStatus,
    SemanticPayload,
    Sensitivity,
    TaskState,
    TrustContext,
    WorkingPayload,
)

Client = MembraneClient | AsyncMembraneClient
Scenario = Callable[[Client], Awaitable[None]]


async def resolve(value: Any) -> Any:
    import inspect

    return await value if inspect.isawaitable(value) else value


def _audit(record: Any) -> list[tuple[AuditAction, str, str]]:
    return [(a.action, a.actor, a.rationale) for a in record.audit_log]


async def ingestion(c: Client) -> None:
    """Every ingest RPC builds the record spec 4.9 describes."""
    event = await resolve(
        c.ingest_event("file_edit", "src/main.py", summary="Refactored auth", tags=["auth"])
    )
    assert event.type is MemoryType.EPISODIC
    assert (event.confidence, event.salience) == (0.8, 1.0)
    assert event.lifecycle.decay.half_life_seconds == 3600
    assert event.provenance.created_by == "ingestion-service"
    assert (event.provenance.sources[0].kind.value, event.provenance.sources[0].ref) == (
        "event",
        "src/main.py",
    )
    assert isinstance(event.payload, EpisodicPayload)
    assert event.payload.timeline[0].event_kind == "file_edit"
    assert _audit(event) == [
        (AuditAction.CREATE, "ingestion-service", "Ingested event from python-client")
    ]

    tool = await resolve(
        c.ingest_tool_output(
            "run_tests", args={"suite": "auth"}, result={"passed": 42}, depends_on=["x"]
        )
    )
    node = tool.payload.tool_graph[0]
    assert (tool.confidence, node.tool, node.args, node.result, node.depends_on) == (
        0.9,
        "run_tests",
        {"suite": "auth"},
        {"passed": 42},
        ["x"],
    )
    assert tool.payload.timeline[0].summary == "tool_call: run_tests"

    obs = await resolve(
        c.ingest_observation("user", "prefers", {"language": "Python"}, scope="team")
    )
    assert isinstance(obs.payload, SemanticPayload)
    assert (obs.type, obs.confidence, obs.scope) == (MemoryType.SEMANTIC, 0.7, "team")
    assert obs.payload.object == {"language": "Python"}
    assert obs.payload.validity.mode == "global"
    assert obs.payload.evidence[0].source_type == "observation"
    assert obs.payload.revision is None

    working = await resolve(
        c.ingest_working_state(
            "session-001",
            TaskState.EXECUTING,
            next_actions=["run tests", "deploy"],
            open_questions=["which region?"],
            context_summary="backend ready",
            active_constraints=[{"type": "budget", "key": "usd", "value": 5, "required": True}],
        )
    )
    assert isinstance(working.payload, WorkingPayload)
    assert working.payload.state is TaskState.EXECUTING
    assert working.payload.next_actions == ["run tests", "deploy"]
    assert working.payload.active_constraints[0].required is True

    outcome = await resolve(c.ingest_outcome(event.id, OutcomeStatus.SUCCESS))
    assert outcome.id == event.id
    assert outcome.payload.outcome is OutcomeStatus.SUCCESS
    assert outcome.provenance.sources[-1].ref == f"outcome:{event.id}:success"
    assert outcome.audit_log[-1].action is AuditAction.REVISE
    reread = await resolve(c.retrieve_by_id(event.id))
    assert reread.payload.outcome is OutcomeStatus.SUCCESS

    with pytest.raises(InvalidRequestError, match="is not episodic"):
        await resolve(c.ingest_outcome(obs.id, "failure"))


async def trust_gating(c: Client) -> None:
    """One level above max_sensitivity is redacted, two levels above is dropped; scopes filter."""
    low = await resolve(c.ingest_event("e", "low", sensitivity=Sensitivity.LOW))
    medium = await resolve(c.ingest_event("e", "medium", sensitivity="medium"))
    high = await resolve(c.ingest_event("e", "high", sensitivity=Sensitivity.HIGH))
    scoped = await resolve(c.ingest_event("e", "scoped", scope="project-b"))

    by_id = {r.id: r for r in await resolve(c.retrieve("anything", limit=0))}
    assert set(by_id) == {low.id, medium.id, scoped.id}
    assert not by_id[low.id].redacted
    redacted = by_id[medium.id]
    assert redacted.redacted and redacted.payload is None and redacted.audit_log == []
    assert redacted.provenance.sources == [] and redacted.relations == []

    trust = TrustContext(max_sensitivity=Sensitivity.MEDIUM, scopes=["project-a"])
    seen = {r.id: r for r in await resolve(c.retrieve("anything", trust=trust, limit=0))}
    assert scoped.id not in seen  # scope mismatch at an allowed level
    assert not seen[medium.id].redacted and seen[high.id].redacted

    with pytest.raises(PermissionDeniedError) as info:
        await resolve(c.retrieve_by_id(high.id))
    assert info.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "access denied" in info.value.details()


async def filters(c: Client) -> None:
    """memory_types and min_salience filter the records Retrieve returns."""
    event = await resolve(c.ingest_event("e", "r"))
    obs = await resolve(c.ingest_observation("s", "p", 1))
    working = await resolve(c.ingest_working_state("t", "planning"))
    await resolve(c.penalize(obs.id, 0.75, "agent", "weak"))

    only = await resolve(c.retrieve("x", memory_types=[MemoryType.SEMANTIC, "working"]))
    assert {r.id for r in only} == {obs.id, working.id}
    salient = await resolve(c.retrieve("x", min_salience=0.5))
    assert {r.id for r in salient} == {event.id, working.id}
    limited = await resolve(c.retrieve("x", limit=1))
    assert len(limited) == 1


async def reinforce_and_penalize(c: Client) -> None:
    """Penalize lowers salience (audit `decay`); Reinforce adds the gain (0 when ingested)."""
    obs = await resolve(c.ingest_observation("s", "p", "o"))
    await resolve(c.penalize(obs.id, 0.3, "agent-1", "misled"))
    after = await resolve(c.retrieve_by_id(obs.id))
    assert after.salience == pytest.approx(0.7)
    assert after.audit_log[-1].action is AuditAction.DECAY
    assert after.audit_log[-1].rationale == "penalty: misled"

    await resolve(c.reinforce(obs.id, "agent-1", "useful"))
    boosted = await resolve(c.retrieve_by_id(obs.id))
    assert boosted.salience == pytest.approx(0.7)  # ingested records have reinforcement_gain 0
    assert boosted.lifecycle.last_reinforced_at >= after.lifecycle.last_reinforced_at
    assert _audit(boosted)[-1] == (AuditAction.REINFORCE, "agent-1", "useful")

    gained = {**obs.to_dict(), "id": ""}
    gained["lifecycle"]["decay"]["reinforcement_gain"] = 0.2
    gained["salience"] = 0.5
    new = await resolve(c.fork(obs.id, gained, "agent-1", "with gain"))
    await resolve(c.reinforce(new.id, "agent-1", "again"))
    assert (await resolve(c.retrieve_by_id(new.id))).salience == pytest.approx(0.7)

    await resolve(c.penalize(obs.id, 5.0, "agent-1", "floor"))
    assert (await resolve(c.retrieve_by_id(obs.id))).salience == 0


async def supersede(c: Client) -> None:
    """Supersede: old record salience 0 and `revise`; new record links and `create`."""
    old = await resolve(c.ingest_observation("service", "version", "1.0"))
    doc = old.to_dict()
    doc["id"] = ""
    doc["payload"]["object"] = "2.0"
    new = await resolve(c.supersede(old.id, doc, actor="agent-1", rationale="upgrade"))
    assert new.id and new.id != old.id
    assert new.payload.object == "2.0"
    assert new.payload.revision.supersedes == old.id
    assert new.payload.revision.status is RevisionStatus.ACTIVE
    assert ("supersedes", old.id) in [(r.kind, r.target_id) for r in new.relations]
    assert _audit(new)[-1] == (AuditAction.CREATE, "agent-1", f"supersedes {old.id}: upgrade")

    old_after = await resolve(c.retrieve_by_id(old.id))
    assert old_after.salience == 0
    assert old_after.payload.revision.status is RevisionStatus.RETRACTED
    assert _audit(old_after)[-1] == (
        AuditAction.REVISE,
        "agent-1",
        f"superseded by {new.id}: upgrade",
    )

    episodic = await resolve(c.ingest_event("e", "r"))
    with pytest.raises(ConflictError) as info:
        await resolve(c.supersede(episodic.id, doc, "agent-1", "no"))
    assert info.value.code() is grpc.StatusCode.FAILED_PRECONDITION


async def fork(c: Client) -> None:
    """Fork: source unchanged but audited `fork`; new record `derived_from` the source."""
    source = await resolve(c.ingest_observation("deploy", "target", "prod"))
    variant = {**source.to_dict(), "id": "", "scope": "dev"}
    new = await resolve(c.fork(source.id, variant, actor="agent-1", rationale="dev env"))
    assert new.scope == "dev"
    assert ("derived_from", source.id) in [(r.kind, r.target_id) for r in new.relations]
    assert _audit(new)[-1] == (AuditAction.CREATE, "agent-1", f"forked from {source.id}: dev env")
    src = await resolve(c.retrieve_by_id(source.id))
    assert src.salience == 1.0
    assert _audit(src)[-1] == (AuditAction.FORK, "agent-1", f"forked to {new.id}: dev env")


async def merge(c: Client) -> None:
    """Merge: every source salience 0 with `merge`; new record derived from each, in order."""
    a = await resolve(c.ingest_observation("user", "likes", "tea"))
    b = await resolve(c.ingest_observation("user", "likes", "green tea"))
    merged_doc = {
        **a.to_dict(),
        "id": "",
        "payload": {**a.to_dict()["payload"], "object": "green tea"},
    }
    merged = await resolve(c.merge([a.id, b.id], merged_doc, "agent-1", "duplicates"))
    assert [r.target_id for r in merged.relations if r.kind == "derived_from"] == [a.id, b.id]
    assert _audit(merged)[-1] == (
        AuditAction.CREATE,
        "agent-1",
        f"merged from [{a.id} {b.id}]: duplicates",
    )
    for source in (a, b):
        after = await resolve(c.retrieve_by_id(source.id))
        assert after.salience == 0
        assert after.payload.revision.status is RevisionStatus.RETRACTED
        assert _audit(after)[-1] == (
            AuditAction.MERGE,
            "agent-1",
            f"merged into {merged.id}: duplicates",
        )
    with pytest.raises(InvalidRequestError, match="ids must not be empty"):
        await resolve(c.merge([], merged_doc, "agent-1", "none"))


async def retract_and_contest(c: Client) -> None:
    """Retract hides from salient retrieval (audit `delete`); Contest marks `contested`."""
    fact = await resolve(c.ingest_observation("api", "rate_limit", 100))
    other = await resolve(c.ingest_observation("api", "rate_limit", 200))
    await resolve(c.contest(fact.id, other.id, actor="agent-1", rationale="conflict"))
    contested = await resolve(c.retrieve_by_id(fact.id))
    assert contested.payload.revision.status is RevisionStatus.CONTESTED
    assert ("contested_by", other.id) in [(r.kind, r.target_id) for r in contested.relations]
    assert _audit(contested)[-1] == (AuditAction.REVISE, "agent-1", "conflict")

    await resolve(c.retract(fact.id, actor="agent-1", rationale="wrong"))
    visible = {r.id for r in await resolve(c.retrieve("x", min_salience=0.01))}
    assert fact.id not in visible and other.id in visible
    retracted = await resolve(c.retrieve_by_id(fact.id))  # still readable by id
    assert retracted.salience == 0
    assert retracted.payload.revision.status is RevisionStatus.RETRACTED
    assert _audit(retracted)[-1] == (AuditAction.DELETE, "agent-1", "wrong")


async def error_paths(c: Client) -> None:
    """NOT_FOUND and INVALID_ARGUMENT carry the daemon's messages through code()/details()."""
    with pytest.raises(NotFoundError) as missing:
        await resolve(c.retrieve_by_id("00000000-0000-4000-8000-000000000000"))
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    assert "record not found" in missing.value.details()
    with pytest.raises(NotFoundError):
        await resolve(c.reinforce("no-such-record", "a", "b"))

    checks: list[tuple[Callable[[], Any], str]] = [
        (lambda: c.retrieve("x", limit=20000), "limit must be between 0 and 10000"),
        (lambda: c.retrieve("x", min_salience=-1), "min_salience must be non-negative"),
        (lambda: c.retrieve("x", memory_types=["nope"]), "memory_types[0] must be one of"),
        (lambda: c.retrieve("x", trust=TrustContext(max_sensitivity="secret")), "max_sensitivity"),  # type: ignore[arg-type]
        (lambda: c.ingest_event("e", "r", sensitivity="secret"), "sensitivity must be one of"),
        (lambda: c.ingest_event("e", "r", timestamp="2025-01-31"), "invalid timestamp"),
        (lambda: c.ingest_event("", "r"), "ingestion policy"),
        (lambda: c.ingest_working_state("t", "dreaming"), "state must be one of"),
        (lambda: c.ingest_outcome("x", "meh"), "outcome_status must be one of"),
        (lambda: c.penalize("x", -1.0, "a", "b"), "amount must be non-negative"),
    ]
    for call, message in checks:
        with pytest.raises(InvalidRequestError) as info:
            await resolve(call())
        assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert message in info.value.details(), info.value.details()


async def selection_and_metrics(c: Client) -> None:
    """Competence candidates form the selection; metrics count every record."""
    obs = await resolve(c.ingest_observation("s", "p", "o"))
    skill = {
        "type": "competence",
        "sensitivity": "low",
        "confidence": 1,
        "salience": 1,
        "lifecycle": {"decay": {"curve": "exponential", "half_life_seconds": 86400}},
        "provenance": {"sources": [{"kind": "observation", "ref": obs.id}]},
        "payload": {
            "kind": "competence",
            "skill_name": "deploy",
            "triggers": [{"signal": "deploy requested"}],
            "recipe": [{"step": "run tests", "tool": "pytest"}],
            "performance": {"success_count": 9, "failure_count": 1, "success_rate": 0.9},
        },
    }
    competence = await resolve(c.fork(obs.id, skill, "agent-1", "learned"))
    assert competence.type is MemoryType.COMPETENCE
    assert competence.payload.performance.success_count == 9

    result = await resolve(c.retrieve_with_selection("deploy the service"))
    assert result.selection is not None
    assert [r.id for r in result.selection.selected] == [competence.id]
    assert result.records[0].id == competence.id
    assert 0 < result.selection.confidence <= 1
    assert set(result.selection.scores) == {competence.id}

    none = await resolve(c.retrieve_with_selection("x", memory_types=["semantic"]))
    assert none.selection is None

    metrics = await resolve(c.get_metrics())
    assert metrics["total_records"] == 2
    assert metrics["records_by_type"] == {"semantic": 1, "competence": 1}
    assert metrics["active_records"] == 2
    assert set(metrics["salience_distribution"]) == {
        "0.0-0.2",
        "0.2-0.4",
        "0.4-0.6",
        "0.6-0.8",
        "0.8-1.0",
    }


SCENARIOS: dict[str, Scenario] = {
    "ingestion": ingestion,
    "trust_gating": trust_gating,
    "filters": filters,
    "reinforce_and_penalize": reinforce_and_penalize,
    "supersede": supersede,
    "fork": fork,
    "merge": merge,
    "retract_and_contest": retract_and_contest,
    "error_paths": error_paths,
    "selection_and_metrics": selection_and_metrics,
}
