"""The Membrane memory tools, framework-neutral: retrieve, ingest, reinforce, revise.

The application fixes who the agent is and what it may see (:class:`MembraneIdentity`): the
trust context (sensitivity ceiling, scopes), the actor recorded in audit logs, the scope stamped
on every new record, the source, and the lowest sensitivity new records get. No tool argument
can change any of them: a model may only mark a record *more* sensitive than the floor. Every
tool that names an existing record first reads it with that trust context and checks its scope
(:class:`~membrane_integrations.membrane.tenancy.MembraneView`), so a record outside the
agent's view is "not found" whether it exists or not. The LangChain tools
(:mod:`membrane_integrations.langchain.membrane_tools`) and the MCP server
(:mod:`membrane_integrations.mcp`) serve these same specs.

Example:
    >>> [spec.name for spec in membrane_specs()][:3]
    ['membrane_retrieve', 'membrane_ingest_event', 'membrane_ingest_observation']
    >>> sorted(RETRIEVE.args.model_fields)
    ['limit', 'memory_types', 'min_salience', 'task_descriptor']
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, SkipValidation, model_validator

from ..core.errors import NotFoundError, PermissionDeniedError
from ..core.plan import Call, ToolPlan, call
from ..membrane.client import AsyncMembraneClient as _A
from ..membrane.client import MembraneClient as _S
from ..membrane.tenancy import MembraneView
from ..membrane.types import MemoryRecord, Sensitivity, TrustContext
from . import _format_membrane as fmt
from ._budget import DEFAULT_BUDGET, clip
from .spec import ToolSpec

__all__ = [
    "CONTEST",
    "INGEST_EVENT",
    "INGEST_OBSERVATION",
    "INGEST_OUTCOME",
    "INGEST_TOOL_OUTPUT",
    "INGEST_WORKING_STATE",
    "MEMBRANE_CORE_SPECS",
    "MEMBRANE_REVISION_SPECS",
    "PENALIZE",
    "REINFORCE",
    "RETRACT",
    "RETRIEVE",
    "SUPERSEDE",
    "ContestArgs",
    "IngestEventArgs",
    "IngestObservationArgs",
    "IngestOutcomeArgs",
    "IngestToolOutputArgs",
    "IngestWorkingStateArgs",
    "MembraneActionResult",
    "MembraneIdentity",
    "MembraneSpec",
    "PenalizeArgs",
    "ReinforceArgs",
    "RetrieveArgs",
    "SupersedeArgs",
    "membrane_specs",
    "stats_plan",
]

SensitivityName = Literal["public", "low", "medium", "high", "hyper"]
MemoryTypeName = Literal["episodic", "working", "semantic", "competence", "plan_graph"]
_TAGS = Field(default=None, max_length=20, description="Optional tags for later filtering.")
_SENSITIVITY = Field(
    default=None,
    description="Optional: mark the record more sensitive (medium, high, hyper) than the "
    "default; it can never be made less sensitive than the application's floor.",
)
_RATIONALE = Field(min_length=1, max_length=2000, description="Why, in one sentence (audited).")
_RECORD_ID = Field(min_length=1, description="Id of a record from membrane_retrieve.")


@dataclass(frozen=True)
class MembraneActionResult:
    """The artifact of a tool whose RPC returns nothing (reinforce, penalize, retract, contest).

    ``record`` is the record as it was read just before the action.
    """

    action: str
    record_id: str
    record: MemoryRecord


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class RetrieveArgs(_Args):
    """Arguments of ``membrane_retrieve``."""

    task_descriptor: str = Field(
        min_length=1,
        max_length=10_000,
        description="A full sentence describing the current task, e.g. 'fix the login bug in "
        "the auth service'.",
    )
    memory_types: list[MemoryTypeName] | None = Field(
        default=None,
        description="Only these layers: episodic (events, tool runs), working (task state), "
        "semantic (facts), competence (skills), plan_graph (plans). Default: all.",
    )
    min_salience: float = Field(default=0.0, ge=0.0, le=1.0, description="Skip less salient.")
    limit: int = Field(default=10, ge=1, le=100, description="At most this many records.")


class IngestEventArgs(_Args):
    """Arguments of ``membrane_ingest_event``."""

    event_kind: str = Field(min_length=1, max_length=200, description="e.g. file_edit, error.")
    ref: str = Field(min_length=1, max_length=2000, description="What it refers to.")
    summary: str = Field(default="", max_length=10_000, description="What happened.")
    tags: list[str] | None = _TAGS
    sensitivity: SensitivityName | None = _SENSITIVITY


class IngestObservationArgs(_Args):
    """Arguments of ``membrane_ingest_observation``."""

    subject: str = Field(min_length=1, max_length=2000, description="e.g. 'user'.")
    predicate: str = Field(min_length=1, max_length=2000, description="e.g. 'prefers'.")
    object: JsonValue = Field(description="The value, any JSON, e.g. {'language': 'Python'}.")
    tags: list[str] | None = _TAGS
    sensitivity: SensitivityName | None = _SENSITIVITY


class IngestToolOutputArgs(_Args):
    """Arguments of ``membrane_ingest_tool_output``."""

    tool_name: str = Field(min_length=1, max_length=200, description="The tool that ran.")
    args: dict[str, JsonValue] | None = Field(default=None, description="Its arguments.")
    result: JsonValue = Field(default=None, description="What it returned (any JSON).")
    depends_on: list[str] | None = Field(
        default=None, max_length=50, description="Ids of records this output depends on."
    )
    tags: list[str] | None = _TAGS
    sensitivity: SensitivityName | None = _SENSITIVITY


class IngestOutcomeArgs(_Args):
    """Arguments of ``membrane_ingest_outcome``."""

    target_record_id: str = Field(min_length=1, description="The episodic record it closes.")
    outcome_status: Literal["success", "failure", "partial"]


class IngestWorkingStateArgs(_Args):
    """Arguments of ``membrane_ingest_working_state``."""

    thread_id: str = Field(min_length=1, max_length=200, description="The task thread.")
    state: Literal["planning", "executing", "blocked", "waiting", "done"]
    next_actions: list[str] | None = Field(default=None, description="Planned next steps.")
    open_questions: list[str] | None = Field(default=None, description="Unresolved questions.")
    context_summary: str = Field(default="", max_length=10_000, description="Where things stand.")
    tags: list[str] | None = _TAGS
    sensitivity: SensitivityName | None = _SENSITIVITY


class ReinforceArgs(_Args):
    """Arguments of ``membrane_reinforce`` and ``membrane_retract``."""

    record_id: str = _RECORD_ID
    rationale: str = _RATIONALE


class PenalizeArgs(ReinforceArgs):
    """Arguments of ``membrane_penalize``."""

    amount: float = Field(default=0.2, gt=0.0, le=1.0, description="How much salience to remove.")


class SupersedeArgs(_Args):
    """Arguments of ``membrane_supersede``."""

    record_id: str = _RECORD_ID
    payload_changes: dict[str, JsonValue] = Field(
        min_length=1,
        description="The payload fields to change in the new version, e.g. {'object': "
        "{'language': 'Go'}} for a semantic fact; other fields are kept.",
    )
    rationale: str = _RATIONALE


class ContestArgs(ReinforceArgs):
    """Arguments of ``membrane_contest``."""

    contesting_ref: str = Field(
        min_length=1, description="Id of the record (or a reference) with the conflicting evidence."
    )


class MembraneIdentity(BaseModel):
    """What the application fixes for Membrane tools; one model for the toolkit and each tool.

    Attributes:
        trust: the ``TrustContext`` of every read (sensitivity ceiling, scopes).
        actor: recorded as the actor of every revision and reinforcement.
        scope: stamped on every new record; reads keep only records of this scope.
        source: the provenance source of new records.
        sensitivity: the lowest sensitivity of new records.
        include_redacted: show records above the ceiling as redacted lines (default: skip).
        max_chars: the budget of the text returned to the model.

    Example:
        >>> MembraneIdentity(actor="agent-1", scope="p").view.trust.scopes
        ['p']
    """

    trust: SkipValidation[TrustContext] = Field(default_factory=TrustContext)
    actor: str = Field(min_length=1)
    scope: str = ""
    source: str = "langchain"
    sensitivity: Sensitivity = Sensitivity.LOW
    include_redacted: bool = False
    max_chars: int = Field(default=DEFAULT_BUDGET, ge=200)

    @model_validator(mode="after")
    def _check_trust(self) -> Any:
        if not isinstance(self.trust, TrustContext):
            raise ValueError("trust must be a membrane TrustContext")
        return self

    def identity(self) -> dict[str, Any]:
        """These settings as keyword arguments (to build a tool with them)."""
        return {name: getattr(self, name) for name in MembraneIdentity.model_fields}

    @property
    def view(self) -> MembraneView:
        """The tenancy rule applied (trust sent, records in view, write floor)."""
        return MembraneView(
            base=self.trust,
            actor=self.actor,
            scope=self.scope,
            floor=self.sensitivity,
            include_redacted=self.include_redacted,
        )


MembraneSpec = ToolSpec[MembraneIdentity]


def _visible(ident: MembraneIdentity, record_id: str) -> Generator[Call, Any, MemoryRecord]:
    """Read a record with the application's trust; anything outside the view is not found."""
    view = ident.view
    try:
        record: MemoryRecord = yield call(
            _S.retrieve_by_id, _A.retrieve_by_id, record_id, trust=view.trust
        )
    except (NotFoundError, PermissionDeniedError):
        record = MemoryRecord(id="")
    if not record.id or record.redacted or not view.in_view(record):
        raise NotFoundError(f"record {record_id!r} was not found", grpc_code="NOT_FOUND")
    return record


