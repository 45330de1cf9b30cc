"""LangChain tools over the Membrane gRPC client: retrieve, ingest, reinforce, revise.

The application fixes who the agent is and what it may see: the trust context (sensitivity
ceiling, scopes), the actor recorded in audit logs, the scope stamped on every new record, the
source, and the lowest sensitivity new records get. No tool argument can change any of them:
a model may only mark a record *more* sensitive than the floor. Every tool that names an
existing record first reads it with the toolkit's trust context and checks its scope, so a
record outside the agent's view is "not found" whether it exists or not.

Example:
    >>> from membrane_integrations.membrane import TrustContext, Sensitivity
    >>> trust = TrustContext(max_sensitivity=Sensitivity.MEDIUM, authenticated=True)
    >>> tool = MembraneRetrieveTool(client=object(), trust=trust, actor="agent-1")
    >>> tool.name, sorted(tool.args)
    ('membrane_retrieve', ['limit', 'memory_types', 'min_salience', 'task_descriptor'])
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, SkipValidation, model_validator

from ..core.errors import NotFoundError, PermissionDeniedError
from ..membrane.client import AsyncMembraneClient as _A
from ..membrane.client import MembraneClient as _S
from ..membrane.tenancy import MembraneView
from ..membrane.types import MemoryRecord, Sensitivity, TrustContext
from . import _format_membrane as fmt
from ._base import MemoryTool
from ._budget import DEFAULT_BUDGET, clip
from ._driver import Call, ToolPlan, call

__all__ = [
    "MEMBRANE_CORE_TOOLS",
    "MEMBRANE_REVISION_TOOLS",
    "MembraneActionResult",
    "MembraneContestTool",
    "MembraneIdentity",
    "MembraneIngestEventTool",
    "MembraneIngestObservationTool",
    "MembraneIngestOutcomeTool",
    "MembraneIngestToolOutputTool",
    "MembraneIngestWorkingStateTool",
    "MembranePenalizeTool",
    "MembraneReinforceTool",
    "MembraneRetractTool",
    "MembraneRetrieveTool",
    "MembraneSupersedeTool",
    "MembraneTool",
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


class MembraneTool(MemoryTool, MembraneIdentity):
    """Base of the Membrane tools: clients, and the identity the application fixed.

    Attributes:
        client / async_client: a ``MembraneClient`` / ``AsyncMembraneClient``; either one is
            enough (the other is derived from it on first use and closed with the tool).
        trust, actor, scope, source, sensitivity, include_redacted, max_chars: see
            :class:`MembraneIdentity`.
    """

    _client_names = "client= (MembraneClient) and/or async_client="

    @property
    def effective_trust(self) -> TrustContext:
        """The trust sent: the toolkit's, with its actor and (if none given) its scope."""
        return self.view.trust

    def _visible(self, record_id: str) -> Generator[Call, Any, MemoryRecord]:
        """Read a record with the toolkit's trust; anything outside the view is not found."""
        try:
            record: MemoryRecord = yield call(
                _S.retrieve_by_id, _A.retrieve_by_id, record_id, trust=self.effective_trust
            )
        except (NotFoundError, PermissionDeniedError):
            record = MemoryRecord(id="")
        if not record.id or record.redacted or not self.view.in_view(record):
            raise NotFoundError(f"record {record_id!r} was not found", grpc_code="NOT_FOUND")
        return record

    def _common(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "sensitivity": self.view.write_sensitivity(args.get("sensitivity")),
            "source": self.source,
            "tags": args.get("tags"),
            "scope": self.scope,
        }

    def _stored(self, record: MemoryRecord) -> tuple[str, Any]:
        return f"Stored record {record.id}. {fmt.render_record(record)}", record

    def _action(self, action: str, record: MemoryRecord, text: str) -> tuple[str, Any]:
        return text, MembraneActionResult(action=action, record_id=record.id, record=record)


