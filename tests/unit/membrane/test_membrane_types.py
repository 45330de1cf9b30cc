"""The reference client's public surface: names, enum values, dataclass shapes."""

from __future__ import annotations

import dataclasses

import membrane_integrations.membrane as membrane
from membrane_integrations.membrane import (
    AuditAction,
    DecayCurve,
    DeletionPolicy,
    EdgeKind,
    MemoryType,
    OutcomeStatus,
    ProvenanceKind,
    RetrieveResult,
    RevisionStatus,
    SelectionResult,
    Sensitivity,
    TaskState,
    TrustContext,
    ValidityMode,
)

REFERENCE_NAMES = [
    "MembraneClient",
    "Sensitivity",
    "TrustContext",
    "MemoryRecord",
    "MemoryType",
    "OutcomeStatus",
    "Relation",
    "AuditAction",
    "AuditEntry",
    "DecayCurve",
    "DecayProfile",
    "DeletionPolicy",
    "EdgeKind",
    "Lifecycle",
    "ProvenanceKind",
    "ProvenanceSource",
    "Provenance",
    "RetrieveResult",
    "RevisionStatus",
    "SelectionResult",
    "TaskState",
    "ValidityMode",
]


def test_every_reference_name_is_exported() -> None:
    missing = [n for n in REFERENCE_NAMES if not hasattr(membrane, n)]
    assert missing == [] and set(REFERENCE_NAMES) <= set(membrane.__all__)
    assert hasattr(membrane, "AsyncMembraneClient")


def test_enum_values_match_the_reference() -> None:
    assert [s.value for s in Sensitivity] == ["public", "low", "medium", "high", "hyper"]
    assert [m.value for m in MemoryType] == [
        "episodic",
        "working",
        "semantic",
        "competence",
        "plan_graph",
    ]
    assert [o.value for o in OutcomeStatus] == ["success", "failure", "partial"]
    assert [a.value for a in AuditAction] == [
        "create",
        "revise",
        "fork",
        "merge",
        "delete",
        "reinforce",
        "decay",
    ]
    assert DecayCurve.EXPONENTIAL.value == "exponential"
    assert [d.name for d in DeletionPolicy] == ["AUTO_PRUNE", "MANUAL_ONLY", "NEVER"]
    assert (EdgeKind.DATA.value, EdgeKind.CONTROL.value) == ("data", "control")
    assert [p.name for p in ProvenanceKind] == [
        "EVENT",
        "ARTIFACT",
        "TOOL_CALL",
        "OBSERVATION",
        "OUTCOME",
    ]
    assert [r.name for r in RevisionStatus] == ["ACTIVE", "CONTESTED", "RETRACTED"]
    assert [t.name for t in TaskState] == ["PLANNING", "EXECUTING", "BLOCKED", "WAITING", "DONE"]
    assert [v.name for v in ValidityMode] == ["GLOBAL", "CONDITIONAL", "TIMEBOXED"]
    assert Sensitivity("low") is Sensitivity.LOW and Sensitivity.LOW == "low"


def test_dataclass_shapes_match_the_reference() -> None:
    trust = TrustContext()
    assert (trust.max_sensitivity, trust.authenticated, trust.actor_id, trust.scopes) == (
        Sensitivity.LOW,
        False,
        "",
        [],
    )
    assert [f.name for f in dataclasses.fields(RetrieveResult)] == ["records", "selection"]
    assert [f.name for f in dataclasses.fields(SelectionResult)][:3] == [
        "selected",
        "confidence",
        "needs_more",
    ]
    record_fields = [f.name for f in dataclasses.fields(membrane.MemoryRecord)]
    assert record_fields == [
        "id",
        "type",
        "sensitivity",
        "confidence",
        "salience",
        "scope",
        "tags",
        "created_at",
        "updated_at",
        "lifecycle",
        "provenance",
        "relations",
        "payload",
        "audit_log",
    ]
    assert membrane.Relation("t", "supports").weight == 1.0