def _common(ident: MembraneIdentity, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "sensitivity": ident.view.write_sensitivity(args.get("sensitivity")),
        "source": ident.source,
        "tags": args.get("tags"),
        "scope": ident.scope,
    }


def _stored(record: MemoryRecord) -> tuple[str, Any]:
    return f"Stored record {record.id}. {fmt.render_record(record)}", record


def _action(action: str, record: MemoryRecord, text: str) -> tuple[str, Any]:
    return text, MembraneActionResult(action=action, record_id=record.id, record=record)


def _retrieve(ident: MembraneIdentity, args: dict[str, Any]) -> ToolPlan:
    view = ident.view
    records: list[MemoryRecord] = yield call(
        _S.retrieve,
        _A.retrieve,
        args["task_descriptor"],
        trust=view.trust,
        memory_types=args["memory_types"],
        min_salience=args["min_salience"],
        limit=args["limit"],
    )
    kept = [r for r in records if view.visible(r)]
    return fmt.render_records(kept, budget=ident.max_chars), kept


RETRIEVE: MembraneSpec = ToolSpec(
    "membrane_retrieve",
    "Retrieve memory records relevant to the current task: facts (semantic), past events "
    "and tool runs (episodic), task state (working), skills (competence) and plans. Call it "
    "at the start of a task and before answering questions about earlier work or the "
    "user's preferences. Input: `task_descriptor` as a full sentence, optional "
    "`memory_types`, `min_salience` (0-1) and `limit`. Returns ids, type, salience, "
    "confidence and content.",
    RetrieveArgs,
    _retrieve,
)


