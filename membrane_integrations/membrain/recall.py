"""Recall ``k`` memories from Membrain: the one search every Membrain surface reads through.

A raw Membrain search's ``k`` counts memory nodes *and* relationship edges (guide section 4.2),
and edge descriptions often outscore the memories, so "search with ``k`` and keep the nodes"
hands a model far fewer than ``k`` memories (on LoCoMo even a raw pool of 100 hits held 5.5
memories on average). Here a surface asks the server for a reranked pool of memory nodes
(``rerank=True``: edges folded onto their ends, :func:`pool_size` nodes). That pool is chosen
by meaning alone, so a memory that shares only a specific word with the query (a name, a
place, a date) can miss it: when the pool is full and the query has terms few of its memories
hold (:func:`follow_up_query`), a second search for those terms, same container filter, adds
the memories only it finds (:func:`merge`). Each reply is confined to the container
(:func:`~.tenancy.visible_search`, the tenancy rule, unchanged: the server under the filter
proposes every candidate), the union re-ordered with the package's hybrid ranking
(:func:`~membrane_integrations.core.ranking.hybrid_order`: BM25 over the pool's texts fused
with the server's scores as the semantic side, BM25 weighted :data:`LEXICAL_WEIGHT`) and the
best ``k`` kept. Edges of the reply (none from a reranked search; some from a raw one, which
the retriever sends when asked for edges) come after the chosen memories, only those touching
one of them: they add context and never take a memory's place.

Why this pool, measured on LoCoMo's development conversations (benchmarks/recall_quality.py,
k=10): the server's reranked order alone recalled 0.44 of the evidence; the pool re-ranked
here (BM25 and the server's scores, equal weights) 0.51 at 40 nodes and 0.57 at 100; a raw
pool of 100 hits (5.5 memories) 0.47. The follow-up search for the rare terms (held by under
a fifth of the pool) lifted that to 0.61, and to 0.62 with BM25 weighted 0.6 (0.6 alone,
without the follow-up: 0.57; a second search for all the query's terms instead: 0.58).
Held-out conversations, measured once after choosing: 0.61 (0.54 before). The price is a
second search whenever one is sent.

The retriever, the AutoGen memory, the agent middleware and the Agent Framework provider all
run :func:`recall_plan` (:func:`recall` / :func:`arecall` drive it with a sync or an async
client; the retriever yields from it), so sync and async share one logic.

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

from ..core.plan import Plan, call, drive_async, drive_sync
from ..core.ranking import hybrid_order, tokenize
from .client import AsyncMembrainClient, MembrainClient
from .tenancy import Tenancy, visible_search

if TYPE_CHECKING:
    from .models import MemoryNode, RelationshipEdge, SearchResponse

__all__ = [
    "LEXICAL_WEIGHT",
    "POOL_FACTOR",
    "POOL_FLOOR",
    "RARE_SHARE",
    "arecall",
    "choose",
    "follow_up_query",
    "merge",
    "pool_size",
    "recall",
    "recall_plan",
    "search_args",
]

#: The pool asked of the server: ``POOL_FACTOR`` x k hits, at least ``POOL_FLOOR``, at most the
#: guide's cap of 100 (nodes and edges together).
POOL_FACTOR = 10
POOL_FLOOR = 40
_MAX_SEARCH_K = 100

#: A query term held by fewer than this share of the pool's memories is searched for again.
RARE_SHARE = 0.2
#: The BM25 side's weight in the fused order of the pool (the server's scores get the rest).
LEXICAL_WEIGHT = 0.6


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
    the server's scores as the semantic side and BM25 weighted :data:`LEXICAL_WEIGHT` (ties in
    server order), and the first ``k`` kept.
    The edges of the reply that touch a kept node follow them, in server order.
    """
    visible = visible_search(tenancy, response)
    nodes = [node for node in visible.nodes if node.semantic_score >= min_score]
    order = hybrid_order(
        query,
        [node.content for node in nodes],
        semantic=[n.semantic_score for n in nodes],
        lexical_weight=LEXICAL_WEIGHT,
    )
    kept = [nodes[i] for i in order[:k]]
    ids = {node.id for node in kept}
    edges = [e for e in visible.edges if e.source.id in ids or e.target.id in ids]
    results: list[MemoryNode | RelationshipEdge] = [*kept, *edges]
    return visible.model_copy(update={"results": results})


