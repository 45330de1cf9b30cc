"""Every Membrane RPC, once: a pure builder of the request and a pure parser of the reply.

Nothing here does I/O. Every public function returns an :class:`Operation`: the method name on
``MembraneService``, the protobuf request built from our types, whether the RPC is an idempotent
read (safe to retry), and the pure function that turns the reply into our types. The sync and
the async client run the same operations through the same flow (``_flows.py``) and differ only
in how they send and sleep (``_transport.py``).

Example:
    >>> from membrane_integrations.membrane import _protocol as ops
    >>> op = ops.retrieve("fix the login bug", limit=5)
    >>> op.method, op.idempotent, op.request.trust.max_sensitivity, op.request.limit
    ('Retrieve', True, 'low', 5)
    >>> ops.ingest_event("file_edit", "src/main.py", tags=["a", "a", "b"]).request.tags
    ['a', 'b']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from ._records import metrics_from_bytes, record_from_bytes, retrieve_result
from ._revisions import revision_record_json
from .models import (
    MemoryRecord,
    MemoryType,
    OutcomeStatus,
    RetrieveResult,
    Sensitivity,
    TrustContext,
    encode_json,
)
from .proto import membrane_pb2 as pb

__all__ = [
    "DEFAULT_SOURCE",
    "READ_METHODS",
    "Operation",
    "contest",
    "fork",
    "get_metrics",
    "ingest_event",
    "ingest_observation",
    "ingest_outcome",
    "ingest_tool_output",
    "ingest_working_state",
    "merge",
    "penalize",
    "reinforce",
    "retract",
    "retrieve",
    "retrieve_by_id",
    "retrieve_with_selection",
    "supersede",
]

T = TypeVar("T")

DEFAULT_SOURCE = "python-client"
# Reads change nothing on the daemon, so a retry after UNAVAILABLE cannot duplicate anything.
READ_METHODS = frozenset({"Retrieve", "RetrieveByID", "GetMetrics"})


@dataclass(frozen=True)
class Operation(Generic[T]):
    """One RPC ready to send: ``method`` on ``MembraneService`` with ``request``, and its parser."""

    method: str
    request: Any
    parse: Callable[[Any], T]

    @property
    def idempotent(self) -> bool:
        return self.method in READ_METHODS

    @property
    def path(self) -> str:
        return f"/membrane.v1.MembraneService/{self.method}"


def _text(value: Enum | str) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _tags(tags: Sequence[str] | None) -> list[str]:
    # The daemon fails with INTERNAL on duplicate tags (spec 4.8); keep the first of each.
    return list(dict.fromkeys(tags or ()))


def _record(reply: Any) -> MemoryRecord:
    return record_from_bytes(reply.record)


def _nothing(reply: Any) -> None:
    return None


def _stamp(
    source: str,
    timestamp: str | None,
    tags: Sequence[str] | None,
    scope: str,
    sensitivity: Sensitivity | str,
) -> dict[str, Any]:
    """The fields every ingestion request carries besides its own content."""
    return {
        "source": source,
        "timestamp": timestamp or "",
        "tags": _tags(tags),
        "scope": scope,
        "sensitivity": _text(sensitivity),
    }


def _trust(trust: TrustContext | None) -> pb.TrustContext:
    trust = trust or TrustContext()
    return pb.TrustContext(
        max_sensitivity=_text(trust.max_sensitivity),
        authenticated=trust.authenticated,
        actor_id=trust.actor_id,
        scopes=list(trust.scopes),
    )


def ingest_event(
    event_kind: str,
    ref: str,
    *,
    summary: str = "",
    sensitivity: Sensitivity | str = Sensitivity.LOW,
    source: str = DEFAULT_SOURCE,
    tags: Sequence[str] | None = None,
    scope: str = "",
    timestamp: str | None = None,
) -> Operation[MemoryRecord]:
    """IngestEvent: an episodic record for one event. No timestamp means the daemon's "now"."""
    request = pb.IngestEventRequest(
        event_kind=event_kind,
        ref=ref,
        summary=summary,
        **_stamp(source, timestamp, tags, scope, sensitivity),
    )
    return Operation("IngestEvent", request, _record)


