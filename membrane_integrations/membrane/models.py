"""The Membrane record model: the reference client's enums and dataclasses, plus typed payloads.

Names, values and attribute names follow the upstream Python client (so code written for it keeps
working); the JSON wire names follow the daemon (``Relation.kind`` travels as ``predicate``).
Where the reference is silent we add what the wire carries: the extra decay and lifecycle keys,
provenance ``created_by``/``hash``, relation ``created_at`` and one dataclass per payload variant.

Records that Retrieve returned in redacted form (one sensitivity level above the caller's
``max_sensitivity``) have ``payload is None``; ``record.redacted`` says so.

Example:
    >>> from membrane_integrations.membrane.models import MemoryRecord, MemoryType, Sensitivity
    >>> rec = MemoryRecord.from_dict({"id": "r1", "type": "semantic", "sensitivity": "low",
    ...     "confidence": 0.7, "salience": 1, "created_at": "2025-01-31T12:00:00Z",
    ...     "updated_at": "2025-01-31T12:00:00Z", "payload": {"kind": "semantic",
    ...     "subject": "user", "predicate": "prefers", "object": "tea",
    ...     "validity": {"mode": "global"}}, "audit_log": []})
    >>> rec.type is MemoryType.SEMANTIC, rec.payload.subject, rec.redacted
    (True, 'user', False)
    >>> rec.to_dict()["payload"]["kind"]
    'semantic'
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Union

from ..core.errors import MalformedResponseError
from ._json import NULL_AS_BLANK, NullAsEmpty, adapter, clean, short_errors, validation_error

if TYPE_CHECKING:
    import pydantic as _pd
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema
else:
    # Named in string annotations only, which pydantic evaluates when it builds an adapter.
    from ._json import lazy_pydantic as _pd

__all__ = [
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
    "MemoryRecord",
    "MemoryType",
    "OutcomeStatus",
    "Payload",
    "PayloadField",
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


# A list or an object that may arrive as JSON null; a string that may arrive as null. The daemon
# writes `null` for lists, objects and strings it never filled (spec 2.1).
_List = NullAsEmpty(list)
_Dict = NullAsEmpty(dict)
_Str = NULL_AS_BLANK


class Sensitivity(str, Enum):
    """How sensitive a record is; Retrieve redacts or drops records above the caller's level."""

    PUBLIC = "public"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    HYPER = "hyper"


class MemoryType(str, Enum):
    """The five memory layers (also the payload ``kind``)."""

    EPISODIC = "episodic"
    WORKING = "working"
    SEMANTIC = "semantic"
    COMPETENCE = "competence"
    PLAN_GRAPH = "plan_graph"


class OutcomeStatus(str, Enum):
    """The outcome attached to an episodic record by ``ingest_outcome``."""

    SUCCESS = "success"
    FAILURE = "failure"
    PARTIAL = "partial"


class TaskState(str, Enum):
    """The state of a working-memory task thread."""

    PLANNING = "planning"
    EXECUTING = "executing"
    BLOCKED = "blocked"
    WAITING = "waiting"
    DONE = "done"


class RevisionStatus(str, Enum):
    """The revision status of a semantic record."""

    ACTIVE = "active"
    CONTESTED = "contested"
    RETRACTED = "retracted"


class AuditAction(str, Enum):
    """What an audit-log entry records."""

    CREATE = "create"
    REVISE = "revise"
    FORK = "fork"
    MERGE = "merge"
    DELETE = "delete"
    REINFORCE = "reinforce"
    DECAY = "decay"


class DeletionPolicy(str, Enum):
    """Whether background pruning may delete a record."""

    AUTO_PRUNE = "auto_prune"
    MANUAL_ONLY = "manual_only"
    NEVER = "never"


class ValidityMode(str, Enum):
    """How long a semantic fact holds."""

    GLOBAL = "global"
    CONDITIONAL = "conditional"
    TIMEBOXED = "timeboxed"


class EdgeKind(str, Enum):
    """The kind of a plan-graph edge."""

    DATA = "data"
    CONTROL = "control"


class ProvenanceKind(str, Enum):
    """Where a provenance source came from."""

    EVENT = "event"
    ARTIFACT = "artifact"
    TOOL_CALL = "tool_call"
    OBSERVATION = "observation"
    OUTCOME = "outcome"


class DecayCurve(str, Enum):
    """The salience decay curve (the daemon knows only one)."""

    EXPONENTIAL = "exponential"


@dataclass
class TrustContext:
    """Who is asking: bounds what Retrieve and RetrieveByID may show.

    >>> TrustContext(max_sensitivity=Sensitivity.MEDIUM, actor_id="agent-1").scopes
    []
    """

    max_sensitivity: Sensitivity = Sensitivity.LOW
    authenticated: bool = False
    actor_id: str = ""
    scopes: list[str] = field(default_factory=list)


