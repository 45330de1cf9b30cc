"""LangChain tools over the Membrane gRPC client: retrieve, ingest, reinforce, revise.

Each tool wraps one framework-neutral definition (:mod:`membrane_integrations.tools.membrane`:
name, description, argument model, the client calls and the text; the MCP server serves the same
ones). The application fixes who the agent is and what it may see: the trust context
(sensitivity ceiling, scopes), the actor recorded in audit logs, the scope stamped on every new
record, the source, and the lowest sensitivity new records get
(:class:`~membrane_integrations.tools.membrane.MembraneIdentity`). No tool argument can change
any of them: a model may only mark a record *more* sensitive than the floor. Every tool that
names an existing record first reads it with the toolkit's trust context and checks its scope,
so a record outside the agent's view is "not found" whether it exists or not.

Example:
    >>> from membrane_integrations.membrane import TrustContext, Sensitivity
    >>> trust = TrustContext(max_sensitivity=Sensitivity.MEDIUM, authenticated=True)
    >>> tool = MembraneRetrieveTool(client=object(), trust=trust, actor="agent-1")
    >>> tool.name, sorted(tool.args)
    ('membrane_retrieve', ['limit', 'memory_types', 'min_salience', 'task_descriptor'])
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel

from ..membrane.types import TrustContext
from ..tools import membrane as defs
from ..tools.membrane import MembraneActionResult, MembraneIdentity
from ._base import MemoryTool

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
    def settings(self) -> Any:
        """What the application fixed: this tool is its own identity."""
        return self

    @property
    def effective_trust(self) -> TrustContext:
        """The trust sent: the toolkit's, with its actor and (if none given) its scope."""
        return self.view.trust


class MembraneRetrieveTool(MembraneTool):
    """Records relevant to the current task (``membrane_retrieve``)."""

    spec: ClassVar[defs.MembraneSpec] = defs.RETRIEVE
    name: str = defs.RETRIEVE.name
    description: str = defs.RETRIEVE.description
    args_schema: type[BaseModel] = defs.RetrieveArgs


class MembraneIngestEventTool(MembraneTool):
    """Record something that happened (``membrane_ingest_event``)."""

    spec: ClassVar[defs.MembraneSpec] = defs.INGEST_EVENT
    name: str = defs.INGEST_EVENT.name
    description: str = defs.INGEST_EVENT.description
    args_schema: type[BaseModel] = defs.IngestEventArgs


class MembraneIngestObservationTool(MembraneTool):
    """Store a fact as subject, predicate, object (``membrane_ingest_observation``)."""

    spec: ClassVar[defs.MembraneSpec] = defs.INGEST_OBSERVATION
    name: str = defs.INGEST_OBSERVATION.name
    description: str = defs.INGEST_OBSERVATION.description
    args_schema: type[BaseModel] = defs.IngestObservationArgs


class MembraneIngestToolOutputTool(MembraneTool):
    """Record a tool run and its result (``membrane_ingest_tool_output``)."""

    spec: ClassVar[defs.MembraneSpec] = defs.INGEST_TOOL_OUTPUT
    name: str = defs.INGEST_TOOL_OUTPUT.name
    description: str = defs.INGEST_TOOL_OUTPUT.description
    args_schema: type[BaseModel] = defs.IngestToolOutputArgs


class MembraneIngestOutcomeTool(MembraneTool):
    """Close an episode with its outcome (``membrane_ingest_outcome``)."""

    spec: ClassVar[defs.MembraneSpec] = defs.INGEST_OUTCOME
    name: str = defs.INGEST_OUTCOME.name
    description: str = defs.INGEST_OUTCOME.description
    args_schema: type[BaseModel] = defs.IngestOutcomeArgs


class MembraneIngestWorkingStateTool(MembraneTool):
    """Snapshot where a task thread stands (``membrane_ingest_working_state``)."""

    spec: ClassVar[defs.MembraneSpec] = defs.INGEST_WORKING_STATE
    name: str = defs.INGEST_WORKING_STATE.name
    description: str = defs.INGEST_WORKING_STATE.description
    args_schema: type[BaseModel] = defs.IngestWorkingStateArgs


class MembraneReinforceTool(MembraneTool):
    """Raise a record's salience after it helped (``membrane_reinforce``)."""

    spec: ClassVar[defs.MembraneSpec] = defs.REINFORCE
    name: str = defs.REINFORCE.name
    description: str = defs.REINFORCE.description
    args_schema: type[BaseModel] = defs.ReinforceArgs


class MembranePenalizeTool(MembraneTool):
    """Lower a record's salience after it misled (``membrane_penalize``)."""

    spec: ClassVar[defs.MembraneSpec] = defs.PENALIZE
    name: str = defs.PENALIZE.name
    description: str = defs.PENALIZE.description
    args_schema: type[BaseModel] = defs.PenalizeArgs


class MembraneSupersedeTool(MembraneTool):
    """Replace a record with a corrected version (``membrane_supersede``)."""

    spec: ClassVar[defs.MembraneSpec] = defs.SUPERSEDE
    name: str = defs.SUPERSEDE.name
    description: str = defs.SUPERSEDE.description
    args_schema: type[BaseModel] = defs.SupersedeArgs


class MembraneRetractTool(MembraneTool):
    """Withdraw a record (``membrane_retract``)."""

    spec: ClassVar[defs.MembraneSpec] = defs.RETRACT
    name: str = defs.RETRACT.name
    description: str = defs.RETRACT.description
    args_schema: type[BaseModel] = defs.ReinforceArgs


class MembraneContestTool(MembraneTool):
    """Flag a record as disputed by other evidence (``membrane_contest``)."""

    spec: ClassVar[defs.MembraneSpec] = defs.CONTEST
    name: str = defs.CONTEST.name
    description: str = defs.CONTEST.description
    args_schema: type[BaseModel] = defs.ContestArgs


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
