"""The Membrane adapter: gRPC clients for membraned v0.2.0 and its record types.

Importing this subpackage imports grpc (install the ``membrane`` extra). Code written for the
upstream ``membrane`` Python client runs unchanged after its import line becomes
``from membrane_integrations.membrane import ...``.

Example:
    >>> from membrane_integrations.membrane import Sensitivity, TrustContext
    >>> trust = TrustContext(max_sensitivity=Sensitivity.MEDIUM, authenticated=True)
    >>> trust.max_sensitivity.value, trust.actor_id, trust.scopes
    ('medium', '', [])
"""

from __future__ import annotations

from .._extras import requires_extra

with requires_extra("membrane"):
    from ._errors import MembraneRpcError
    from .client import AsyncMembraneClient, MembraneClient
    from .models import (
        AuditAction,
        AuditEntry,
        CompetencePayload,
        Constraint,
        DecayCurve,
        DecayProfile,
        DeletionPolicy,
        EdgeKind,
        EnvironmentSnapshot,
        EpisodicPayload,
        Lifecycle,
        MemoryRecord,
        MemoryType,
        OutcomeStatus,
        Payload,
        PerformanceStats,
        PlanEdge,
        PlanGraphPayload,
        PlanMetrics,
        PlanNode,
        Provenance,
        ProvenanceKind,
        ProvenanceRef,
        ProvenanceSource,
        RecipeStep,
        Relation,
        RetrieveResult,
        RevisionState,
        RevisionStatus,
        SelectionResult,
        SemanticPayload,
        Sensitivity,
        TaskState,
        TimelineEvent,
        ToolNode,
        Trigger,
        TrustContext,
        Validity,
        ValidityMode,
        WorkingPayload,
    )

__all__ = [
    "AsyncMembraneClient",
    "AuditAction",
    "AuditEntry",
    "CompetencePayload",
    "Constraint",
    "DecayCurve",
    "DecayProfile",
    "DeletionPolicy",
    "EdgeKind",
    "EnvironmentSnapshot",
    "EpisodicPayload",
    "Lifecycle",
    "MembraneClient",
    "MembraneRpcError",
    "MemoryRecord",
    "MemoryType",
    "OutcomeStatus",
    "Payload",
    "PerformanceStats",
    "PlanEdge",
    "PlanGraphPayload",
    "PlanMetrics",
    "PlanNode",
    "Provenance",
    "ProvenanceKind",
    "ProvenanceRef",
    "ProvenanceSource",
    "RecipeStep",
    "Relation",
    "RetrieveResult",
    "RevisionState",
    "RevisionStatus",
    "SelectionResult",
    "SemanticPayload",
    "Sensitivity",
    "TaskState",
    "TimelineEvent",
    "ToolNode",
    "Trigger",
    "TrustContext",
    "Validity",
    "ValidityMode",
    "WorkingPayload",
]
