"""Every memory of a container under one scope pattern: Membrain has no "list by scope".

:func:`listed` / :func:`alisted` count the memories matching the container filter and the
pattern, fetch them with one scoped search of up to 100 (``k``'s maximum), and fall back to the
graph export (every node, kept only when :class:`~membrane_integrations.membrain.tenancy.Tenancy`
owns it and the pattern matches) when there are more than 100 or the search returned fewer
than counted. The store and the chat history list this way.

Example:
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> from membrane_integrations.membrain.tenancy import Tenancy
    >>> with MembrainEmulator() as emu, emu.client() as client:
    ...     t = Tenancy("bob")
    ...     _ = client.add("Bob likes tea", scope=t.write_tokens(["topic.drinks"]))
    ...     print([m.content for m in listed(client, t, "^topic\\\\.drinks$")])
    ['Bob likes tea']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.scope import token_matches
from ..membrain.models import GraphExport, MemoryNode, SearchResponse
from ..membrain.tenancy import Tenancy, visible_nodes, visible_search

__all__ = ["Listed", "alisted", "listed", "scoped_hits"]

MAX_K = 100
_LIST_QUERY = "item"  # any text: with a scope of at most MAX_K memories the order is irrelevant


@dataclass(frozen=True)
class Listed:
    """One listed memory: its id, content, (for search hits) its semantic score, its scope."""

    id: str
    content: str
    score: float | None = None
    scope: tuple[str, ...] = ()


def scoped_hits(tenancy: Tenancy, response: SearchResponse, pattern: str) -> list[Listed]:
    """The search hits the container owns and the pattern matches, in ranked order."""
    return [
        Listed(hit.id, hit.content, hit.semantic_score, tuple(hit.scope or ()))
        for hit in visible_search(tenancy, response).results
        if isinstance(hit, MemoryNode) and token_matches([pattern], hit.scope)
    ]


def _exported(tenancy: Tenancy, graph: GraphExport, pattern: str) -> list[Listed]:
    return [
        Listed(node.id, node.content, scope=tuple(node.scope or ()))
        for node in visible_nodes(tenancy, graph.nodes)
        if token_matches([pattern], node.scope)
    ]


def _scope(tenancy: Tenancy, pattern: str) -> list[str]:
    scope = tenancy.read_scope([pattern])
    assert scope is not None
    return scope


def listed(client: Any, tenancy: Tenancy, pattern: str) -> list[Listed]:
    """Every memory of the container matching ``pattern`` (sync client)."""
    scope = _scope(tenancy, pattern)
    count = client.count(scope=scope)
    if count == 0:
        return []
    if count <= MAX_K:
        rows = scoped_hits(tenancy, client.search(_LIST_QUERY, k=MAX_K, scope=scope), pattern)
        if len(rows) >= count:
            return rows
    return _exported(tenancy, client.graph_export(), pattern)


async def alisted(client: Any, tenancy: Tenancy, pattern: str) -> list[Listed]:
    """Every memory of the container matching ``pattern`` (async client)."""
    scope = _scope(tenancy, pattern)
    count = await client.count(scope=scope)
    if count == 0:
        return []
    if count <= MAX_K:
        response = await client.search(_LIST_QUERY, k=MAX_K, scope=scope)
        rows = scoped_hits(tenancy, response, pattern)
        if len(rows) >= count:
            return rows
    return _exported(tenancy, await client.graph_export(), pattern)
