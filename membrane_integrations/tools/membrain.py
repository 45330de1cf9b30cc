"""The Membrain memory tools, framework-neutral: search, add, get, update, delete, unlink, graph.

Each tool is a :class:`~membrane_integrations.tools.spec.ToolSpec`: its name, the description a
model reads, a pydantic model of its arguments, and a plan that calls the Membrain client (one
call, plus, when a container is set, one read that proves the memory belongs to it) and returns a
compact text for the model with the full typed result. The container is the application's
(:class:`MembrainSettings`), never an argument: the tenancy rule
(:class:`~membrane_integrations.membrain.tenancy.Tenancy`) stamps it on every write and ANDs it
first on every read. The LangChain tools
(:mod:`membrane_integrations.langchain.membrain_tools`) and the MCP server
(:mod:`membrane_integrations.mcp`) serve these same specs.

Example:
    >>> from membrane_integrations.core.plan import drive_sync
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> settings = MembrainSettings(container="doc-spec")
    >>> with MembrainEmulator() as emu, emu.client() as client:
    ...     text, _ = drive_sync(ADD.plan(settings, ADD.validate({"content": "User likes tea"})),
    ...                          client)
    ...     text2, _ = drive_sync(STATS.plan(settings, STATS.validate({})), client)
    >>> text.split(" ")[0], text2
    ('Stored', '1 memory.')
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.errors import IngestTimeoutError, InvalidRequestError, NotFoundError
from ..core.plan import Call, ToolPlan, call
from ..membrain.client import AsyncMembrainClient as _A
from ..membrain.client import MembrainClient as _S
from ..membrain.models import (
    BulkDeleteResult,
    CountResult,
    DeleteResult,
    GraphHubs,
    GraphPath,
    IngestAccepted,
    IngestResult,
    Memory,
    Neighborhood,
    SearchResponse,
    Stats,
    TraverseResult,
    UnlinkResult,
)
from ..membrain.tenancy import Tenancy, visible_edges, visible_nodes, visible_search
from . import _format_membrain as fmt
from ._budget import DEFAULT_BUDGET
from .spec import ToolSpec

__all__ = [
    "ADD",
    "DELETE",
    "GET",
    "GRAPH_HUBS",
    "GRAPH_NEIGHBORHOOD",
    "GRAPH_PATH",
    "GRAPH_TRAVERSE",
    "MEMBRAIN_GRAPH_SPECS",
    "MEMBRAIN_READ_SPECS",
    "MEMBRAIN_WRITE_SPECS",
    "SEARCH",
    "STATS",
    "UNLINK",
    "UPDATE",
    "AddArgs",
    "DeleteArgs",
    "GetArgs",
    "GraphHubsArgs",
    "GraphNeighborhoodArgs",
    "GraphPathArgs",
    "GraphTraverseArgs",
    "MembrainSettings",
    "SearchArgs",
    "StatsArgs",
    "UnlinkArgs",
    "UpdateArgs",
    "membrain_specs",
    "raise_not_found",
]

DEFAULT_WAIT = 60.0

_SCOPE_FILTER_HELP = (
    "Optional list of regular expressions over the memories' scope tokens; every pattern must "
    "match at least one token (AND); case-insensitive. Escape literal dots: 'type\\.preference'."
)
_SCOPE_TOKENS_HELP = (
    "Optional literal tokens to store with the fact, for later filtering, e.g. "
    "['type.preference', 'domain.food']: domain (work, health), type (preference, constraint, "
    "goal, decision), priority (important, temporary)."
)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class SearchArgs(_Args):
    """Arguments of ``membrain_search``."""

    query: str = Field(
        min_length=1,
        max_length=10_000,
        description="A full natural-language question, e.g. 'What food does the user avoid?', "
        "not a keyword.",
    )
    k: int = Field(default=5, ge=1, le=100, description="How many top hits to return (1-100).")
    scope: list[str] | None = Field(default=None, description=_SCOPE_FILTER_HELP)
    response_format: Literal["raw", "interpreted", "both"] = Field(
        default="raw",
        description="raw: memories and relationship edges with ids (cite ids, inspect edges); "
        "interpreted: a synthesized summary; both: summary plus evidence.",
    )
    rerank: bool = Field(
        default=False, description="Return memory nodes only, edges folded onto them."
    )
    full_scope: bool = Field(
        default=False,
        description="List every memory matching `scope` instead of ranking by the query; "
        "needs a non-empty scope.",
    )


class AddArgs(_Args):
    """Arguments of ``membrain_add``."""

    content: str = Field(
        min_length=1,
        max_length=20_000,
        description="One atomic fact in the third person, e.g. 'User prefers window seats.'; "
        "not dialogue.",
    )
    scope: list[str] | None = Field(default=None, description=_SCOPE_TOKENS_HELP)
    category: str | None = Field(default=None, max_length=256, description="Optional category.")


class GetArgs(_Args):
    """Arguments of ``membrain_get``."""

    memory_ids: list[str] = Field(
        min_length=1, max_length=50, description="Ids of the memories to read in full."
    )


class UpdateArgs(_Args):
    """Arguments of ``membrain_update``."""

    memory_id: str = Field(min_length=1, description="Id of the memory to correct.")
    content: str | None = Field(
        default=None, min_length=1, max_length=20_000, description="The corrected fact."
    )
    scope: list[str] | None = Field(
        default=None, description="Replacement scope tokens (the application's own are kept)."
    )

    @model_validator(mode="after")
    def _something(self) -> UpdateArgs:
        if self.content is None and self.scope is None:
            raise ValueError("give content, scope or both")
        return self


class DeleteArgs(_Args):
    """Arguments of ``membrain_delete``."""

    memory_id: str | None = Field(
        default=None, min_length=1, description="Id of the one memory to delete (preferred)."
    )
    scope: list[str] | None = Field(
        default=None,
        description="Without memory_id: delete every memory matching these regexes (AND). "
        + _SCOPE_FILTER_HELP,
    )
    category: str | None = Field(
        default=None, description="Without memory_id: delete only memories of this category."
    )

    @model_validator(mode="after")
    def _something(self) -> DeleteArgs:
        if self.memory_id is None and not self.scope and self.category is None:
            raise ValueError("give memory_id, or a scope/category filter for a bulk delete")
        return self


class UnlinkArgs(_Args):
    """Arguments of ``membrain_unlink``."""

    memory_id_1: str = Field(min_length=1, description="One end of the wrong link.")
    memory_id_2: str = Field(min_length=1, description="The other end of the wrong link.")


class StatsArgs(_Args):
    """Arguments of ``membrain_stats``."""

    scope: list[str] | None = Field(
        default=None,
        description="Count only memories matching these regexes. " + _SCOPE_FILTER_HELP,
    )
    category: str | None = Field(default=None, description="Count only this category.")


class GraphPathArgs(_Args):
    """Arguments of ``membrain_graph_path``."""

    from_id: str = Field(min_length=1, description="Id of the memory to start from.")
    to_id: str = Field(min_length=1, description="Id of the memory to reach.")


class GraphHubsArgs(_Args):
    """Arguments of ``membrain_graph_hubs``."""

    limit: int = Field(default=10, ge=1, le=100, description="How many hubs to list (1-100).")


class GraphNeighborhoodArgs(_Args):
    """Arguments of ``membrain_graph_neighborhood``."""

    memory_id: str = Field(min_length=1, description="Id of the memory at the centre.")
    hops: int = Field(default=1, ge=1, le=5, description="How many links away to look (1-5).")


class GraphTraverseArgs(_Args):
    """Arguments of ``membrain_graph_traverse``."""

    start_memory_id: str = Field(min_length=1, description="Id of the memory to start from.")
    query: str = Field(
        min_length=1,
        max_length=10_000,
        description="A full question; only links whose description is similar to it are followed.",
    )
    max_hops: int = Field(default=2, ge=1, le=5, description="Maximum hops from the start (1-5).")
    edge_similarity_threshold: float = Field(
        default=0.7, ge=0.0, le=1.0, description="Follow a link only above this similarity (0-1)."
    )
    scope: list[str] | None = Field(default=None, description=_SCOPE_FILTER_HELP)


@dataclass(frozen=True)
class MembrainSettings:
    """What the application fixes for the Membrain tools; no argument of a model changes it.

    Attributes:
        container: when set, every read and write is confined to ``container.<id>``.
        max_chars: the budget of the text returned to the model.
        wait_timeout: how long ``membrain_add`` waits for its ingest job (seconds).

    Example:
        >>> MembrainSettings(container="bob").tenancy.read_scope(None)
        ['^container\\\\.bob$']
    """

    container: str | None = None
    max_chars: int = DEFAULT_BUDGET
    wait_timeout: float = DEFAULT_WAIT
    tenancy: Tenancy = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # invalid container ids fail here, not at the first call
        object.__setattr__(self, "tenancy", Tenancy(self.container))


def _owned(s: MembrainSettings, memory_ids: list[str]) -> Generator[Call, Any, list[Memory]]:
    """Prove every id belongs to the container (one batch read); no call without one."""
    if s.container is None:
        return []
    found: list[Memory] = yield call(_S.get_many, _A.get_many, memory_ids)
    by_id = {m.id: m for m in found}
    for memory_id in memory_ids:
        memory = by_id.get(memory_id)
        s.tenancy.require(memory_id, memory.scope if memory else None)
    return [by_id[i] for i in memory_ids]


def _search(s: MembrainSettings, args: dict[str, Any]) -> ToolPlan:
    scope = s.tenancy.read_scope(args["scope"])
    if args["full_scope"] and not scope:
        raise InvalidRequestError("full_scope needs a non-empty scope list", field="scope")
    response: SearchResponse = yield call(
        _S.search,
        _A.search,
        args["query"],
        k=args["k"],
        scope=scope,
        response_format=args["response_format"],
        rerank=args["rerank"],
        full_scope=args["full_scope"],
    )
    visible = visible_search(s.tenancy, response)
    return fmt.render_search(visible, budget=s.max_chars), visible


SEARCH: ToolSpec[MembrainSettings] = ToolSpec(
    "membrain_search",
    "Semantic search over the user's memory graph. Always call this before answering "
    "personal or project-specific questions, before any personalized recommendation, and "
    "before adding a fact (to avoid duplicates). Input: `query` as a full natural-language "
    "question (not keywords), optional `k`, optional `scope` (list of regexes, AND over "
    "scope tokens), optional `response_format` raw | interpreted | both, optional `rerank` "
    "(memory nodes only), optional `full_scope` (list all memories matching `scope`). "
    "Returns memory ids, content and scores, their related_memories (use them to refine "
    "advice) and relationship edges (their text may answer relationship questions).",
    SearchArgs,
    _search,
)


def _add(s: MembrainSettings, args: dict[str, Any]) -> ToolPlan:
    tokens = s.tenancy.write_tokens(args["scope"])
    try:
        result: IngestResult = yield call(
            _S.add,
            _A.add,
            args["content"],
            scope=tokens or None,
            category=args["category"],
            wait=True,
            wait_timeout=s.wait_timeout,
        )
    except IngestTimeoutError as exc:
        pending = IngestAccepted(job_id=exc.job_id, job_status=_job_status(exc.last_status))
        return fmt.render_ingest_pending(pending), pending
    visible = result.memory is not None and s.tenancy.owns(result.memory.scope)
    if result.memory is not None and not visible:
        result = result.model_copy(update={"memory": None})
    return fmt.render_ingest(result), result


def _job_status(status: str | None) -> Literal["queued", "processing"]:
    return "queued" if status == "queued" else "processing"


ADD: ToolSpec[MembrainSettings] = ToolSpec(
    "membrain_add",
    "Store a new atomic fact the user shared (stable information, not greetings or "
    "chit-chat). Input: `content` (required) as a third-person statement such as 'User "
    "prefers window seats.', optional `scope` (list of literal tokens such as "
    "'type.preference'), optional `category`. Waits until ingest completes and returns the "
    "memory id and whether it was created or merged into an existing memory (updated). "
    "Search first if unsure whether the fact already exists.",
    AddArgs,
    _add,
)


def _get(s: MembrainSettings, args: dict[str, Any]) -> ToolPlan:
    ids: list[str] = list(dict.fromkeys(args["memory_ids"]))
    found: list[Memory] = yield call(_S.get_many, _A.get_many, ids)
    mine = [m for m in found if s.tenancy.owns(m.scope) and m.id in ids]
    missing = [i for i in ids if i not in {m.id for m in mine}]
    if not mine:
        raise_not_found(missing)
    return fmt.render_memories(mine, missing, budget=s.max_chars), mine


def raise_not_found(ids: list[str]) -> None:
    """The error for ids that do not exist or belong to another container (indistinguishable)."""
    if len(ids) == 1:
        raise NotFoundError(f"memory {ids[0]!r} was not found", status_code=404)
    listed = ", ".join(repr(i) for i in ids)
    raise NotFoundError(f"memories {listed} were not found", status_code=404)


GET: ToolSpec[MembrainSettings] = ToolSpec(
    "membrain_get",
    "Read one or more memories in full by id (content, scope tokens, category, links to "
    "other memories and evolution history). Use ids from a recent membrain_search when "
    "you need detail or history. Input: `memory_ids` (list of ids).",
    GetArgs,
    _get,
)


def _update(s: MembrainSettings, args: dict[str, Any]) -> ToolPlan:
    memory_id: str = args["memory_id"]
    tokens = None if args["scope"] is None else s.tenancy.write_tokens(args["scope"])
    yield from _owned(s, [memory_id])
    updated: Memory = yield call(
        _S.update, _A.update, memory_id, content=args["content"], scope=tokens
    )
    return fmt.render_update(updated), updated


UPDATE: ToolSpec[MembrainSettings] = ToolSpec(
    "membrain_update",
    "Correct a specific stored memory when you hold its id (from a recent membrain_search) "
    "and the user asked to fix or change that fact. Input: `memory_id`, and the corrected "
    "`content` and/or replacement `scope` tokens. For a new facet, use membrain_add instead.",
    UpdateArgs,
    _update,
)


def _delete(s: MembrainSettings, args: dict[str, Any]) -> ToolPlan:
    memory_id: str | None = args["memory_id"]
    if memory_id is not None:
        yield from _owned(s, [memory_id])
        single: DeleteResult = yield call(_S.delete, _A.delete, memory_id)
        return fmt.render_delete(single, memory_id), single
    bulk: BulkDeleteResult = yield call(
        _S.delete_bulk,
        _A.delete_bulk,
        scope=s.tenancy.read_scope(args["scope"]),
        category=args["category"],
    )
    return fmt.render_bulk_delete(bulk, budget=s.max_chars), bulk


DELETE: ToolSpec[MembrainSettings] = ToolSpec(
    "membrain_delete",
    "Delete memories when the user withdraws consent or a stored fact is wrong. Prefer "
    "deleting one memory by `memory_id` (from a recent membrain_search). Without an id, "
    "`scope` (regexes, AND) and/or `category` delete every matching memory: use that only "
    "when the user clearly asked to forget a whole group.",
    DeleteArgs,
    _delete,
)


def _unlink(s: MembrainSettings, args: dict[str, Any]) -> ToolPlan:
    first, second = args["memory_id_1"], args["memory_id_2"]
    yield from _owned(s, [first, second])
    result: UnlinkResult = yield call(_S.unlink, _A.unlink, first, second)
    return fmt.render_unlink(result, first, second), result


UNLINK: ToolSpec[MembrainSettings] = ToolSpec(
    "membrain_unlink",
    "Remove the link between two memories when that graph connection is wrong (rare). "
    "Input: `memory_id_1` and `memory_id_2`. The memories themselves stay.",
    UnlinkArgs,
    _unlink,
)


def _stats(s: MembrainSettings, args: dict[str, Any]) -> ToolPlan:
    # with a container, a count of what the tool may see: global statistics would reveal
    # other containers' tokens
    scope = s.tenancy.read_scope(args["scope"])
    if scope is None and args["category"] is None:
        stats: Stats = yield call(_S.stats, _A.stats)
        return fmt.render_stats(stats), stats
    count: int = yield call(_S.count, _A.count, scope=scope, category=args["category"])
    result = CountResult(count=count)
    return fmt.render_count(count, bool(args["scope"] or args["category"])), result


STATS: ToolSpec[MembrainSettings] = ToolSpec(
    "membrain_stats",
    "Count the stored memories (optionally only those matching `scope` regexes and/or a "
    "`category`), to notice an empty or overloaded memory. Use occasionally, not per turn.",
    StatsArgs,
    _stats,
)


def _graph_path(s: MembrainSettings, args: dict[str, Any]) -> ToolPlan:
    yield from _owned(s, [args["from_id"], args["to_id"]])
    path: GraphPath = yield call(_S.graph_path, _A.graph_path, args["from_id"], args["to_id"])
    if s.container is not None and path.found:
        nodes = visible_nodes(s.tenancy, path.nodes)
        if {n.id for n in nodes} != set(path.path):
            # the chain leaves the container: it does not exist for this tool
            path = path.model_copy(update={"found": False, "path": [], "hops": None, "nodes": []})
    return fmt.render_path(path, budget=s.max_chars), path


GRAPH_PATH: ToolSpec[MembrainSettings] = ToolSpec(
    "membrain_graph_path",
    "Find the shortest chain of links between two memories, to explain how two facts "
    "relate. Input: `from_id` and `to_id` (memory ids).",
    GraphPathArgs,
    _graph_path,
)


def _graph_hubs(s: MembrainSettings, args: dict[str, Any]) -> ToolPlan:
    limit: int = args["limit"]
    # hubs are global: with a container, ask for the maximum and keep ours
    asked = limit if s.container is None else 100
    hubs: GraphHubs = yield call(_S.graph_hubs, _A.graph_hubs, asked)
    kept = visible_nodes(s.tenancy, hubs.hubs)[:limit]
    hubs = hubs.model_copy(update={"hubs": kept})
    return fmt.render_hubs(hubs, budget=s.max_chars), hubs


GRAPH_HUBS: ToolSpec[MembrainSettings] = ToolSpec(
    "membrain_graph_hubs",
    "List the memories with the most links (central topics of what is remembered). "
    "Input: optional `limit` (1-100).",
    GraphHubsArgs,
    _graph_hubs,
)


def _graph_neighborhood(s: MembrainSettings, args: dict[str, Any]) -> ToolPlan:
    yield from _owned(s, [args["memory_id"]])
    hood: Neighborhood = yield call(
        _S.graph_neighborhood, _A.graph_neighborhood, args["memory_id"], hops=args["hops"]
    )
    if s.container is not None:
        nodes = visible_nodes(s.tenancy, hood.nodes)
        ids = {n.id for n in nodes} | {hood.memory_id}
        hood = hood.model_copy(update={"nodes": nodes, "edges": visible_edges(hood.edges, ids)})
    return fmt.render_neighborhood(hood, budget=s.max_chars), hood


GRAPH_NEIGHBORHOOD: ToolSpec[MembrainSettings] = ToolSpec(
    "membrain_graph_neighborhood",
    "List the memories within `hops` links (1-5) of a memory, with the links' descriptions, "
    "to see the context around a fact. Input: `memory_id`, optional `hops`.",
    GraphNeighborhoodArgs,
    _graph_neighborhood,
)


def _graph_traverse(s: MembrainSettings, args: dict[str, Any]) -> ToolPlan:
    # a foreign start is "not found", as a missing one: no existence oracle across containers
    yield from _owned(s, [args["start_memory_id"]])
    result: TraverseResult = yield call(
        _S.graph_traverse,
        _A.graph_traverse,
        args["start_memory_id"],
        args["query"],
        max_hops=args["max_hops"],
        edge_similarity_threshold=args["edge_similarity_threshold"],
        scope=s.tenancy.read_scope(args["scope"]),
    )
    if s.container is not None:
        visited = visible_nodes(s.tenancy, result.visited)
        ids = {m.id for m in visited}
        edges = visible_edges(result.edges, ids)
        result = result.model_copy(
            update={
                "visited": visited,
                "edges": edges,
                "visited_count": len(visited),
                "edge_count": len(edges),
            }
        )
    return fmt.render_traverse(result, budget=s.max_chars), result


GRAPH_TRAVERSE: ToolSpec[MembrainSettings] = ToolSpec(
    "membrain_graph_traverse",
    "Starting from one memory, follow only the links whose description is relevant to a "
    "question, to gather connected evidence. Input: `start_memory_id`, `query` (a full "
    "question), optional `max_hops` (1-5), `edge_similarity_threshold` (0-1, lower follows "
    "more links) and `scope` regexes.",
    GraphTraverseArgs,
    _graph_traverse,
)

MembrainSpec = ToolSpec[MembrainSettings]
MEMBRAIN_READ_SPECS: tuple[MembrainSpec, ...] = (SEARCH, GET, STATS)
MEMBRAIN_WRITE_SPECS: tuple[MembrainSpec, ...] = (ADD, UPDATE, DELETE, UNLINK)
MEMBRAIN_GRAPH_SPECS: tuple[MembrainSpec, ...] = (
    GRAPH_PATH,
    GRAPH_HUBS,
    GRAPH_NEIGHBORHOOD,
    GRAPH_TRAVERSE,
)


def membrain_specs(*, write: bool = True, graph: bool = False) -> list[MembrainSpec]:
    """The tools an agent gets, read tools first (the order of ``MembrainToolkit.get_tools``).

    >>> [spec.name for spec in membrain_specs(write=False)]
    ['membrain_search', 'membrain_get', 'membrain_stats']
    """
    specs = list(MEMBRAIN_READ_SPECS)
    if write:
        specs.extend(MEMBRAIN_WRITE_SPECS)
    if graph:
        specs.extend(MEMBRAIN_GRAPH_SPECS)
    return specs
