"""LangChain tools over the Membrain client: search, add, get, update, delete, unlink, stats, graph.

Each tool validates its arguments with a pydantic ``args_schema``, calls one client method
(plus, when a container is set, one read that proves the memory belongs to it), and returns a
compact text for the model together with the full typed result as the artifact
(``response_format="content_and_artifact"``). ``_run`` uses the sync client and ``_arun`` the
async one (either is derived from the other when only one is given, see :mod:`._clients`); the
logic is one generator per tool (see :mod:`._driver`). Build them with
:class:`~membrane_integrations.langchain.MembrainToolkit`, which wires the container in.

Example:
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> with MembrainEmulator() as emu, emu.client() as client:
    ...     add = MembrainAddTool(client=client, container="doc-bob")
    ...     search = MembrainSearchTool(client=client, container="doc-bob")
    ...     print(add.invoke({"content": "User likes green tea"}).split(" ")[0])
    ...     hits = search.invoke({"query": "What does the user like to drink?", "k": 1})
    ...     print("User likes green tea" in hits)
    Stored
    True
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.errors import IngestTimeoutError, InvalidRequestError, NotFoundError
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
from ._base import MemoryTool
from ._budget import DEFAULT_BUDGET
from ._driver import Call, ToolPlan, call

__all__ = [
    "MEMBRAIN_GRAPH_TOOLS",
    "MEMBRAIN_READ_TOOLS",
    "MEMBRAIN_WRITE_TOOLS",
    "AddArgs",
    "DeleteArgs",
    "GetArgs",
    "GraphHubsArgs",
    "GraphNeighborhoodArgs",
    "GraphPathArgs",
    "GraphTraverseArgs",
    "MembrainAddTool",
    "MembrainDeleteTool",
    "MembrainGetTool",
    "MembrainGraphHubsTool",
    "MembrainGraphNeighborhoodTool",
    "MembrainGraphPathTool",
    "MembrainGraphTraverseTool",
    "MembrainSearchTool",
    "MembrainStatsTool",
    "MembrainTool",
    "MembrainUnlinkTool",
    "MembrainUpdateTool",
    "SearchArgs",
    "StatsArgs",
    "UnlinkArgs",
    "UpdateArgs",
]

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


class MembrainTool(MemoryTool):
    """Base of the Membrain tools: the clients, the container and the text budget.

    Attributes:
        client: a ``MembrainClient`` (an ``AsyncMembrainClient`` given here moves to
            ``async_client``).
        async_client: an ``AsyncMembrainClient`` used by ``ainvoke``. Either one is enough:
            the other is derived from it on first use (``to_async()`` / ``to_sync()``) and
            closed by :meth:`close` or when the tool is garbage-collected.
        container: when set, every read and write is confined to ``container.<id>``.
        max_chars: the budget of the text returned to the model.
    """

    _client_names = "client= (MembrainClient) and/or async_client="

    container: str | None = None
    max_chars: int = Field(default=DEFAULT_BUDGET, ge=200)

    @model_validator(mode="after")
    def _check_container(self) -> MembrainTool:
        Tenancy(self.container)  # invalid container ids fail here, not at the first call
        return self

    @property
    def tenancy(self) -> Tenancy:
        """The container rules this tool applies."""
        return Tenancy(self.container)

    def _owned(self, memory_ids: list[str]) -> Generator[Call, Any, list[Memory]]:
        """Prove every id belongs to the container (one batch read); no call without one."""
        if self.container is None:
            return []
        found: list[Memory] = yield call(_S.get_many, _A.get_many, memory_ids)
        by_id = {m.id: m for m in found}
        for memory_id in memory_ids:
            memory = by_id.get(memory_id)
            self.tenancy.require(memory_id, memory.scope if memory else None)
        return [by_id[i] for i in memory_ids]


class MembrainSearchTool(MembrainTool):
    """Semantic search over the user's memory graph (``membrain_search``).

    Setup:
        ``pip install membrane-integrations[langchain]`` and a Membrain URL and key (or the
        bundled emulator).

    Instantiate and invoke:
        >>> from membrane_integrations.emulator import MembrainEmulator
        >>> with MembrainEmulator() as emu, emu.client() as client:
        ...     _ = client.add("User is allergic to peanuts", scope=["container.doc-ann"])
        ...     tool = MembrainSearchTool(client=client, container="doc-ann")
        ...     msg = tool.invoke({"type": "tool_call", "id": "1", "name": tool.name,
        ...                        "args": {"query": "What is the user allergic to?"}})
        ...     print("peanuts" in msg.content, type(msg.artifact).__name__)
        True SearchResponse
    """

    name: str = "membrain_search"
    description: str = (
        "Semantic search over the user's memory graph. Always call this before answering "
        "personal or project-specific questions, before any personalized recommendation, and "
        "before adding a fact (to avoid duplicates). Input: `query` as a full natural-language "
        "question (not keywords), optional `k`, optional `scope` (list of regexes, AND over "
        "scope tokens), optional `response_format` raw | interpreted | both, optional `rerank` "
        "(memory nodes only), optional `full_scope` (list all memories matching `scope`). "
        "Returns memory ids, content and scores, their related_memories (use them to refine "
        "advice) and relationship edges (their text may answer relationship questions)."
    )
    args_schema: type[BaseModel] = SearchArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        scope = self.tenancy.read_scope(args["scope"])
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
        visible = visible_search(self.tenancy, response)
        return fmt.render_search(visible, budget=self.max_chars), visible


class MembrainAddTool(MembrainTool):
    """Store one atomic fact and wait for it to be ingested (``membrain_add``).

    Waits up to ``wait_timeout`` seconds for the ingest job; past that it returns the job id
    (artifact: ``IngestAccepted``) and tells the model not to add the fact again.

    Example:
        >>> from membrane_integrations.emulator import MembrainEmulator
        >>> with MembrainEmulator() as emu, emu.client() as client:
        ...     tool = MembrainAddTool(client=client, container="doc-cy")
        ...     msg = tool.invoke({"type": "tool_call", "id": "1", "name": tool.name,
        ...                        "args": {"content": "User lives in Lisbon"}})
        ...     print(msg.artifact.action, msg.artifact.memory.scope[0])
        created container.doc-cy
    """

    name: str = "membrain_add"
    description: str = (
        "Store a new atomic fact the user shared (stable information, not greetings or "
        "chit-chat). Input: `content` (required) as a third-person statement such as 'User "
        "prefers window seats.', optional `scope` (list of literal tokens such as "
        "'type.preference'), optional `category`. Waits until ingest completes and returns the "
        "memory id and whether it was created or merged into an existing memory (updated). "
        "Search first if unsure whether the fact already exists."
    )
    args_schema: type[BaseModel] = AddArgs
    wait_timeout: float = Field(default=60.0, gt=0)

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        tokens = self.tenancy.write_tokens(args["scope"])
        try:
            result: IngestResult = yield call(
                _S.add,
                _A.add,
                args["content"],
                scope=tokens or None,
                category=args["category"],
                wait=True,
                wait_timeout=self.wait_timeout,
            )
        except IngestTimeoutError as exc:
            pending = IngestAccepted(job_id=exc.job_id, job_status=_job_status(exc.last_status))
            return fmt.render_ingest_pending(pending), pending
        visible = result.memory is not None and self.tenancy.owns(result.memory.scope)
        if result.memory is not None and not visible:
            result = result.model_copy(update={"memory": None})
        return fmt.render_ingest(result), result


def _job_status(status: str | None) -> Literal["queued", "processing"]:
    return "queued" if status == "queued" else "processing"


class MembrainGetTool(MembrainTool):
    """Read memories in full by id: content, scope, links, evolution history (``membrain_get``)."""

    name: str = "membrain_get"
    description: str = (
        "Read one or more memories in full by id (content, scope tokens, category, links to "
        "other memories and evolution history). Use ids from a recent membrain_search when "
        "you need detail or history. Input: `memory_ids` (list of ids)."
    )
    args_schema: type[BaseModel] = GetArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        ids: list[str] = list(dict.fromkeys(args["memory_ids"]))
        found: list[Memory] = yield call(_S.get_many, _A.get_many, ids)
        mine = [m for m in found if self.tenancy.owns(m.scope) and m.id in ids]
        missing = [i for i in ids if i not in {m.id for m in mine}]
        if not mine:
            raise_not_found(missing)
        return fmt.render_memories(mine, missing, budget=self.max_chars), mine


def raise_not_found(ids: list[str]) -> None:
    """The error for ids that do not exist or belong to another container (indistinguishable)."""
    if len(ids) == 1:
        raise NotFoundError(f"memory {ids[0]!r} was not found", status_code=404)
    listed = ", ".join(repr(i) for i in ids)
    raise NotFoundError(f"memories {listed} were not found", status_code=404)


class MembrainUpdateTool(MembrainTool):
    """Correct a stored memory by id (``membrain_update``)."""

    name: str = "membrain_update"
    description: str = (
        "Correct a specific stored memory when you hold its id (from a recent membrain_search) "
        "and the user asked to fix or change that fact. Input: `memory_id`, and the corrected "
        "`content` and/or replacement `scope` tokens. For a new facet, use membrain_add instead."
    )
    args_schema: type[BaseModel] = UpdateArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        memory_id: str = args["memory_id"]
        tokens = None if args["scope"] is None else self.tenancy.write_tokens(args["scope"])
        yield from self._owned([memory_id])
        updated: Memory = yield call(
            _S.update, _A.update, memory_id, content=args["content"], scope=tokens
        )
        return fmt.render_update(updated), updated


class MembrainDeleteTool(MembrainTool):
    """Delete one memory by id, or every memory matching a filter (``membrain_delete``)."""

    name: str = "membrain_delete"
    description: str = (
        "Delete memories when the user withdraws consent or a stored fact is wrong. Prefer "
        "deleting one memory by `memory_id` (from a recent membrain_search). Without an id, "
        "`scope` (regexes, AND) and/or `category` delete every matching memory: use that only "
        "when the user clearly asked to forget a whole group."
    )
    args_schema: type[BaseModel] = DeleteArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        memory_id: str | None = args["memory_id"]
        if memory_id is not None:
            yield from self._owned([memory_id])
            single: DeleteResult = yield call(_S.delete, _A.delete, memory_id)
            return fmt.render_delete(single, memory_id), single
        bulk: BulkDeleteResult = yield call(
            _S.delete_bulk,
            _A.delete_bulk,
            scope=self.tenancy.read_scope(args["scope"]),
            category=args["category"],
        )
        return fmt.render_bulk_delete(bulk, budget=self.max_chars), bulk


class MembrainUnlinkTool(MembrainTool):
    """Remove a wrong link between two memories (``membrain_unlink``)."""

    name: str = "membrain_unlink"
    description: str = (
        "Remove the link between two memories when that graph connection is wrong (rare). "
        "Input: `memory_id_1` and `memory_id_2`. The memories themselves stay."
    )
    args_schema: type[BaseModel] = UnlinkArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        first, second = args["memory_id_1"], args["memory_id_2"]
        yield from self._owned([first, second])
        result: UnlinkResult = yield call(_S.unlink, _A.unlink, first, second)
        return fmt.render_unlink(result, first, second), result


class MembrainStatsTool(MembrainTool):
    """How much is stored (``membrain_stats``).

    Without a container or filter this is ``GET /stats`` (totals, links, top scope tokens).
    With a container, or a ``scope``/``category`` filter, it is a count of the memories the
    tool may see: global statistics would reveal other containers' tokens.
    """

    name: str = "membrain_stats"
    description: str = (
        "Count the stored memories (optionally only those matching `scope` regexes and/or a "
        "`category`), to notice an empty or overloaded memory. Use occasionally, not per turn."
    )
    args_schema: type[BaseModel] = StatsArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        scope = self.tenancy.read_scope(args["scope"])
        if scope is None and args["category"] is None:
            stats: Stats = yield call(_S.stats, _A.stats)
            return fmt.render_stats(stats), stats
        count: int = yield call(_S.count, _A.count, scope=scope, category=args["category"])
        result = CountResult(count=count)
        return fmt.render_count(count, bool(args["scope"] or args["category"])), result


class MembrainGraphPathTool(MembrainTool):
    """Shortest chain of links between two memories (``membrain_graph_path``)."""

    name: str = "membrain_graph_path"
    description: str = (
        "Find the shortest chain of links between two memories, to explain how two facts "
        "relate. Input: `from_id` and `to_id` (memory ids)."
    )
    args_schema: type[BaseModel] = GraphPathArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        yield from self._owned([args["from_id"], args["to_id"]])
        path: GraphPath = yield call(_S.graph_path, _A.graph_path, args["from_id"], args["to_id"])
        if self.container is not None and path.found:
            nodes = visible_nodes(self.tenancy, path.nodes)
            if {n.id for n in nodes} != set(path.path):
                # the chain leaves the container: it does not exist for this tool
                path = path.model_copy(
                    update={"found": False, "path": [], "hops": None, "nodes": []}
                )
        return fmt.render_path(path, budget=self.max_chars), path


class MembrainGraphHubsTool(MembrainTool):
    """The best-connected memories (``membrain_graph_hubs``)."""

    name: str = "membrain_graph_hubs"
    description: str = (
        "List the memories with the most links (central topics of what is remembered). "
        "Input: optional `limit` (1-100)."
    )
    args_schema: type[BaseModel] = GraphHubsArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        limit: int = args["limit"]
        # hubs are global: with a container, ask for the maximum and keep ours
        asked = limit if self.container is None else 100
        hubs: GraphHubs = yield call(_S.graph_hubs, _A.graph_hubs, asked)
        kept = visible_nodes(self.tenancy, hubs.hubs)[:limit]
        hubs = hubs.model_copy(update={"hubs": kept})
        return fmt.render_hubs(hubs, budget=self.max_chars), hubs


class MembrainGraphNeighborhoodTool(MembrainTool):
    """Memories within a few links of one memory (``membrain_graph_neighborhood``)."""

    name: str = "membrain_graph_neighborhood"
    description: str = (
        "List the memories within `hops` links (1-5) of a memory, with the links' descriptions, "
        "to see the context around a fact. Input: `memory_id`, optional `hops`."
    )
    args_schema: type[BaseModel] = GraphNeighborhoodArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        yield from self._owned([args["memory_id"]])
        hood: Neighborhood = yield call(
            _S.graph_neighborhood, _A.graph_neighborhood, args["memory_id"], hops=args["hops"]
        )
        if self.container is not None:
            nodes = visible_nodes(self.tenancy, hood.nodes)
            ids = {n.id for n in nodes} | {hood.memory_id}
            hood = hood.model_copy(update={"nodes": nodes, "edges": visible_edges(hood.edges, ids)})
        return fmt.render_neighborhood(hood, budget=self.max_chars), hood


class MembrainGraphTraverseTool(MembrainTool):
    """Query-guided expansion along relevant links (``membrain_graph_traverse``)."""

    name: str = "membrain_graph_traverse"
    description: str = (
        "Starting from one memory, follow only the links whose description is relevant to a "
        "question, to gather connected evidence. Input: `start_memory_id`, `query` (a full "
        "question), optional `max_hops` (1-5), `edge_similarity_threshold` (0-1, lower follows "
        "more links) and `scope` regexes."
    )
    args_schema: type[BaseModel] = GraphTraverseArgs

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        # a foreign start is "not found", as a missing one: no existence oracle across containers
        yield from self._owned([args["start_memory_id"]])
        result: TraverseResult = yield call(
            _S.graph_traverse,
            _A.graph_traverse,
            args["start_memory_id"],
            args["query"],
            max_hops=args["max_hops"],
            edge_similarity_threshold=args["edge_similarity_threshold"],
            scope=self.tenancy.read_scope(args["scope"]),
        )
        if self.container is not None:
            visited = visible_nodes(self.tenancy, result.visited)
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
        return fmt.render_traverse(result, budget=self.max_chars), result


MEMBRAIN_READ_TOOLS: tuple[type[MembrainTool], ...] = (
    MembrainSearchTool,
    MembrainGetTool,
    MembrainStatsTool,
)
MEMBRAIN_WRITE_TOOLS: tuple[type[MembrainTool], ...] = (
    MembrainAddTool,
    MembrainUpdateTool,
    MembrainDeleteTool,
    MembrainUnlinkTool,
)
MEMBRAIN_GRAPH_TOOLS: tuple[type[MembrainTool], ...] = (
    MembrainGraphPathTool,
    MembrainGraphHubsTool,
    MembrainGraphNeighborhoodTool,
    MembrainGraphTraverseTool,
)