@dataclass
class DecayProfile:
    """How salience decays. ``half_life_seconds`` must be >= 1 on records sent to the daemon."""

    curve: DecayCurve = DecayCurve.EXPONENTIAL
    half_life_seconds: int = 86400
    min_salience: float = 0.0
    max_age_seconds: int = 0
    reinforcement_gain: float = 0.0


@dataclass
class Lifecycle:
    """Decay, reinforcement and deletion settings of a record."""

    decay: DecayProfile = field(default_factory=DecayProfile)
    last_reinforced_at: Annotated[str, _Str] = ""
    deletion_policy: Annotated[str, _Str] = DeletionPolicy.AUTO_PRUNE.value
    pinned: bool = False


@dataclass
class ProvenanceSource:
    """One source a record was derived from."""

    kind: ProvenanceKind = ProvenanceKind.EVENT
    ref: Annotated[str, _Str] = ""
    timestamp: Annotated[str, _Str] = ""
    hash: str = ""
    created_by: str = ""


@dataclass
class Provenance:
    """All sources of a record."""

    sources: Annotated[list[ProvenanceSource], _List] = field(default_factory=list)
    created_by: str = ""


@dataclass
class Relation:
    """A link to another record; ``kind`` is the daemon's ``predicate``."""

    target_id: str = ""
    kind: Annotated[str, _pd.Field(alias="predicate"), _Str] = ""
    weight: float = 1.0
    created_at: Annotated[str, _Str] = ""


@dataclass
class AuditEntry:
    """One entry of a record's audit log (oldest first)."""

    action: AuditAction = AuditAction.CREATE
    actor: Annotated[str, _Str] = ""
    timestamp: Annotated[str, _Str] = ""
    rationale: Annotated[str, _Str] = ""


# --- payload variants (spec 2.7) -------------------------------------------------------------


@dataclass
class TimelineEvent:
    """One event on an episodic timeline."""

    t: Annotated[str, _Str] = ""
    event_kind: Annotated[str, _Str] = ""
    ref: Annotated[str, _Str] = ""
    summary: str = ""


@dataclass
class ToolNode:
    """One tool call in an episodic tool graph."""

    id: str = ""
    tool: str = ""
    args: Annotated[dict[str, Any], _Dict] = field(default_factory=dict)
    result: Any = None
    timestamp: Annotated[str, _Str] = ""
    depends_on: Annotated[list[str], _List] = field(default_factory=list)


@dataclass
class EnvironmentSnapshot:
    """The environment an episode ran in."""

    os: str = ""
    os_version: str = ""
    tool_versions: Annotated[dict[str, str], _Dict] = field(default_factory=dict)
    working_directory: str = ""
    context: Annotated[dict[str, Any], _Dict] = field(default_factory=dict)


@dataclass
class EpisodicPayload:
    """What happened: a timeline, the tool calls, and the outcome once known."""

    timeline: Annotated[list[TimelineEvent], _List] = field(default_factory=list)
    tool_graph: Annotated[list[ToolNode], _List] = field(default_factory=list)
    environment: EnvironmentSnapshot | None = None
    outcome: OutcomeStatus | None = None
    artifacts: Annotated[list[str], _List] = field(default_factory=list)
    tool_graph_ref: str = ""

    @property
    def kind(self) -> MemoryType:
        return MemoryType.EPISODIC


@dataclass
class Constraint:
    """An active constraint of a working-memory thread."""

    type: str = ""
    key: str = ""
    value: Any = None
    required: bool = False


@dataclass
class WorkingPayload:
    """The current state of a task thread."""

    thread_id: str = ""
    state: TaskState = TaskState.PLANNING
    active_constraints: Annotated[list[Constraint], _List] = field(default_factory=list)
    next_actions: Annotated[list[str], _List] = field(default_factory=list)
    open_questions: Annotated[list[str], _List] = field(default_factory=list)
    context_summary: str = ""

    @property
    def kind(self) -> MemoryType:
        return MemoryType.WORKING


@dataclass
class Validity:
    """When a semantic fact holds."""

    mode: Annotated[str, _Str] = ValidityMode.GLOBAL.value
    conditions: Annotated[dict[str, Any], _Dict] = field(default_factory=dict)
    start: str = ""
    end: str = ""


@dataclass
class ProvenanceRef:
    """A piece of evidence behind a semantic fact."""

    source_type: Annotated[str, _Str] = ""
    source_id: Annotated[str, _Str] = ""
    timestamp: Annotated[str, _Str] = ""


