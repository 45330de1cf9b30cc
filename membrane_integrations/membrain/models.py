"""Typed replies of the Membrain HTTP API (``/api/v1``).

Field names follow the wire. Every reply model allows extra fields (``extra="allow"``) so that
fields a newer server adds survive a round trip. Where the guide leaves a reply shape open
(delete, stats, graph analytics) these models are the shape the emulator serves and the shape
we parse; their docstrings say so.

Example:
    >>> node = SearchResult.validate_python(
    ...     {"type": "memory_node", "id": "m1", "content": "User likes tea",
    ...      "scope": ["container.bob"], "semantic_score": 0.91, "related_memories": []})
    >>> node.id, node.semantic_score
    ('m1', 0.91)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

__all__ = [
    "BatchReadResult",
    "BulkDeleteResult",
    "CountResult",
    "DeleteResult",
    "EdgeEndpoint",
    "GraphEdge",
    "GraphExport",
    "GraphHub",
    "GraphHubs",
    "GraphNode",
    "GraphPath",
    "HealthStatus",
    "IngestAccepted",
    "IngestAction",
    "IngestError",
    "IngestJob",
    "IngestResult",
    "InterpretedAnswer",
    "JobStatus",
    "Memory",
    "MemoryLink",
    "MemoryNode",
    "Neighborhood",
    "RelatedMemory",
    "RelationshipEdge",
    "ResponseFormat",
    "ScopeCount",
    "SearchResponse",
    "SearchResult",
    "Stats",
    "TraverseEdge",
    "TraverseResult",
    "TraversedMemory",
    "UnlinkResult",
]

ResponseFormat = Literal["raw", "interpreted", "both"]
JobStatus = Literal["queued", "processing", "completed", "failed"]
IngestAction = Literal["created", "updated"]


class _Reply(BaseModel):
    """Base of every server reply: unknown fields are kept.

    The validators are built on first use (``defer_build``), not at import: an application
    pays for the shapes it parses, when it first parses them.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class MemoryLink(_Reply):
    """A link of a memory to another, with its natural-language description."""

    memory_id: str
    description: str | None = None


class Memory(_Reply):
    """One atomic memory, as returned by read, batch read, update and a completed ingest."""

    id: str
    content: str
    scope: list[str] = Field(default_factory=list)
    category: str | None = None
    timestamp: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    links: list[MemoryLink] = Field(default_factory=list)
    evolution_history: list[dict[str, Any]] = Field(default_factory=list)


class BatchReadResult(_Reply):
    """``POST /memories/batch``: the memories found, and the ids that were not."""

    memories: list[Memory] = Field(default_factory=list)
    missing_ids: list[str] = Field(default_factory=list)


class IngestAccepted(_Reply):
    """The ``202 Accepted`` reply of ``POST /memories``."""

    job_id: str
    job_status: JobStatus = "queued"
    status_url: str | None = None


class IngestError(_Reply):
    """Why an ingest job failed."""

    code: str = "INGEST_FAILED"
    message: str = ""
    retryable: bool = False


class IngestResult(_Reply):
    """The result of a completed ingest job."""

    memory_id: str
    action: IngestAction
    memory: Memory | None = None


class IngestJob(_Reply):
    """``GET /memories/jobs/{job_id}``: the state of an ingest job."""

    job_id: str
    status: JobStatus
    result: IngestResult | None = None
    error: IngestError | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def done(self) -> bool:
        """True once the job is ``completed`` or ``failed``."""
        return self.status in ("completed", "failed")


class RelatedMemory(_Reply):
    """A short preview of a memory linked to a search hit."""

    id: str
    content: str = ""
    description: str | None = None
    scope: list[str] = Field(default_factory=list)


class EdgeEndpoint(_Reply):
    """An edge endpoint sent as an object rather than a bare id."""

    id: str
    content: str | None = None
    scope: list[str] = Field(default_factory=list)


def _endpoint(value: Any) -> Any:
    return {"id": value} if isinstance(value, str) else value


class MemoryNode(_Reply):
    """A ``memory_node`` search hit."""

    type: Literal["memory_node"] = "memory_node"
    id: str
    content: str
    scope: list[str] = Field(default_factory=list)
    category: str | None = None
    semantic_score: float = 0.0
    related_memories: list[RelatedMemory] = Field(default_factory=list)


class RelationshipEdge(_Reply):
    """A ``relationship_edge`` search hit: the edge is evidence in its own right.

    ``source`` and ``target`` may arrive as ids or as objects; both parse to
    :class:`EdgeEndpoint` (use ``.source.id``).
    """

    type: Literal["relationship_edge"] = "relationship_edge"
    description: str = ""
    source: EdgeEndpoint
    target: EdgeEndpoint
    score: float = 0.0

    _normalise = field_validator("source", "target", mode="before")(lambda cls, v: _endpoint(v))