def _ingest_event(ident: MembraneIdentity, args: dict[str, Any]) -> ToolPlan:
    record: MemoryRecord = yield call(
        _S.ingest_event,
        _A.ingest_event,
        args["event_kind"],
        args["ref"],
        summary=args["summary"],
        **_common(ident, args),
    )
    return _stored(record)


INGEST_EVENT: MembraneSpec = ToolSpec(
    "membrane_ingest_event",
    "Record an event that happened during the task (a file edit, an error, a decision), so "
    "later tasks can recall it. Input: `event_kind` (e.g. file_edit, error), `ref` (what "
    "it refers to, e.g. a path or ticket), `summary`, optional `tags`.",
    IngestEventArgs,
    _ingest_event,
)


def _ingest_observation(ident: MembraneIdentity, args: dict[str, Any]) -> ToolPlan:
    record: MemoryRecord = yield call(
        _S.ingest_observation,
        _A.ingest_observation,
        args["subject"],
        args["predicate"],
        args["object"],
        **_common(ident, args),
    )
    return _stored(record)


INGEST_OBSERVATION: MembraneSpec = ToolSpec(
    "membrane_ingest_observation",
    "Store a stable fact as subject-predicate-object, e.g. subject 'user', predicate "
    "'prefers', object {'language': 'Python'}. Retrieve first if unsure whether it is "
    "already known; to change a known fact use membrane_supersede when available.",
    IngestObservationArgs,
    _ingest_observation,
)