@dataclass
class RevisionState:
    """Where a semantic record stands in its revision history."""

    supersedes: str = ""
    superseded_by: str = ""
    status: RevisionStatus | None = None


@dataclass
class SemanticPayload:
    """A fact: subject, predicate, object."""

    subject: Annotated[str, _Str] = ""
    predicate: Annotated[str, _Str] = ""
    object: Any = None
    validity: Validity = field(default_factory=Validity)
    evidence: Annotated[list[ProvenanceRef], _List] = field(default_factory=list)
    revision_policy: str = ""
    revision: RevisionState | None = None

    @property
    def kind(self) -> MemoryType:
        return MemoryType.SEMANTIC


@dataclass
class Trigger:
    """A signal that makes a competence applicable."""

    signal: Annotated[str, _Str] = ""
    conditions: Annotated[dict[str, Any], _Dict] = field(default_factory=dict)


@dataclass
class RecipeStep:
    """One step of a competence recipe."""

    step: Annotated[str, _Str] = ""
    tool: str = ""
    args_schema: Annotated[dict[str, Any], _Dict] = field(default_factory=dict)
    validation: str = ""


@dataclass
class PerformanceStats:
    """How well a competence has worked."""

    success_count: int = 0
    failure_count: int = 0
    success_rate: float = 0.0
    avg_latency_ms: float = 0.0
    last_used_at: str = ""


@dataclass
class CompetencePayload:
    """A learned skill: when it applies and how to do it."""

    skill_name: Annotated[str, _Str] = ""
    triggers: Annotated[list[Trigger], _List] = field(default_factory=list)
    recipe: Annotated[list[RecipeStep], _List] = field(default_factory=list)
    required_tools: Annotated[list[str], _List] = field(default_factory=list)
    failure_modes: Annotated[list[str], _List] = field(default_factory=list)
    fallbacks: Annotated[list[str], _List] = field(default_factory=list)
    performance: PerformanceStats | None = None
    version: str = ""

    @property
    def kind(self) -> MemoryType:
        return MemoryType.COMPETENCE


@dataclass
class PlanNode:
    """One operation of a plan graph."""

    id: Annotated[str, _Str] = ""
    op: Annotated[str, _Str] = ""
    params: Annotated[dict[str, Any], _Dict] = field(default_factory=dict)
    guards: Annotated[dict[str, Any], _Dict] = field(default_factory=dict)


@dataclass
class PlanEdge:
    """A dependency between two plan nodes (``from_`` is the wire key ``from``)."""

    from_: Annotated[str, _pd.Field(alias="from"), _Str] = ""
    to: Annotated[str, _Str] = ""
    kind: Annotated[str, _Str] = EdgeKind.DATA.value


@dataclass
class PlanMetrics:
    """How a plan graph has performed."""

    avg_latency_ms: float = 0.0
    failure_rate: float = 0.0
    execution_count: int = 0
    last_executed_at: str = ""


@dataclass
class PlanGraphPayload:
    """A reusable plan: nodes and the edges between them."""

    plan_id: Annotated[str, _Str] = ""
    version: Annotated[str, _Str] = ""
    intent: str = ""
    constraints: Annotated[dict[str, Any], _Dict] = field(default_factory=dict)
    inputs_schema: Annotated[dict[str, Any], _Dict] = field(default_factory=dict)
    outputs_schema: Annotated[dict[str, Any], _Dict] = field(default_factory=dict)
    nodes: Annotated[list[PlanNode], _List] = field(default_factory=list)
    edges: Annotated[list[PlanEdge], _List] = field(default_factory=list)
    metrics: PlanMetrics | None = None

    @property
    def kind(self) -> MemoryType:
        return MemoryType.PLAN_GRAPH


Payload = EpisodicPayload | WorkingPayload | SemanticPayload | CompetencePayload | PlanGraphPayload

_PAYLOAD_KINDS = frozenset(kind.value for kind in MemoryType)


def _payload_kind(value: Any) -> str:
    if value is None:
        return "none"
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    kind = getattr(kind, "value", kind)
    return kind if kind in _PAYLOAD_KINDS else "other"