def follow_up_query(query: str, pool: Sequence[MemoryNode]) -> str:
    """The query's rare terms in ``pool``: those held by under :data:`RARE_SHARE` of its memories.

    A semantic pool is chosen by the query's meaning as a whole, so a memory that shares only a
    specific word with it (a name, a place, a date) can miss the pool. Searching again with the
    query's terms the pool barely holds asks the server for the memories about exactly those
    words. Empty when there is none (every term is common in the pool, or the query has no
    terms): then no second search is needed.

    >>> from membrane_integrations.membrain.models import MemoryNode
    >>> pool = [MemoryNode(id=f"m{n}", content=text) for n, text in enumerate(
    ...     ["Alice drinks tea", "Alice likes tea", "Alice went to Paris", "Alice reads",
    ...      "Alice cooks", "Alice runs"])]
    >>> follow_up_query("Where did Alice travel for tea?", pool)
    'travel'
    """
    terms = dict.fromkeys(tokenize(query))
    if not terms:
        return ""
    held = [set(tokenize(node.content)) for node in pool]
    limit = RARE_SHARE * len(held)
    return " ".join(term for term in terms if sum(term in h for h in held) < limit)


def merge(first: SearchResponse, second: SearchResponse) -> SearchResponse:
    """``first``'s reply with the nodes and edges only ``second`` found appended (in its order).

    A memory in both keeps ``first``'s hit (its score for the caller's query).

    >>> from membrane_integrations.membrain.models import MemoryNode, SearchResponse
    >>> def reply(*hits):
    ...     nodes = [MemoryNode(id=i, content=i, semantic_score=s) for i, s in hits]
    ...     return SearchResponse(results=nodes)
    >>> both = merge(reply(("a", 0.9)), reply(("b", 0.7), ("a", 0.2)))
    >>> [(node.id, node.semantic_score) for node in both.nodes]
    [('a', 0.9), ('b', 0.7)]
    """
    ids = {node.id for node in first.nodes}
    pairs = {(e.source.id, e.target.id) for e in first.edges}
    results: list[MemoryNode | RelationshipEdge] = [
        *first.nodes,
        *(node for node in second.nodes if node.id not in ids),
        *first.edges,
        *(e for e in second.edges if (e.source.id, e.target.id) not in pairs),
    ]
    return first.model_copy(update={"results": results})


def recall_plan(
    tenancy: Tenancy,
    query: str,
    k: int,
    *,
    scope: Sequence[str] | None = None,
    min_score: float = 0.0,
    rerank: bool = True,
    response_format: str = "raw",
) -> Plan[SearchResponse]:
    """The recall as a plan (:mod:`~membrane_integrations.core.plan`), driven sync or async.

    The pool search for ``query``; then, when that pool is full (as many hits as asked) and the
    query has terms rare in it (:func:`follow_up_query`), a second pool search for them with
    the same container filter (raw: an interpreted block comes from the first search only),
    whose new memories join the pool (:func:`merge`); then :func:`choose`. A memory found only
    by the second search carries its score for the rare terms, which ``min_score`` and the
    ranking read as the semantic side.
    """
    args = search_args(tenancy, k, scope=scope, rerank=rerank, response_format=response_format)
    response: SearchResponse = yield call(
        MembrainClient.search, AsyncMembrainClient.search, query, **args
    )
    # Fewer hits than asked: the server already gave every match in the filter.
    full = len(response.results) >= args["k"]
    rare = follow_up_query(query, visible_search(tenancy, response).nodes) if full else ""
    if rare:
        extra: SearchResponse = yield call(
            MembrainClient.search,
            AsyncMembrainClient.search,
            rare,
            **{**args, "response_format": "raw"},
        )
        response = merge(response, extra)
    return choose(tenancy, query, response, k, min_score=min_score)


def recall(
    client: MembrainClient,
    tenancy: Tenancy,
    query: str,
    k: int,
    *,
    scope: Sequence[str] | None = None,
    min_score: float = 0.0,
) -> SearchResponse:
    """Run :func:`recall_plan` with ``client``: ``k`` memories of the container for ``query``."""
    return drive_sync(recall_plan(tenancy, query, k, scope=scope, min_score=min_score), client)


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
    plan = recall_plan(tenancy, query, k, scope=scope, min_score=min_score)
    return await drive_async(plan, client)