def _ingest_tool_output(ident: MembraneIdentity, args: dict[str, Any]) -> ToolPlan:
    for dependency in args["depends_on"] or ():
        yield from _visible(ident, dependency)
    record: MemoryRecord = yield call(
        _S.ingest_tool_output,
        _A.ingest_tool_output,
        args["tool_name"],
        args=args["args"],
        result=args["result"],
        depends_on=args["depends_on"],
        **_common(ident, args),
    )
    return _stored(record)


INGEST_TOOL_OUTPUT: MembraneSpec = ToolSpec(
    "membrane_ingest_tool_output",
    "Record the output of a tool you ran (name, arguments, result), optionally linked to "
    "the records it depended on, so later tasks can reuse the result.",
    IngestToolOutputArgs,
    _ingest_tool_output,
)


def _ingest_outcome(ident: MembraneIdentity, args: dict[str, Any]) -> ToolPlan:
    target = yield from _visible(ident, args["target_record_id"])
    record: MemoryRecord = yield call(
        _S.ingest_outcome,
        _A.ingest_outcome,
        target.id,
        args["outcome_status"],
        source=ident.source,
    )
    text = f"Recorded outcome {args['outcome_status']} on {target.id}."
    return f"{text} {fmt.render_record(record)}", record


INGEST_OUTCOME: MembraneSpec = ToolSpec(
    "membrane_ingest_outcome",
    "Attach the outcome (success, failure or partial) to an episodic record once you know "
    "how it ended. Input: `target_record_id`, `outcome_status`.",
    IngestOutcomeArgs,
    _ingest_outcome,
)


def _ingest_working_state(ident: MembraneIdentity, args: dict[str, Any]) -> ToolPlan:
    record: MemoryRecord = yield call(
        _S.ingest_working_state,
        _A.ingest_working_state,
        args["thread_id"],
        args["state"],
        next_actions=args["next_actions"],
        open_questions=args["open_questions"],
        context_summary=args["context_summary"],
        **_common(ident, args),
    )
    return _stored(record)


INGEST_WORKING_STATE: MembraneSpec = ToolSpec(
    "membrane_ingest_working_state",
    "Save where the current task stands (thread id, state planning|executing|blocked|"
    "waiting|done, next actions, open questions, a context summary), so the task can be "
    "resumed later.",
    IngestWorkingStateArgs,
    _ingest_working_state,
)


def _reinforce(ident: MembraneIdentity, args: dict[str, Any]) -> ToolPlan:
    record = yield from _visible(ident, args["record_id"])
    yield call(_S.reinforce, _A.reinforce, record.id, ident.actor, args["rationale"])
    return _action("reinforce", record, f"Reinforced record {record.id}.")


REINFORCE: MembraneSpec = ToolSpec(
    "membrane_reinforce",
    "Mark a retrieved record as useful (it helped complete the task), so it ranks higher "
    "next time. Input: `record_id`, `rationale`.",
    ReinforceArgs,
    _reinforce,
)


def _penalize(ident: MembraneIdentity, args: dict[str, Any]) -> ToolPlan:
    record = yield from _visible(ident, args["record_id"])
    yield call(_S.penalize, _A.penalize, record.id, args["amount"], ident.actor, args["rationale"])
    text = f"Penalized record {record.id} by {args['amount']:g}."
    return _action("penalize", record, text)


PENALIZE: MembraneSpec = ToolSpec(
    "membrane_penalize",
    "Mark a retrieved record as unhelpful or misleading, lowering its salience by `amount` "
    "(0-1). Input: `record_id`, `amount`, `rationale`.",
    PenalizeArgs,
    _penalize,
)

_NOT_COPIED = ("id", "created_at", "updated_at", "audit_log")