class _PayloadByKind:
    """``Annotated`` metadata: the payload variant is chosen by the ``kind`` key.

    Unknown kinds stay a dict, and ``None`` marks a redacted record. The tagged union is built
    when the first adapter is (pydantic is not imported before).
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic import Discriminator, Tag

        tagged = Annotated[
            Union[  # noqa: UP007 (a runtime union of Annotated members)
                Annotated[EpisodicPayload, Tag("episodic")],
                Annotated[WorkingPayload, Tag("working")],
                Annotated[SemanticPayload, Tag("semantic")],
                Annotated[CompetencePayload, Tag("competence")],
                Annotated[PlanGraphPayload, Tag("plan_graph")],
                Annotated[dict[str, Any], Tag("other")],
                Annotated[None, Tag("none")],
            ],
            Discriminator(_payload_kind),
        ]
        return handler.generate_schema(tagged)


# The payload of a record: a typed payload, a dict for an unknown kind, None when redacted.
PayloadField = Annotated[Payload | dict[str, Any] | None, _PayloadByKind()]


@dataclass
class MemoryRecord:
    """One Membrane memory record.

    ``payload`` is one of the typed payload dataclasses (``EpisodicPayload``, ...), a plain dict
    for a payload kind this client does not know, or ``None`` for a redacted record.
    """

    id: str = ""
    type: MemoryType = MemoryType.SEMANTIC
    sensitivity: Sensitivity = Sensitivity.LOW
    confidence: float = 0.0
    salience: float = 0.0
    scope: Annotated[str, _Str] = ""
    tags: Annotated[list[str], _List] = field(default_factory=list)
    created_at: Annotated[str, _Str] = ""
    updated_at: Annotated[str, _Str] = ""
    lifecycle: Lifecycle | None = None
    provenance: Provenance | None = None
    relations: Annotated[list[Relation], _List] = field(default_factory=list)
    payload: PayloadField = None
    audit_log: Annotated[list[AuditEntry], _List] = field(default_factory=list)

    @property
    def redacted(self) -> bool:
        """True for a redacted copy (the daemon sends ``payload: null`` only for those)."""
        return self.payload is None

    def to_dict(self) -> dict[str, Any]:
        """The record as daemon JSON (what Supersede, Fork and Merge accept)."""
        return record_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryRecord:
        """Parse a record from daemon JSON (raises ``MalformedResponseError`` if it is not one)."""
        return record_from_dict(data)


@dataclass
class SelectionResult:
    """The selector's view of the competence and plan-graph candidates of a Retrieve."""

    selected: list[MemoryRecord] = field(default_factory=list)
    confidence: float = 0.0
    needs_more: bool = False
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class RetrieveResult:
    """The records of a Retrieve, in ranked order, plus the optional selection."""

    records: list[MemoryRecord] = field(default_factory=list)
    selection: SelectionResult | None = None


# --- the wire form (daemon JSON) of the types above -------------------------------------------
# It lives with the types because ``MemoryRecord.to_dict`` / ``from_dict`` (the reference
# client's methods) need it; ``_records.py`` adds the parsing of the daemon's bytes fields.

_PAYLOAD_CLASSES = (
    EpisodicPayload,
    WorkingPayload,
    SemanticPayload,
    CompetencePayload,
    PlanGraphPayload,
)


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, the way the daemon's bytes fields expect it.

    Enums become their values and our dataclasses their wire dicts.

    >>> encode_json({"a": [1, 2], "b": None})
    b'{"a":[1,2],"b":null}'
    """
    return json.dumps(
        value, separators=(",", ":"), ensure_ascii=False, default=_json_default
    ).encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, MemoryRecord):
        return record_to_dict(value)
    if isinstance(value, _PAYLOAD_CLASSES):
        return payload_to_dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return clean(adapter(type(value)).dump_python(value, mode="json", by_alias=True))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def payload_to_dict(payload: Any) -> Any:
    """The wire JSON of a payload: typed payloads get their ``kind`` key first."""
    if isinstance(payload, _PAYLOAD_CLASSES):
        body = adapter(type(payload)).dump_python(payload, mode="json", by_alias=True)
        return {"kind": payload.kind.value, **clean(body)}
    if isinstance(payload, dict):
        return json.loads(encode_json(payload))
    return payload


def record_from_dict(data: Any) -> MemoryRecord:
    """Parse one MemoryRecord JSON object (already decoded)."""
    if not isinstance(data, dict):
        raise MalformedResponseError(
            f"membraned sent a record that is not a JSON object: {type(data).__name__}"
        )
    try:
        record: MemoryRecord = adapter(MemoryRecord).validate_python(data)
    except validation_error() as exc:
        raise MalformedResponseError(
            f"membraned sent a record that does not parse: {short_errors(exc)}"
        ) from None
    return record


def record_to_dict(record: MemoryRecord) -> dict[str, Any]:
    """The wire JSON of a record (for Supersede, Fork and Merge)."""
    body = adapter(MemoryRecord).dump_python(
        dataclasses.replace(record, payload=None), mode="json", by_alias=True
    )
    doc: dict[str, Any] = clean(body)
    doc["payload"] = payload_to_dict(record.payload)
    return doc
