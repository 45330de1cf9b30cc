"""Daemon JSON <-> record types: every payload variant, redaction, encoding rules (spec 2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from membrane_integrations.core.errors import MalformedResponseError
from membrane_integrations.membrane import (
    AuditAction,
    CompetencePayload,
    DecayCurve,
    EpisodicPayload,
    Lifecycle,
    MemoryRecord,
    MemoryType,
    OutcomeStatus,
    PlanGraphPayload,
    ProvenanceKind,
    Relation,
    RevisionStatus,
    SemanticPayload,
    Sensitivity,
    TaskState,
    WorkingPayload,
)
from membrane_integrations.membrane._records import (
    encode_json,
    payload_from_dict,
    record_from_bytes,
    record_from_dict,
    selection_from_bytes,
)

Z = "0001-01-01T00:00:00Z"


def _record(payload: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": "r1",
        "type": (payload or {}).get("kind", "semantic"),
        "sensitivity": "low",
        "confidence": 1,
        "salience": 1,
        "created_at": "2025-01-31T12:00:00.123456789Z",
        "updated_at": "2025-01-31T12:00:00Z",
        "lifecycle": {
            "decay": {"curve": "exponential", "half_life_seconds": 86400},
            "last_reinforced_at": "2025-01-31T12:00:00Z",
            "deletion_policy": "auto_prune",
        },
        "provenance": {
            "sources": [{"kind": "event", "ref": "x", "timestamp": Z}],
            "created_by": "ingestion-service",
        },
        "payload": payload,
        "audit_log": [{"action": "create", "actor": "", "timestamp": Z, "rationale": ""}],
        **extra,
    }


EPISODIC = {
    "kind": "episodic",
    "timeline": [{"t": "2025-01-31T12:00:00Z", "event_kind": "tool_call", "ref": "n1"}],
    "tool_graph": [
        {
            "id": "n1",
            "tool": "run_tests",
            "args": {"suite": "auth"},
            "result": [1, 2],
            "timestamp": "2025-01-31T12:00:00Z",
            "depends_on": ["n0"],
        }
    ],
    "environment": {"os": "linux", "tool_versions": {"go": "1.24"}, "context": {"ci": True}},
    "outcome": "partial",
    "artifacts": ["report.html"],
}
WORKING = {
    "kind": "working",
    "thread_id": "t1",
    "state": "blocked",
    "active_constraints": [{"type": "budget", "key": "usd", "value": None}],
    "next_actions": ["ask"],
}
SEMANTIC = {
    "kind": "semantic",
    "subject": "user",
    "predicate": "prefers",
    "object": None,
    "validity": {"mode": "timeboxed", "start": "2025-01-01T00:00:00+02:00"},
    "evidence": [{"source_type": "observation", "source_id": "s", "timestamp": Z}],
    "revision": {"supersedes": "r0", "status": "contested"},
}
COMPETENCE = {
    "kind": "competence",
    "skill_name": "deploy",
    "triggers": [{"signal": "deploy", "conditions": {"env": "prod"}}],
    "recipe": [{"step": "test", "tool": "pytest", "args_schema": {"type": "object"}}],
    "performance": {"success_count": 9, "failure_count": 1, "success_rate": 0.9},
}
PLAN = {
    "kind": "plan_graph",
    "plan_id": "p1",
    "version": "1",
    "nodes": [{"id": "a", "op": "build"}, {"id": "b", "op": "ship", "guards": {"ok": True}}],
    "edges": [{"from": "a", "to": "b", "kind": "control"}],
    "metrics": {"execution_count": 4, "failure_rate": 0.25},
}


def test_every_payload_variant_parses_into_its_typed_record() -> None:
    ep = payload_from_dict(EPISODIC)
    assert isinstance(ep, EpisodicPayload) and ep.kind is MemoryType.EPISODIC
    assert ep.tool_graph[0].args == {"suite": "auth"} and ep.tool_graph[0].result == [1, 2]
    assert ep.environment is not None and ep.environment.tool_versions == {"go": "1.24"}
    assert ep.outcome is OutcomeStatus.PARTIAL

    wk = payload_from_dict(WORKING)
    assert isinstance(wk, WorkingPayload) and wk.state is TaskState.BLOCKED
    assert wk.active_constraints[0].value is None and wk.open_questions == []

    se = payload_from_dict(SEMANTIC)
    assert isinstance(se, SemanticPayload)
    assert se.revision is not None and se.revision.status is RevisionStatus.CONTESTED
    assert se.validity.start == "2025-01-01T00:00:00+02:00"  # payload times keep their offset

    co = payload_from_dict(COMPETENCE)
    assert isinstance(co, CompetencePayload)
    assert co.performance is not None and co.performance.success_count == 9
    assert co.triggers[0].conditions == {"env": "prod"}

    pg = payload_from_dict(PLAN)
    assert isinstance(pg, PlanGraphPayload)
    assert (pg.edges[0].from_, pg.edges[0].to, pg.edges[0].kind) == ("a", "b", "control")
    assert pg.metrics is not None and pg.metrics.execution_count == 4


def test_null_lists_and_whole_number_floats_are_accepted() -> None:
    doc = _record({"kind": "episodic", "timeline": None}, tags=None, relations=None)
    doc["salience"] = 1  # shortest form: no decimal point
    doc["provenance"]["sources"] = None
    record = record_from_dict(doc)
    assert record.tags == [] and record.relations == [] and record.provenance is not None
    assert record.provenance.sources == []
    assert isinstance(record.salience, float) and record.salience == 1.0
    assert record.payload.timeline == []


def test_record_fields_and_enums() -> None:
    rec = record_from_dict(
        _record(
            SEMANTIC,
            relations=[{"predicate": "supersedes", "target_id": "r0", "created_at": Z}],
        )
    )
    assert rec.type is MemoryType.SEMANTIC and rec.sensitivity is Sensitivity.LOW
    assert rec.relations == [Relation(target_id="r0", kind="supersedes", weight=1.0, created_at=Z)]
    assert rec.lifecycle is not None and rec.lifecycle.decay.curve is DecayCurve.EXPONENTIAL
    assert rec.provenance is not None and rec.provenance.sources[0].kind is ProvenanceKind.EVENT
    assert rec.audit_log[0].action is AuditAction.CREATE
    assert not rec.redacted


def test_redacted_record_is_recognisable() -> None:
    doc = {
        "id": "r9",
        "type": "episodic",
        "sensitivity": "medium",
        "confidence": 0.8,
        "salience": 1,
        "created_at": "2025-01-31T12:00:00Z",
        "updated_at": "2025-01-31T12:00:00Z",
        "lifecycle": {
            "decay": {"curve": "exponential", "half_life_seconds": 0},
            "last_reinforced_at": Z,
            "deletion_policy": "auto_prune",
        },
        "provenance": {"sources": []},
        "payload": None,
        "audit_log": [],
    }
    rec = record_from_dict(doc)
    assert rec.redacted and rec.payload is None and rec.sensitivity is Sensitivity.MEDIUM


def test_unknown_payload_kind_stays_a_dict() -> None:
    payload = payload_from_dict({"kind": "future_kind", "x": 1})
    assert payload == {"kind": "future_kind", "x": 1}


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "r", "type": "nope", "sensitivity": "low"},
        {"id": "r", "type": "semantic", "sensitivity": "low", "confidence": "high"},
        ["not", "an", "object"],
    ],
)
def test_malformed_records_raise_malformed_response(bad: Any) -> None:
    with pytest.raises(MalformedResponseError):
        record_from_dict(bad)


def test_invalid_json_bytes_raise_malformed_response() -> None:
    with pytest.raises(MalformedResponseError, match="invalid JSON"):
        record_from_bytes(b"{not json")
    with pytest.raises(MalformedResponseError, match="empty"):
        record_from_bytes(b"")
    with pytest.raises(MalformedResponseError):
        payload_from_dict({"kind": "working", "state": "sleeping"})


def test_to_dict_is_what_the_daemon_parser_accepts() -> None:
    rec = record_from_dict(_record(PLAN, relations=[{"predicate": "supports", "target_id": "x"}]))
    rec.id = ""
    doc = rec.to_dict()
    assert "id" not in doc  # empty id: the daemon assigns one
    assert doc["payload"]["kind"] == "plan_graph"
    assert doc["payload"]["edges"] == [{"from": "a", "to": "b", "kind": "control"}]
    assert doc["relations"][0]["predicate"] == "supports" and "kind" not in doc["relations"][0]
    assert "created_at" not in doc["relations"][0]  # unset times are omitted, not ""
    half_life = json.loads(encode_json(doc))["lifecycle"]["decay"]["half_life_seconds"]
    assert half_life == 86400 and b'"half_life_seconds":86400' in encode_json(doc)
    assert record_from_dict({**doc, "id": "r2"}).payload == rec.payload


def test_to_dict_keeps_user_data_verbatim() -> None:
    payload = dict(EPISODIC)
    payload["tool_graph"] = [{**EPISODIC["tool_graph"][0], "args": {"timestamp": "", "n": None}}]
    rec = record_from_dict(_record(payload))
    args = rec.to_dict()["payload"]["tool_graph"][0]["args"]
    assert args == {"timestamp": "", "n": None}


def test_constructed_record_round_trips() -> None:
    rec = MemoryRecord(
        type=MemoryType.WORKING,
        sensitivity=Sensitivity.LOW,
        confidence=1.0,
        salience=1.0,
        lifecycle=Lifecycle(),
        payload=WorkingPayload(thread_id="t", state=TaskState.DONE),
    )
    doc = rec.to_dict()
    assert doc["type"] == "working" and doc["payload"]["state"] == "done"
    assert doc["lifecycle"]["decay"] == {
        "curve": "exponential",
        "half_life_seconds": 86400,
        "min_salience": 0.0,
        "max_age_seconds": 0,
        "reinforcement_gain": 0.0,
    }
    assert "last_reinforced_at" not in doc["lifecycle"]


def test_selection_uses_go_field_names_with_lowercase_fallback() -> None:
    rec = _record(COMPETENCE)
    capital = json.dumps(
        {"Selected": [rec], "Confidence": 0.8, "NeedsMore": False, "Scores": {"r1": 0.8}}
    ).encode()
    sel = selection_from_bytes(capital)
    assert sel is not None and sel.selected[0].id == "r1" and sel.scores == {"r1": 0.8}
    lower = json.dumps({"selected": None, "confidence": 0, "needs_more": True}).encode()
    sel2 = selection_from_bytes(lower)
    assert sel2 is not None and sel2.selected == [] and sel2.needs_more is True
    assert selection_from_bytes(b"") is None
