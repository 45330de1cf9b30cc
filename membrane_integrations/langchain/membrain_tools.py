"""LangChain tools over the Membrain client: search, add, get, update, delete, unlink, stats, graph.

Each tool wraps one framework-neutral definition (:mod:`membrane_integrations.tools.membrain`:
name, description, argument model, the client calls and the text; the MCP server serves the same
ones): it validates its arguments with that pydantic ``args_schema``, runs the plan, and returns a
compact text for the model together with the full typed result as the artifact
(``response_format="content_and_artifact"``). ``_run`` uses the sync client and ``_arun`` the
async one (either is derived from the other when only one is given, see :mod:`._clients`).
Build them with :class:`~membrane_integrations.langchain.MembrainToolkit`, which wires the
container in.

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

from typing import Any, ClassVar

from pydantic import BaseModel, Field, model_validator

from ..membrain.tenancy import Tenancy
from ..tools import membrain as defs
from ..tools._budget import DEFAULT_BUDGET
from ..tools.membrain import (
    AddArgs,
    DeleteArgs,
    GetArgs,
    GraphHubsArgs,
    GraphNeighborhoodArgs,
    GraphPathArgs,
    GraphTraverseArgs,
    MembrainSettings,
    SearchArgs,
    StatsArgs,
    UnlinkArgs,
    UpdateArgs,
)
from ._base import MemoryTool

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

    @property
    def settings(self) -> Any:
        """What the application fixed, as the tool definition takes it."""
        return MembrainSettings(container=self.container, max_chars=self.max_chars)


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

    spec: ClassVar[defs.MembrainSpec] = defs.SEARCH
    name: str = defs.SEARCH.name
    description: str = defs.SEARCH.description
    args_schema: type[BaseModel] = SearchArgs


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

    spec: ClassVar[defs.MembrainSpec] = defs.ADD
    name: str = defs.ADD.name
    description: str = defs.ADD.description
    args_schema: type[BaseModel] = AddArgs
    wait_timeout: float = Field(default=defs.DEFAULT_WAIT, gt=0)

    @property
    def settings(self) -> Any:
        """What the application fixed, with this tool's ingest wait."""
        return MembrainSettings(
            container=self.container, max_chars=self.max_chars, wait_timeout=self.wait_timeout
        )


class MembrainGetTool(MembrainTool):
    """Read memories in full by id: content, scope, links, evolution history (``membrain_get``)."""

    spec: ClassVar[defs.MembrainSpec] = defs.GET
    name: str = defs.GET.name
    description: str = defs.GET.description
    args_schema: type[BaseModel] = GetArgs


class MembrainUpdateTool(MembrainTool):
    """Correct a stored memory by id (``membrain_update``)."""

    spec: ClassVar[defs.MembrainSpec] = defs.UPDATE
    name: str = defs.UPDATE.name
    description: str = defs.UPDATE.description
    args_schema: type[BaseModel] = UpdateArgs


class MembrainDeleteTool(MembrainTool):
    """Delete one memory by id, or every memory matching a filter (``membrain_delete``)."""

    spec: ClassVar[defs.MembrainSpec] = defs.DELETE
    name: str = defs.DELETE.name
    description: str = defs.DELETE.description
    args_schema: type[BaseModel] = DeleteArgs


class MembrainUnlinkTool(MembrainTool):
    """Remove a wrong link between two memories (``membrain_unlink``)."""

    spec: ClassVar[defs.MembrainSpec] = defs.UNLINK
    name: str = defs.UNLINK.name
    description: str = defs.UNLINK.description
    args_schema: type[BaseModel] = UnlinkArgs


class MembrainStatsTool(MembrainTool):
    """How much is stored (``membrain_stats``).

    Without a container or filter this is ``GET /stats`` (totals, links, top scope tokens).
    With a container, or a ``scope``/``category`` filter, it is a count of the memories the
    tool may see: global statistics would reveal other containers' tokens.
    """

    spec: ClassVar[defs.MembrainSpec] = defs.STATS
    name: str = defs.STATS.name
    description: str = defs.STATS.description
    args_schema: type[BaseModel] = StatsArgs


class MembrainGraphPathTool(MembrainTool):
    """Shortest chain of links between two memories (``membrain_graph_path``)."""

    spec: ClassVar[defs.MembrainSpec] = defs.GRAPH_PATH
    name: str = defs.GRAPH_PATH.name
    description: str = defs.GRAPH_PATH.description
    args_schema: type[BaseModel] = GraphPathArgs


class MembrainGraphHubsTool(MembrainTool):
    """The best-connected memories (``membrain_graph_hubs``)."""

    spec: ClassVar[defs.MembrainSpec] = defs.GRAPH_HUBS
    name: str = defs.GRAPH_HUBS.name
    description: str = defs.GRAPH_HUBS.description
    args_schema: type[BaseModel] = GraphHubsArgs


class MembrainGraphNeighborhoodTool(MembrainTool):
    """Memories within a few links of one memory (``membrain_graph_neighborhood``)."""

    spec: ClassVar[defs.MembrainSpec] = defs.GRAPH_NEIGHBORHOOD
    name: str = defs.GRAPH_NEIGHBORHOOD.name
    description: str = defs.GRAPH_NEIGHBORHOOD.description
    args_schema: type[BaseModel] = GraphNeighborhoodArgs


class MembrainGraphTraverseTool(MembrainTool):
    """Query-guided expansion along relevant links (``membrain_graph_traverse``)."""

    spec: ClassVar[defs.MembrainSpec] = defs.GRAPH_TRAVERSE
    name: str = defs.GRAPH_TRAVERSE.name
    description: str = defs.GRAPH_TRAVERSE.description
    args_schema: type[BaseModel] = GraphTraverseArgs


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
