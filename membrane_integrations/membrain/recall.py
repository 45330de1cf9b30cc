"""Recall ``k`` memories from Membrain: the one search every Membrain surface reads through.

A raw Membrain search's ``k`` counts memory nodes *and* relationship edges (guide section 4.2),
and edge descriptions often outscore the memories, so "search with ``k`` and keep the nodes"
hands a model far fewer than ``k`` memories (on LoCoMo even a raw pool of 100 hits held 5.5
memories on average). Here a surface asks the server for a reranked pool of memory nodes
(``rerank=True``: edges folded onto their ends, :func:`pool_size` nodes), confines it to the
container (:func:`~.tenancy.visible_search`, the tenancy rule, unchanged), re-orders it with
the package's hybrid ranking (:func:`~membrane_integrations.core.ranking.hybrid_order`: BM25
over the pool's texts fused with the server's scores as the semantic side) and keeps the best
``k``. Edges of the reply (none from a reranked search; some from a raw one, which the
retriever sends when asked for edges) come after the chosen memories, only those touching one
of them: they add context and never take a memory's place.

Why this pool, measured on LoCoMo's development conversations (benchmarks/recall_quality.py,
k=10): the server's reranked order alone recalled 0.44 of the evidence; the same pool re-ranked
here 0.51 at 40 nodes and 0.57 at 100; a raw pool of 100 hits (5.5 memories) 0.47.

The retriever, the AutoGen memory, the agent middleware and the Agent Framework provider all
call :func:`search_args` and :func:`choose` (or :func:`recall` / :func:`arecall`, which send
the search between the two), sync and async alike.

Example:
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> with MembrainEmulator() as emu, emu.client() as client:
    ...     tokens = Tenancy("doc-recall").write_tokens(None)
    ...     for fact in ("Alice drinks green tea", "Alice deploys on Fridays",
    ...                  "Bob plays the piano"):
    ...         _ = client.add(fact, scope=tokens)
    ...     found = recall(client, Tenancy("doc-recall"), "what does Alice drink?", k=2)
    ...     [node.content for node in found.nodes]
    ['Alice drinks green tea', 'Alice deploys on Fridays']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.ranking import hybrid_order
from .tenancy import Tenancy, visible_search

if TYPE_CHECKING:
    from .client import AsyncMembrainClient, MembrainClient
    from .models import MemoryNode, RelationshipEdge, SearchResponse

__all__ = ["POOL_FACTOR", "POOL_FLOOR", "arecall", "choose", "pool_size", "recall", "search_args"]

#: The pool asked of the server: ``POOL_FACTOR`` x k hits, at least ``POOL_FLOOR``, at most the
#: guide's cap of 100 (nodes and edges together).
POOL_FACTOR = 10
POOL_FLOOR = 40
_MAX_SEARCH_K = 100


def pool_size(k: int) -> int:
    """How many hits (nodes and edges) to ask for to choose ``k`` memories.

    >>> pool_size(1), pool_size(5), pool_size(10), pool_size(30)
    (40, 50, 100, 100)
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    return min(_MAX_SEARCH_K, max(k * POOL_FACTOR, POOL_FLOOR, k))


def search_args(
    tenancy: Tenancy,
    k: int,
    *,
    scope: Sequence[str] | None = None,
    rerank: bool = True,
    response_format: str = "raw",
) -> dict[str, Any]:
    """The keyword arguments of the pool search: anchored container filter first, then ``scope``.

    ``rerank=False`` asks for the raw graph ranking instead (nodes and edges sharing the pool),
    for a caller that wants the edges themselves.

    >>> args = search_args(Tenancy("bob"), 5, scope=["type\\\\.note"])
    >>> args["k"], args["scope"][0], args["rerank"]
    (50, '^container\\\\.bob$', True)
    """
    return {
        "k": pool_size(k),
        "scope": tenancy.read_scope(scope),
        "response_format": response_format,
        "rerank": rerank,
    }


def choose(
    tenancy: Tenancy,
    query: str,
    response: SearchResponse,
    k: int,
    *,
    min_score: float = 0.0,
) -> SearchResponse:
    """The pool reply cut to the container's best ``k`` memory nodes, then their edges.

    Nodes without the container's token are dropped first (:func:`visible_search`), then those
    under ``min_score`` (the server's score). The rest are ordered by :func:`hybrid_order` with
    the server's scores as the semantic side (ties in server order), and the first ``k`` kept.
    The edges of the reply that touch a kept node follow them, in server order.
    """
    visible = visible_search(tenancy, response)
    nodes = [node for node in visible.nodes if node.semantic_score >= min_score]
    order = hybrid_order(
        query, [node.content for node in nodes], semantic=[n.semantic_score for n in nodes]
    )
    kept = [nodes[i] for i in order[:k]]
    ids = {node.id for node in kept}
    edges = [e for e in visible.edges if e.source.id in ids or e.target.id in ids]
    results: list[MemoryNode | RelationshipEdge] = [*kept, *edges]
    return visible.model_copy(update={"results": results})


def recall(
    client: MembrainClient,
    tenancy: Tenancy,
    query: str,
    k: int,
    *,
    scope: Sequence[str] | None = None,
    min_score: float = 0.0,
) -> SearchResponse:
    """Send the pool search with ``client`` and :func:`choose` ``k`` memories from it."""
    response = client.search(query, **search_args(tenancy, k, scope=scope))
    return choose(tenancy, query, response, k, min_score=min_score)


async def arecall(
    client: AsyncMembrainClient,
    tenancy: Tenancy,
    query: str,
    k: int,
    *,
    scope: Sequence[str] | None = None,
    min_score: float = 0.0,
) -> SearchResponse:
    """Like :func:`recall`, with the async client."""
    args = search_args(tenancy, k, scope=scope)
    response = await client.search(query, **args)
    return choose(tenancy, query, response, k, min_score=min_score)