class MembraneRetrieveTool(MembraneTool):
    """Records relevant to the current task (``membrane_retrieve``)."""

    name: str = "membrane_retrieve"
    description: str = (
        "Retrieve memory records relevant to the current task: facts (semantic), past events "
        "and tool runs (episodic), task state (working), skills (competence) and plans. Call it "
        "at the start of a task and before answering questions about earlier work or the "
        "user's preferences. Input: `task_descriptor` as a full sentence, optional "
        "`memory_types`, `min_salience` (0-1) and `limit`. Returns ids, type, salience, "
        "confidence and content."
    )
    args_schema: type[BaseModel] = RetrieveArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        records: list[MemoryRecord] = yield call(
            _S.retrieve,
            _A.retrieve,
            args["task_descriptor"],
            trust=self.effective_trust,
            memory_types=args["memory_types"],
            min_salience=args["min_salience"],
            limit=args["limit"],
        )
        view = self.view
        kept = [r for r in records if view.visible(r)]
        return fmt.render_records(kept, budget=self.max_chars), kept


class MembraneIngestEventTool(MembraneTool):
    """Record something that happened (``membrane_ingest_event``)."""

    name: str = "membrane_ingest_event"
    description: str = (
        "Record an event that happened during the task (a file edit, an error, a decision), so "
        "later tasks can recall it. Input: `event_kind` (e.g. file_edit, error), `ref` (what "
        "it refers to, e.g. a path or ticket), `summary`, optional `tags`."
    )
    args_schema: type[BaseModel] = IngestEventArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        record: MemoryRecord = yield call(
            _S.ingest_event,
            _A.ingest_event,
            args["event_kind"],
            args["ref"],
            summary=args["summary"],
            **self._common(args),
        )
        return self._stored(record)


class MembraneIngestObservationTool(MembraneTool):
    """Store a fact as subject, predicate, object (``membrane_ingest_observation``)."""

    name: str = "membrane_ingest_observation"
    description: str = (
        "Store a stable fact as subject-predicate-object, e.g. subject 'user', predicate "
        "'prefers', object {'language': 'Python'}. Retrieve first if unsure whether it is "
        "already known; to change a known fact use membrane_supersede when available."
    )
    args_schema: type[BaseModel] = IngestObservationArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        record: MemoryRecord = yield call(
            _S.ingest_observation,
            _A.ingest_observation,
            args["subject"],
            args["predicate"],
            args["object"],
            **self._common(args),
        )
        return self._stored(record)


class MembraneIngestToolOutputTool(MembraneTool):
    """Record a tool run and its result (``membrane_ingest_tool_output``)."""

    name: str = "membrane_ingest_tool_output"
    description: str = (
        "Record the output of a tool you ran (name, arguments, result), optionally linked to "
        "the records it depended on, so later tasks can reuse the result."
    )
    args_schema: type[BaseModel] = IngestToolOutputArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        for dependency in args["depends_on"] or ():
            yield from self._visible(dependency)
        record: MemoryRecord = yield call(
            _S.ingest_tool_output,
            _A.ingest_tool_output,
            args["tool_name"],
            args=args["args"],
            result=args["result"],
            depends_on=args["depends_on"],
            **self._common(args),
        )
        return self._stored(record)


class MembraneIngestOutcomeTool(MembraneTool):
    """Close an episode with its outcome (``membrane_ingest_outcome``)."""

    name: str = "membrane_ingest_outcome"
    description: str = (
        "Attach the outcome (success, failure or partial) to an episodic record once you know "
        "how it ended. Input: `target_record_id`, `outcome_status`."
    )
    args_schema: type[BaseModel] = IngestOutcomeArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        target = yield from self._visible(args["target_record_id"])
        record: MemoryRecord = yield call(
            _S.ingest_outcome,
            _A.ingest_outcome,
            target.id,
            args["outcome_status"],
            source=self.source,
        )
        text = f"Recorded outcome {args['outcome_status']} on {target.id}."
        return f"{text} {fmt.render_record(record)}", record


class MembraneIngestWorkingStateTool(MembraneTool):
    """Snapshot where a task thread stands (``membrane_ingest_working_state``)."""

    name: str = "membrane_ingest_working_state"
    description: str = (
        "Save where the current task stands (thread id, state planning|executing|blocked|"
        "waiting|done, next actions, open questions, a context summary), so the task can be "
        "resumed later."
    )
    args_schema: type[BaseModel] = IngestWorkingStateArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        record: MemoryRecord = yield call(
            _S.ingest_working_state,
            _A.ingest_working_state,
            args["thread_id"],
            args["state"],
            next_actions=args["next_actions"],
            open_questions=args["open_questions"],
            context_summary=args["context_summary"],
            **self._common(args),
        )
        return self._stored(record)