def ingest_tool_output(
    tool_name: str,
    *,
    args: dict[str, Any] | None = None,
    result: Any = None,
    sensitivity: Sensitivity | str = Sensitivity.LOW,
    source: str = DEFAULT_SOURCE,
    depends_on: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    scope: str = "",
    timestamp: str | None = None,
) -> Operation[MemoryRecord]:
    """IngestToolOutput: an episodic record for one tool call (``args``/``result`` as JSON)."""
    request = pb.IngestToolOutputRequest(
        tool_name=tool_name,
        args=encode_json(args) if args is not None else b"",
        result=encode_json(result) if result is not None else b"",
        depends_on=list(depends_on or ()),
        **_stamp(source, timestamp, tags, scope, sensitivity),
    )
    return Operation("IngestToolOutput", request, _record)


def ingest_observation(
    subject: str,
    predicate: str,
    obj: Any,
    *,
    sensitivity: Sensitivity | str = Sensitivity.LOW,
    source: str = DEFAULT_SOURCE,
    tags: Sequence[str] | None = None,
    scope: str = "",
    timestamp: str | None = None,
) -> Operation[MemoryRecord]:
    """IngestObservation: a semantic record for a subject-predicate-object triple."""
    request = pb.IngestObservationRequest(
        subject=subject,
        predicate=predicate,
        object=encode_json(obj),
        **_stamp(source, timestamp, tags, scope, sensitivity),
    )
    return Operation("IngestObservation", request, _record)


def ingest_outcome(
    target_record_id: str,
    outcome_status: OutcomeStatus | str,
    *,
    source: str = DEFAULT_SOURCE,
    timestamp: str | None = None,
) -> Operation[MemoryRecord]:
    """IngestOutcome: attach an outcome to an episodic record; returns the updated record."""
    request = pb.IngestOutcomeRequest(
        source=source,
        target_record_id=target_record_id,
        outcome_status=_text(outcome_status),
        timestamp=timestamp or "",
    )
    return Operation("IngestOutcome", request, _record)


def ingest_working_state(
    thread_id: str,
    state: str,
    *,
    next_actions: Sequence[str] | None = None,
    open_questions: Sequence[str] | None = None,
    context_summary: str = "",
    active_constraints: Sequence[dict[str, Any]] | None = None,
    sensitivity: Sensitivity | str = Sensitivity.LOW,
    source: str = DEFAULT_SOURCE,
    tags: Sequence[str] | None = None,
    scope: str = "",
    timestamp: str | None = None,
) -> Operation[MemoryRecord]:
    """IngestWorkingState: a working-memory snapshot of a task thread."""
    request = pb.IngestWorkingStateRequest(
        thread_id=thread_id,
        state=_text(state),
        next_actions=list(next_actions or ()),
        open_questions=list(open_questions or ()),
        context_summary=context_summary,
        active_constraints=(
            encode_json(list(active_constraints)) if active_constraints is not None else b""
        ),
        **_stamp(source, timestamp, tags, scope, sensitivity),
    )
    return Operation("IngestWorkingState", request, _record)


def _retrieve_request(
    task_descriptor: str,
    trust: TrustContext | None,
    memory_types: Sequence[MemoryType | str] | None,
    min_salience: float,
    limit: int,
) -> pb.RetrieveRequest:
    return pb.RetrieveRequest(
        task_descriptor=task_descriptor,
        trust=_trust(trust),
        memory_types=[_text(t) for t in memory_types or ()],
        min_salience=float(min_salience),
        limit=limit,
    )


def _retrieve_result(reply: Any) -> RetrieveResult:
    return retrieve_result(list(reply.records), reply.selection)


def _records_only(reply: Any) -> list[MemoryRecord]:
    return _retrieve_result(reply).records