def _supersede(ident: MembraneIdentity, args: dict[str, Any]) -> ToolPlan:
    old = yield from _visible(ident, args["record_id"])
    doc = {k: v for k, v in old.to_dict().items() if k not in _NOT_COPIED}
    payload = {**(doc.get("payload") or {}), **args["payload_changes"]}
    payload.pop("revision", None)
    payload["kind"] = (doc.get("payload") or {}).get("kind", payload.get("kind"))
    doc["payload"] = payload
    new: MemoryRecord = yield call(
        _S.supersede, _A.supersede, old.id, doc, ident.actor, args["rationale"]
    )
    text = f"Superseded {old.id} with {new.id}. {fmt.render_record(new)}"
    return text, new


SUPERSEDE: MembraneSpec = ToolSpec(
    "membrane_supersede",
    "Replace a record with a corrected version when a stored fact is outdated or wrong. "
    "Input: `record_id`, `payload_changes` (only the payload fields that change, e.g. "
    "{'object': {'language': 'Go'}}), `rationale`. The old record is retired, not deleted.",
    SupersedeArgs,
    _supersede,
)


def _retract(ident: MembraneIdentity, args: dict[str, Any]) -> ToolPlan:
    record = yield from _visible(ident, args["record_id"])
    yield call(_S.retract, _A.retract, record.id, ident.actor, args["rationale"])
    return _action("retract", record, f"Retracted record {record.id}.")


RETRACT: MembraneSpec = ToolSpec(
    "membrane_retract",
    "Withdraw a record that is wrong or that the user asked to forget (a soft delete, kept "
    "in the audit log). Input: `record_id`, `rationale`.",
    ReinforceArgs,
    _retract,
)


def _contest(ident: MembraneIdentity, args: dict[str, Any]) -> ToolPlan:
    record = yield from _visible(ident, args["record_id"])
    ref = args["contesting_ref"]
    yield call(_S.contest, _A.contest, record.id, ref, ident.actor, args["rationale"])
    text = f"Marked record {record.id} as contested by {clip(ref, 200)}."
    return _action("contest", record, text)


CONTEST: MembraneSpec = ToolSpec(
    "membrane_contest",
    "Flag a record as contested when other evidence contradicts it and you cannot yet tell "
    "which is right. Input: `record_id`, `contesting_ref` (the conflicting record's id), "
    "`rationale`.",
    ContestArgs,
    _contest,
)

MEMBRANE_CORE_SPECS: tuple[MembraneSpec, ...] = (
    RETRIEVE,
    INGEST_EVENT,
    INGEST_OBSERVATION,
    INGEST_TOOL_OUTPUT,
    INGEST_OUTCOME,
    INGEST_WORKING_STATE,
    REINFORCE,
    PENALIZE,
)
MEMBRANE_REVISION_SPECS: tuple[MembraneSpec, ...] = (SUPERSEDE, RETRACT, CONTEST)


def membrane_specs(*, revisions: bool = False) -> list[MembraneSpec]:
    """The tools an agent gets: the core ones, then the revision ones when enabled.

    >>> len(membrane_specs()), membrane_specs(revisions=True)[-1].name
    (8, 'membrane_contest')
    """
    specs = list(MEMBRANE_CORE_SPECS)
    if revisions:
        specs.extend(MEMBRANE_REVISION_SPECS)
    return specs


STATS_LIMIT = 100
_STATS_QUERY = "everything remembered in this scope"


def stats_plan(ident: MembraneIdentity) -> Generator[Call, Any, str]:
    """How many records are in view, by type (up to ``STATS_LIMIT``), as one line of text.

    Membrane has no count: the plan retrieves up to ``STATS_LIMIT`` records with the
    application's trust and counts those in view, so it reports "at least" when it hits the cap.
    """
    view = ident.view
    records: list[MemoryRecord] = yield call(
        _S.retrieve, _A.retrieve, _STATS_QUERY, trust=view.trust, limit=STATS_LIMIT
    )
    kept = [r for r in records if view.visible(r)]
    by_type: dict[str, int] = {}
    for record in kept:
        kind = str(getattr(record.type, "value", record.type))
        by_type[kind] = by_type.get(kind, 0) + 1
    total = f"at least {len(kept)}" if len(records) >= STATS_LIMIT else str(len(kept))
    parts = ", ".join(f"{kind} {count}" for kind, count in sorted(by_type.items()))
    where = f"Scope {ident.scope}" if ident.scope else "This view"
    return f"{where}: {total} record{'s' if len(kept) != 1 else ''}" + (
        f" ({parts})." if parts else "."
    )