class MembraneReinforceTool(MembraneTool):
    """Raise a record's salience after it helped (``membrane_reinforce``)."""

    name: str = "membrane_reinforce"
    description: str = (
        "Mark a retrieved record as useful (it helped complete the task), so it ranks higher "
        "next time. Input: `record_id`, `rationale`."
    )
    args_schema: type[BaseModel] = ReinforceArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        record = yield from self._visible(args["record_id"])
        yield call(_S.reinforce, _A.reinforce, record.id, self.actor, args["rationale"])
        return self._action("reinforce", record, f"Reinforced record {record.id}.")


class MembranePenalizeTool(MembraneTool):
    """Lower a record's salience after it misled (``membrane_penalize``)."""

    name: str = "membrane_penalize"
    description: str = (
        "Mark a retrieved record as unhelpful or misleading, lowering its salience by `amount` "
        "(0-1). Input: `record_id`, `amount`, `rationale`."
    )
    args_schema: type[BaseModel] = PenalizeArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        record = yield from self._visible(args["record_id"])
        yield call(
            _S.penalize, _A.penalize, record.id, args["amount"], self.actor, args["rationale"]
        )
        text = f"Penalized record {record.id} by {args['amount']:g}."
        return self._action("penalize", record, text)


_NOT_COPIED = ("id", "created_at", "updated_at", "audit_log")


class MembraneSupersedeTool(MembraneTool):
    """Replace a record with a corrected version (``membrane_supersede``)."""

    name: str = "membrane_supersede"
    description: str = (
        "Replace a record with a corrected version when a stored fact is outdated or wrong. "
        "Input: `record_id`, `payload_changes` (only the payload fields that change, e.g. "
        "{'object': {'language': 'Go'}}), `rationale`. The old record is retired, not deleted."
    )
    args_schema: type[BaseModel] = SupersedeArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        old = yield from self._visible(args["record_id"])
        doc = {k: v for k, v in old.to_dict().items() if k not in _NOT_COPIED}
        payload = {**(doc.get("payload") or {}), **args["payload_changes"]}
        payload.pop("revision", None)
        payload["kind"] = (doc.get("payload") or {}).get("kind", payload.get("kind"))
        doc["payload"] = payload
        new: MemoryRecord = yield call(
            _S.supersede, _A.supersede, old.id, doc, self.actor, args["rationale"]
        )
        text = f"Superseded {old.id} with {new.id}. {fmt.render_record(new)}"
        return text, new


class MembraneRetractTool(MembraneTool):
    """Withdraw a record (``membrane_retract``)."""

    name: str = "membrane_retract"
    description: str = (
        "Withdraw a record that is wrong or that the user asked to forget (a soft delete, kept "
        "in the audit log). Input: `record_id`, `rationale`."
    )
    args_schema: type[BaseModel] = ReinforceArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        record = yield from self._visible(args["record_id"])
        yield call(_S.retract, _A.retract, record.id, self.actor, args["rationale"])
        return self._action("retract", record, f"Retracted record {record.id}.")


class MembraneContestTool(MembraneTool):
    """Flag a record as disputed by other evidence (``membrane_contest``)."""

    name: str = "membrane_contest"
    description: str = (
        "Flag a record as contested when other evidence contradicts it and you cannot yet tell "
        "which is right. Input: `record_id`, `contesting_ref` (the conflicting record's id), "
        "`rationale`."
    )
    args_schema: type[BaseModel] = ContestArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        record = yield from self._visible(args["record_id"])
        ref = args["contesting_ref"]
        yield call(_S.contest, _A.contest, record.id, ref, self.actor, args["rationale"])
        text = f"Marked record {record.id} as contested by {clip(ref, 200)}."
        return self._action("contest", record, text)


MEMBRANE_CORE_TOOLS: tuple[type[MembraneTool], ...] = (
    MembraneRetrieveTool,
    MembraneIngestEventTool,
    MembraneIngestObservationTool,
    MembraneIngestToolOutputTool,
    MembraneIngestOutcomeTool,
    MembraneIngestWorkingStateTool,
    MembraneReinforceTool,
    MembranePenalizeTool,
)
MEMBRANE_REVISION_TOOLS: tuple[type[MembraneTool], ...] = (
    MembraneSupersedeTool,
    MembraneRetractTool,
    MembraneContestTool,
)
