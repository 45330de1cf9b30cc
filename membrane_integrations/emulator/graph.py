"""The four graph searches over a tenant's links: path, hubs, neighbourhood, traversal.

Pure functions over a :class:`~.index.TenantIndex` (its ``adjacency`` maps each memory id to
``{linked id: link description}``); they return ids and distances, and the engine shapes the
reply (:mod:`~.wire`).

Example:
    >>> adjacency = {"a": {"b": "a-b"}, "b": {"a": "a-b", "c": "b-c"}, "c": {"b": "b-c"}}
    >>> shortest_path(adjacency, "a", "c")
    ['a', 'b', 'c']
    >>> within_hops(adjacency, "a", 1)
    {'a': 0, 'b': 1}
    >>> links_among(adjacency, ["a", "b"])
    [('a', 'b', 'a-b')]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .index import TenantIndex

__all__ = [
    "Followed",
    "Traversal",
    "hubs",
    "links_among",
    "shortest_path",
    "traverse",
    "within_hops",
]

Adjacency = Mapping[str, Mapping[str, str]]


def pair(a: str, b: str) -> tuple[str, str]:
    """The stored order of a link's two ends (the smaller id first)."""
    return (a, b) if a < b else (b, a)


def shortest_path(adjacency: Adjacency, start: str, goal: str) -> list[str] | None:
    """The fewest-hop path from ``start`` to ``goal`` (breadth first, neighbours in id order),
    or ``None`` when no path joins them."""
    parent: dict[str, str | None] = {start: None}
    frontier = deque([start])
    while frontier and goal not in parent:
        current = frontier.popleft()
        for other in sorted(adjacency.get(current, {})):
            if other not in parent:
                parent[other] = current
                frontier.append(other)
    if goal not in parent:
        return None
    path: list[str] = []
    step: str | None = goal
    while step is not None:
        path.append(step)
        step = parent[step]
    path.reverse()
    return path


def hubs(idx: TenantIndex, limit: int) -> list[tuple[str, int]]:
    """The ``limit`` most linked memories and their degree (ties: the oldest first)."""
    degree = {m: len(idx.adjacency.get(m, {})) for m in idx.ids}
    ranked = sorted(idx.ids, key=lambda m: (-degree[m], idx.pos[m]))[:limit]
    return [(m, degree[m]) for m in ranked]


def within_hops(adjacency: Adjacency, start: str, hops: int) -> dict[str, int]:
    """Every memory at most ``hops`` links from ``start``, with its distance (breadth first)."""
    distance = {start: 0}
    frontier = [start]
    for hop in range(1, hops + 1):
        nxt = []
        for current in frontier:
            for other in adjacency.get(current, {}):
                if other not in distance:
                    distance[other] = hop
                    nxt.append(other)
        frontier = nxt
    return distance


def links_among(adjacency: Adjacency, ids: Collection[str]) -> list[tuple[str, str, str]]:
    """The links with both ends in ``ids``, once each: ``(smaller id, larger id, description)``,
    in the order of ``ids``."""
    members = set(ids)
    return [
        (a, b, d) for a in ids for b, d in adjacency.get(a, {}).items() if b in members and a < b
    ]


@dataclass(frozen=True)
class Followed:
    """A link a traversal followed, with the similarity of its description to the query."""

    source: str
    target: str
    description: str
    similarity: float


@dataclass
class Traversal:
    """What :func:`traverse` reached: each memory's hop and the links followed, in order."""

    hop_of: dict[str, int]
    followed: list[Followed] = field(default_factory=list)


def traverse(
    idx: TenantIndex,
    start: str,
    query_vector: npt.NDArray[np.float32],
    *,
    max_hops: int,
    threshold: float,
    patterns: tuple[str, ...],
) -> Traversal:
    """Follow links whose description is at least ``threshold`` similar to the query, up to
    ``max_hops`` from ``start``, never into a memory the scope ``patterns`` exclude."""
    similarity = {
        key: float(s) for key, s in zip(idx.edge_keys, idx.edge_scores(query_vector), strict=True)
    }
    walk = Traversal({start: 0})
    frontier = [start]
    for hop in range(1, max_hops + 1):
        nxt = []
        for current in frontier:
            for other, desc in idx.adjacency.get(current, {}).items():
                sim = similarity.get(pair(current, other), 0.0)
                if other in walk.hop_of or sim < threshold:
                    continue
                if not idx.matches(other, patterns):
                    continue
                walk.hop_of[other] = hop
                nxt.append(other)
                walk.followed.append(Followed(current, other, desc, sim))
        frontier = nxt
    return walk