SearchResult: TypeAdapter[MemoryNode | RelationshipEdge] = TypeAdapter(
    Annotated[MemoryNode | RelationshipEdge, Field(discriminator="type")],
    config=ConfigDict(defer_build=True),
)


class InterpretedAnswer(_Reply):
    """The ``interpreted`` block: a synthesis of what the search retrieved."""

    answer_summary: str = ""
    key_facts: list[str] = Field(default_factory=list)
    important_relationships: list[str] = Field(default_factory=list)
    conflicts_or_uncertainties: list[str] = Field(default_factory=list)
    supporting_memory_ids: list[str] = Field(default_factory=list)
    confidence: float | None = None


class SearchResponse(_Reply):
    """``POST /memories/search``."""

    results: list[Annotated[MemoryNode | RelationshipEdge, Field(discriminator="type")]] = Field(
        default_factory=list
    )
    interpreted: InterpretedAnswer | None = None
    interpreted_error: str | None = None
    scope: list[str] | None = None

    @property
    def nodes(self) -> list[MemoryNode]:
        """Only the memory nodes, in server order."""
        return [r for r in self.results if isinstance(r, MemoryNode)]

    @property
    def edges(self) -> list[RelationshipEdge]:
        """Only the relationship edges, in server order."""
        return [r for r in self.results if isinstance(r, RelationshipEdge)]


class DeleteResult(_Reply):
    """``DELETE /memories/{id}`` (shape chosen by us: ``{"deleted": true, "memory_id": ...}``)."""

    deleted: bool = True
    memory_id: str | None = None


class BulkDeleteResult(_Reply):
    """``DELETE /memories/bulk``: how many memories were removed, and which."""

    deleted_count: int
    memory_ids: list[str] = Field(default_factory=list)


class UnlinkResult(_Reply):
    """``POST /memories/unlink``: whether a link existed and was removed."""

    unlinked: bool
    memory_id_1: str | None = None
    memory_id_2: str | None = None


class ScopeCount(_Reply):
    """One entry of ``top_scope``."""

    token: str
    count: int


class Stats(_Reply):
    """``GET /stats``."""

    total_memories: int
    total_links: int = 0
    avg_links_per_memory: float = 0.0
    top_scope: list[ScopeCount] = Field(default_factory=list)


class CountResult(_Reply):
    """``GET /memories/count``."""

    count: int


class GraphNode(_Reply):
    """A memory as a graph node (analytics replies)."""

    id: str
    content: str = ""
    scope: list[str] = Field(default_factory=list)
    category: str | None = None
    distance: int | None = None


class GraphEdge(_Reply):
    """A link as a graph edge, with its description."""

    source: str
    target: str
    description: str | None = None

    _normalise = field_validator("source", "target", mode="before")(
        lambda cls, v: v["id"] if isinstance(v, dict) else v
    )


class GraphPath(_Reply):
    """``GET /graph/path``: the shortest path (BFS over links), empty when none exists."""

    from_id: str
    to_id: str
    found: bool
    path: list[str] = Field(default_factory=list)
    hops: int | None = None
    nodes: list[GraphNode] = Field(default_factory=list)


class GraphHub(GraphNode):
    """A high-degree node."""

    degree: int


class GraphHubs(_Reply):
    """``GET /graph/hubs``."""

    hubs: list[GraphHub] = Field(default_factory=list)


class Neighborhood(_Reply):
    """``GET /graph/neighborhood``: nodes within ``hops`` of ``memory_id`` (with distance)."""

    memory_id: str
    hops: int
    nodes: list[GraphNode] = Field(default_factory=list)
    edges: list[GraphEdge] = Field(default_factory=list)


class GraphExport(_Reply):
    """``GET /graph/export``: every node and edge, with link descriptions."""

    nodes: list[GraphNode] = Field(default_factory=list)
    edges: list[GraphEdge] = Field(default_factory=list)


class TraversedMemory(GraphNode):
    """A memory reached by semantic traversal, with the hop it was reached at."""

    hop: int = 0


class TraverseEdge(GraphEdge):
    """An edge followed by semantic traversal, with its description's similarity to the query."""

    similarity: float


class TraverseResult(_Reply):
    """``GET /graph/traverse``: memories visited, edges traversed, counts."""

    start_memory_id: str
    query: str
    visited: list[TraversedMemory] = Field(default_factory=list)
    edges: list[TraverseEdge] = Field(default_factory=list)
    visited_count: int = 0
    edge_count: int = 0


class HealthStatus(_Reply):
    """``GET /health`` and ``GET /ready``."""

    status: str
