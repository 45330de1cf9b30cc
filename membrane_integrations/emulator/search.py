"""Unified search (Membrain guide section 4.2): rank memory nodes and relationship edges.

One matrix-vector product scores the memories and one the link descriptions; under a scope
filter only the rows in scope count (an edge needs both ends in scope), and a narrow filter
scores only its own rows. Without ``rerank`` the top nodes and edges are merged by score; with
``rerank`` each top edge lifts its two ends and is folded into their ``related_memories``
instead. ``full_scope`` returns every memory in scope (score 1.0), unranked.

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
import numpy.typing as npt

from . import wire
from .embeddings import EmbeddingsLike, embed_query_vector
from .index import TenantIndex, matvec
from .storage import Store
from .synthesis import EdgeHit, Hit

__all__ = ["Retrieval", "retrieve", "top"]

# ``full_scope`` hands only this many memories to the interpreted synthesis.
_FULL_SCOPE_SYNTHESIS = 20
# A scope filter keeping at most this share of the rows scores only those rows.
_GATHER_SHARE = 0.25
# Block size of the top-k pre-selection (see ``_candidates``).
_BLOCK = 64


@dataclass(frozen=True)
class Retrieval:
    """The wire ``results`` of a search, and the hits the interpreted synthesis reads."""

    results: list[dict[str, Any]]
    hits: list[Hit]
    edges: list[EdgeHit]


def top(scores: np.ndarray[Any, Any], k: int) -> list[tuple[int, float]]:
    """Indices and scores of the ``k`` best finite scores, best first; equal scores in index
    order (the older memory first)."""
    if len(scores) == 0 or k <= 0:
        return []
    k = min(k, len(scores))
    candidates = _candidates(scores, k)
    ordered = candidates[np.lexsort((candidates, -scores[candidates]))][:k]
    return [(int(i), float(scores[i])) for i in ordered if np.isfinite(scores[i])]


def _candidates(scores: np.ndarray[Any, Any], k: int) -> npt.NDArray[np.intp]:
    """Indices of a few scores that include the ``k`` best and every score equal to the k-th
    best (so ties do not depend on which of them a partition happened to pick).

    The k-th largest of the block maxima is at most the k-th largest score (k blocks reach
    it), so the scores at or above it are a superset found with one pass over the scores and
    a partition of ``len(scores) / _BLOCK`` maxima, instead of a partition of every score.
    """
    n = len(scores)
    whole = n - n % _BLOCK
    if whole // _BLOCK > 4 * k:
        maxima = scores[:whole].reshape(-1, _BLOCK).max(axis=1)
        if whole < n:
            maxima = np.append(maxima, scores[whole:].max())
        bound = np.partition(maxima, len(maxima) - k)[len(maxima) - k]
        if np.isfinite(bound) and not np.isnan(maxima).any():
            found: npt.NDArray[np.intp] = np.flatnonzero(scores >= bound)
            return found
    if k == n:
        return np.arange(n)
    neg = -scores
    part: npt.NDArray[np.intp] = np.argpartition(neg, k - 1)[:k]
    kth = neg[part].max()
    return part if np.isnan(kth) else np.flatnonzero(neg <= kth)


@dataclass(frozen=True)
class _Scored:
    """Scores of the rows a search may return: every row, or the ``rows`` in scope."""

    scores: npt.NDArray[np.float32]
    rows: npt.NDArray[np.intp] | None

    def best(self, k: int) -> list[tuple[int, float]]:
        """The top ``k`` as (row, score), best first."""
        found = top(self.scores, k)
        if self.rows is None:
            return found
        return [(int(self.rows[i]), s) for i, s in found]

    def at(self, row: int) -> float:
        """The score of one row (it must be in scope)."""
        if self.rows is None:
            return float(self.scores[row])
        return float(self.scores[int(np.searchsorted(self.rows, row))])


def _score(
    matrix: npt.NDArray[np.float32],
    query: npt.NDArray[np.float32],
    rows: npt.NDArray[np.intp] | None,
) -> _Scored:
    """Score the rows in scope: a narrow scope only its own rows (gathered), a broad one the
    whole matrix (one streaming pass costs less than gathering most of it)."""
    if rows is None:
        return _Scored(matvec(matrix, query), None)
    if len(rows) <= _GATHER_SHARE * len(matrix):
        return _Scored(matvec(matrix[rows], query), rows)
    return _Scored(matvec(matrix, query)[rows], rows)


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
    qvec: npt.NDArray[np.float32] | None = None,
) -> Retrieval:
    """Rank the tenant's memories and links for ``query`` (call with the store lock held and
    the scope settled; pass ``qvec``, the query embedded before taking the lock)."""
    idx = store.index(tenant)
    if not idx.ids:
        return Retrieval([], [], [])
    if full_scope:
        ids = [idx.ids[i] for i in idx.scope_rows(patterns)]
        rows = store.brief(tenant, ids)
        results = [wire.memory_node(rows[m], 1.0, []) for m in ids]
        hits = [Hit(m, rows[m].content, 1.0) for m in ids[:_FULL_SCOPE_SYNTHESIS]]
        return Retrieval(results, hits, [])
    if qvec is None:
        qvec = embed_query_vector(embeddings, query)
    nodes = _score(idx.nodes.view(), qvec, idx.scope_rows(patterns) if patterns else None)
    top_nodes = nodes.best(k)
    edge_list: list[tuple[int, float]] = []
    if idx.edge_keys:
        in_scope = idx.scope_edge_rows(patterns) if patterns else None
        edge_list = _score(idx.edges.view(), qvec, in_scope).best(k)
    node_ids = [idx.ids[i] for i, _ in top_nodes]
    node_score = {idx.ids[i]: s for i, s in top_nodes}
    edges = [EdgeHit(*idx.edge_keys[i], idx.edge_descriptions[i], s) for i, s in edge_list]
    if rerank:
        for edge in edges:
            for end in (edge.source, edge.target):
                if end not in node_score:
                    node_score[end] = max(nodes.at(idx.pos[end]), edge.score)
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