def retrieve(
    task_descriptor: str,
    *,
    trust: TrustContext | None = None,
    memory_types: Sequence[MemoryType | str] | None = None,
    min_salience: float = 0.0,
    limit: int = 10,
) -> Operation[list[MemoryRecord]]:
    """Retrieve, records only (ranked)."""
    request = _retrieve_request(task_descriptor, trust, memory_types, min_salience, limit)
    return Operation("Retrieve", request, _records_only)


def retrieve_with_selection(
    task_descriptor: str,
    *,
    trust: TrustContext | None = None,
    memory_types: Sequence[MemoryType | str] | None = None,
    min_salience: float = 0.0,
    limit: int = 10,
) -> Operation[RetrieveResult]:
    """Retrieve, records plus the selector's result."""
    request = _retrieve_request(task_descriptor, trust, memory_types, min_salience, limit)
    return Operation("Retrieve", request, _retrieve_result)


def retrieve_by_id(record_id: str, *, trust: TrustContext | None = None) -> Operation[MemoryRecord]:
    """RetrieveByID: one record, never redacted (PERMISSION_DENIED when not visible)."""
    return Operation(
        "RetrieveByID", pb.RetrieveByIDRequest(id=record_id, trust=_trust(trust)), _record
    )


def supersede(
    old_id: str, new_record: dict[str, Any] | MemoryRecord, actor: str, rationale: str
) -> Operation[MemoryRecord]:
    """Supersede: replace a record with a new version."""
    request = pb.SupersedeRequest(
        old_id=old_id,
        new_record=revision_record_json(new_record, [old_id]),
        actor=actor,
        rationale=rationale,
    )
    return Operation("Supersede", request, _record)


def fork(
    source_id: str, forked_record: dict[str, Any] | MemoryRecord, actor: str, rationale: str
) -> Operation[MemoryRecord]:
    """Fork: a conditional variant of a record; the source stays active."""
    request = pb.ForkRequest(
        source_id=source_id,
        forked_record=revision_record_json(forked_record, [source_id]),
        actor=actor,
        rationale=rationale,
    )
    return Operation("Fork", request, _record)


def retract(record_id: str, actor: str, rationale: str) -> Operation[None]:
    """Retract: soft-delete (salience 0)."""
    return Operation(
        "Retract", pb.RetractRequest(id=record_id, actor=actor, rationale=rationale), _nothing
    )


def merge(
    record_ids: Sequence[str],
    merged_record: dict[str, Any] | MemoryRecord,
    actor: str,
    rationale: str,
) -> Operation[MemoryRecord]:
    """Merge: consolidate several records into a new one."""
    request = pb.MergeRequest(
        ids=list(record_ids),
        merged_record=revision_record_json(merged_record, list(record_ids)),
        actor=actor,
        rationale=rationale,
    )
    return Operation("Merge", request, _record)


def contest(record_id: str, contesting_ref: str, actor: str, rationale: str) -> Operation[None]:
    """Contest: mark a record as contested by another record."""
    request = pb.ContestRequest(
        id=record_id, contesting_ref=contesting_ref, actor=actor, rationale=rationale
    )
    return Operation("Contest", request, _nothing)


def reinforce(record_id: str, actor: str, rationale: str) -> Operation[None]:
    """Reinforce: add the record's reinforcement gain to its salience."""
    request = pb.ReinforceRequest(id=record_id, actor=actor, rationale=rationale)
    return Operation("Reinforce", request, _nothing)


def penalize(record_id: str, amount: float, actor: str, rationale: str) -> Operation[None]:
    """Penalize: subtract ``amount`` from the record's salience (floored at its min_salience)."""
    request = pb.PenalizeRequest(
        id=record_id, amount=float(amount), actor=actor, rationale=rationale
    )
    return Operation("Penalize", request, _nothing)


def _metrics(reply: Any) -> dict[str, Any]:
    return metrics_from_bytes(reply.snapshot)


def get_metrics() -> Operation[dict[str, Any]]:
    """GetMetrics: the daemon's point-in-time metrics snapshot."""
    return Operation("GetMetrics", pb.GetMetricsRequest(), _metrics)
