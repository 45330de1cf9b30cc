"""Unified search (Membrain guide section 4.2): rank memory nodes and relationship edges.

One matrix-vector product scores every memory and one every link description; a scope filter
masks both (an edge needs both ends in scope). Without ``rerank`` the top nodes and edges are
merged by score; with ``rerank`` each top edge lifts its two ends and is folded into their
``related_memories`` instead. ``full_scope`` returns every memory in scope (score 1.0), unranked.

Example:
    >>> import numpy as np
    >>> top(np.array([0.1, 0.9, -np.inf, 0.5]), 3)
    [(1, 0.9), (3, 0.5), (0, 0.1)]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import wire
from .embeddings import EmbeddingsLike, embed_query_vector
from .index import TenantIndex
from .storage import Store
from .synthesis import EdgeHit, Hit

__all__ = ["Retrieval", "retrieve", "top"]

# ``full_scope`` hands only this many memories to the interpreted synthesis.
_FULL_SCOPE_SYNTHESIS = 20


@dataclass(frozen=True)
class Retrieval:
    """The wire ``results`` of a search, and the hits the interpreted synthesis reads."""

    results: list[dict[str, Any]]
    hits: list[Hit]
    edges: list[EdgeHit]


def top(scores: np.ndarray[Any, Any], k: int) -> list[tuple[int, float]]:
    """Indices and scores of the ``k`` best finite scores, best first."""
    if len(scores) == 0:
        return []
    k = min(k, len(scores))
    part = np.argpartition(-scores, k - 1)[:k]
    ordered = part[np.argsort(-scores[part], kind="stable")]
    return [(int(i), float(scores[i])) for i in ordered if np.isfinite(scores[i])]


def _linked_in_scope(
    idx: TenantIndex, ids: Sequence[str], patterns: tuple[str, ...], limit: int
) -> dict[str, list[tuple[str, str]]]:
    """For each id, its first ``limit`` linked memories that pass the scope filter, with the
    link description."""
    return {
        mid: list(
            itertools.islice(
                (
                    (other, desc)
                    for other, desc in idx.adjacency.get(mid, {}).items()
                    if idx.matches(other, patterns)
                ),
                limit,
            )
        )
        for mid in ids
    }


def retrieve(
    store: Store,
    embeddings: EmbeddingsLike,
    tenant: str,
    query: str,
    k: int,
    patterns: tuple[str, ...],
    *,
    rerank: bool,
    full_scope: bool,
) -> Retrieval:
    """Rank the tenant's memories and links for ``query`` (call with the store lock held)."""
    idx = store.index(tenant)
    if not idx.ids:
        return Retrieval([], [], [])
    mask = idx.scope_mask(patterns) if patterns else None
    if full_scope:
        assert mask is not None
        ids = [mid for i, mid in enumerate(idx.ids) if mask[i]]
        rows = store.brief(tenant, ids)
        results = [wire.memory_node(rows[m], 1.0, []) for m in ids]
        hits = [Hit(m, rows[m].content, 1.0) for m in ids[:_FULL_SCOPE_SYNTHESIS]]
        return Retrieval(results, hits, [])
    qvec = embed_query_vector(embeddings, query)
    node_scores = idx.node_scores(qvec)
    if mask is not None:
        node_scores = np.where(mask, node_scores, -np.inf)
    top_nodes = top(node_scores, k)
    edge_list: list[tuple[int, float]] = []
    if idx.edge_keys:
        edge_scores = idx.edge_scores(qvec)
        if mask is not None:
            ends_a, ends_b = idx.edge_endpoints()
            edge_scores = np.where(mask[ends_a] & mask[ends_b], edge_scores, -np.inf)
        edge_list = top(edge_scores, k)
    node_ids = [idx.ids[i] for i, _ in top_nodes]
    node_score = {idx.ids[i]: s for i, s in top_nodes}
    edges = [EdgeHit(*idx.edge_keys[i], idx.edge_descriptions[i], s) for i, s in edge_list]
    if rerank:
        for edge in edges:
            for end in (edge.source, edge.target):
                if end not in node_score:
                    node_score[end] = max(float(node_scores[idx.pos[end]]), edge.score)
                    node_ids.append(end)
                else:
                    node_score[end] = max(node_score[end], edge.score)
        node_ids = sorted(dict.fromkeys(node_ids), key=lambda m: -node_score[m])[:k]
    related = _linked_in_scope(idx, node_ids, patterns, limit=5)
    if rerank:
        # Each top edge shows up in the related memories of the ends it lifted.
        for edge in edges:
            for end, other in ((edge.source, edge.target), (edge.target, edge.source)):
                pairs = related.get(end)
                if pairs is not None and all(o != other for o, _ in pairs):
                    extra = _linked_in_scope(idx, [end], patterns, limit=100)[end]
                    pairs.extend(p for p in extra if p[0] == other)
    rows = store.brief(tenant, node_ids)
    others = store.brief(tenant, list({o for pairs in related.values() for o, _ in pairs}))
    items: list[tuple[float, dict[str, Any]]] = [
        (
            node_score[m],
            wire.memory_node(
                rows[m],
                node_score[m],
                [wire.related_memory(others[o], d) for o, d in related[m] if o in others],
            ),
        )
        for m in node_ids
    ]
    if not rerank:
        items.extend((e.score, wire.relationship_edge(e)) for e in edges)
        items.sort(key=lambda pair: -pair[0])
        items = items[:k]
    hits = [Hit(m, rows[m].content, node_score[m]) for m in node_ids]
    return Retrieval([item for _, item in items], hits, edges)
