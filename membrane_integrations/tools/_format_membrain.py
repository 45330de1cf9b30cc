"""Membrain results as compact text for a model, within a character budget (pure, no I/O).

Tools return two things: this text, which goes into the model's context, and the full typed
result as the artifact. The text keeps what a model needs to act (ids, content, scores, related
memories and edges) and stops at ``budget`` characters with a line saying how much was left out
and how to get it.

Example:
    >>> from membrane_integrations.membrain.models import SearchResponse
    >>> resp = SearchResponse.model_validate({"results": [
    ...     {"type": "memory_node", "id": "m1", "content": "User likes green tea",
    ...      "scope": ["container.bob"], "semantic_score": 0.9}]})
    >>> print(render_search(resp, budget=500))
    1 result.
    1. [memory m1] score 0.90: User likes green tea
       scope: container.bob
"""

from __future__ import annotations

from collections.abc import Sequence

from ..membrain.models import (
    BulkDeleteResult,
    DeleteResult,
    GraphEdge,
    GraphHubs,
    GraphNode,
    GraphPath,
    IngestAccepted,
    IngestResult,
    Memory,
    MemoryNode,
    Neighborhood,
    RelationshipEdge,
    SearchResponse,
    Stats,
    TraverseResult,
    UnlinkResult,
)
from ._budget import DEFAULT_BUDGET, clip, fit

__all__ = [
    "render_bulk_delete",
    "render_count",
    "render_delete",
    "render_hubs",
    "render_ingest",
    "render_ingest_pending",
    "render_memories",
    "render_neighborhood",
    "render_path",
    "render_search",
    "render_stats",
    "render_traverse",
    "render_unlink",
    "render_update",
    "shown_scope",
]


def shown_scope(scope: list[str]) -> list[str]:
    """The scope tokens worth showing a model: the tenancy guard tokens (``^container...$``,
    stored only to confine ingest merging) are left out; the artifact keeps them all.

    >>> shown_scope(["container.bob", "^container\\\\.bob$", "type.pref"])
    ['container.bob', 'type.pref']
    """
    return [token for token in scope if not token.startswith("^")]


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def _node_lines(index: int, node: MemoryNode, related: bool) -> list[str]:
    lines = [f"{index}. [memory {node.id}] score {node.semantic_score:.2f}: {clip(node.content)}"]
    if shown_scope(node.scope):
        lines.append(f"   scope: {clip(', '.join(shown_scope(node.scope)), 200)}")
    if related:
        for rel in node.related_memories:
            why = f" ({clip(rel.description, 160)})" if rel.description else ""
            lines.append(f"   related {rel.id}: {clip(rel.content, 200)}{why}")
    return lines


def _edge_line(index: int, edge: RelationshipEdge) -> str:
    return (
        f"{index}. [edge {edge.source.id} -> {edge.target.id}] score {edge.score:.2f}: "
        f"{clip(edge.description)}"
    )


def render_search(
    response: SearchResponse, *, budget: int = DEFAULT_BUDGET, related: bool = True
) -> str:
    """Interpreted summary (if any), then each hit with id, score, content, related memories."""
    lines: list[str] = []
    interpreted = response.interpreted
    if interpreted is not None:
        lines.append(f"Summary: {clip(interpreted.answer_summary, 1200)}")
        lines.extend(f"- fact: {clip(fact, 300)}" for fact in interpreted.key_facts)
        lines.extend(f"- relation: {clip(r, 300)}" for r in interpreted.important_relationships)
        lines.extend(f"- uncertain: {clip(c, 300)}" for c in interpreted.conflicts_or_uncertainties)
        if interpreted.supporting_memory_ids:
            lines.append(f"- supporting ids: {', '.join(interpreted.supporting_memory_ids)}")
        if interpreted.confidence is not None:
            lines.append(f"- confidence: {interpreted.confidence:.2f}")
    elif response.interpreted_error:
        lines.append(f"(No summary: {clip(response.interpreted_error, 200)}; raw hits follow.)")
    count = len(response.results)
    if count == 0:
        lines.append("No memories matched. Nothing is stored about this yet.")
        return fit(lines, budget)
    lines.insert(0 if interpreted is None else len(lines), f"{_plural(count, 'result')}.")
    for index, hit in enumerate(response.results, start=1):
        if isinstance(hit, MemoryNode):
            lines.extend(_node_lines(index, hit, related))
        else:
            lines.append(_edge_line(index, hit))
    return fit(lines, budget, "; lower k or narrow the scope to see the rest")


def _memory_lines(memory: Memory) -> list[str]:
    lines = [f"[memory {memory.id}] {clip(memory.content, 2000)}"]
    if shown_scope(memory.scope):
        lines.append(f"   scope: {', '.join(shown_scope(memory.scope))}")
    if memory.category:
        lines.append(f"   category: {memory.category}")
    stamp = memory.updated_at or memory.created_at or memory.timestamp
    if stamp is not None:
        lines.append(f"   updated: {stamp.isoformat()}")
    for link in memory.links:
        why = f": {clip(link.description, 200)}" if link.description else ""
        lines.append(f"   link -> {link.memory_id}{why}")
    if memory.evolution_history:
        lines.append(f"   history: {_plural(len(memory.evolution_history), 'earlier version')}")
        for entry in memory.evolution_history[-3:]:
            lines.append(f"   - {clip(str(entry), 240)}")
    return lines


def render_memories(
    memories: Sequence[Memory], missing: Sequence[str] = (), *, budget: int = DEFAULT_BUDGET
) -> str:
    """Full detail of each memory, then the ids that were not found."""
    lines: list[str] = []
    for memory in memories:
        lines.extend(_memory_lines(memory))
    if missing:
        lines.append(f"Not found: {', '.join(missing)}.")
    return fit(lines, budget)


def render_ingest(result: IngestResult, content_visible: bool = True) -> str:
    """What ``membrain_add`` tells the model once the ingest job completed."""
    if result.action == "updated":
        head = f"Merged into existing memory {result.memory_id} (action: updated)."
    else:
        head = f"Stored new memory {result.memory_id} (action: created)."
    if content_visible and result.memory is not None:
        head += f" Content: {clip(result.memory.content, 400)}"
    return head


def render_ingest_pending(accepted: IngestAccepted) -> str:
    """What ``membrain_add`` tells the model when the job outlived the wait."""
    return (
        f"Ingest job {accepted.job_id} is still {accepted.job_status}: the fact will be stored "
        "shortly. Do not add it again; search memory later to confirm it was stored."
    )


def render_update(memory: Memory) -> str:
    """Confirmation of an update with the stored result."""
    scope = ", ".join(shown_scope(memory.scope))
    return f"Updated memory {memory.id}: {clip(memory.content, 600)} (scope: {scope})"


def render_delete(result: DeleteResult, memory_id: str) -> str:
    """Confirmation of a single delete."""
    if result.deleted:
        return f"Deleted memory {result.memory_id or memory_id}."
    return f"Memory {memory_id} was not deleted."


def render_bulk_delete(result: BulkDeleteResult, *, budget: int = DEFAULT_BUDGET) -> str:
    """How many memories a filtered delete removed, and which."""
    if result.deleted_count == 0:
        return "No memories matched the filter; nothing was deleted."
    ids = ", ".join(result.memory_ids)
    return fit([f"Deleted {_plural(result.deleted_count, 'memory')}: {ids}"], budget)


def render_unlink(result: UnlinkResult, first: str, second: str) -> str:
    """Whether a link was removed."""
    if result.unlinked:
        return f"Removed the link between {first} and {second}."
    return f"There was no link between {first} and {second}; nothing changed."


def render_stats(stats: Stats) -> str:
    """Totals and the most used scope tokens."""
    lines = [
        f"{_plural(stats.total_memories, 'memory')}, {_plural(stats.total_links, 'link')} "
        f"(average {stats.avg_links_per_memory:.2f} links per memory)."
    ]
    if stats.top_scope:
        top = ", ".join(
            f"{entry.token} ({entry.count})"
            for entry in stats.top_scope[:20]
            if not entry.token.startswith("^")
        )
        lines.append(f"Top scope tokens: {top}")
    return "\n".join(lines)


def render_count(count: int, scoped: bool) -> str:
    """A count of the memories the tool may see."""
    where = " matching the filter" if scoped else ""
    return f"{_plural(count, 'memory')}{where}."


def _graph_node_line(node: GraphNode, extra: str = "") -> str:
    return f"- {node.id}{extra}: {clip(node.content, 300)}"


def _graph_edge_line(edge: GraphEdge, extra: str = "") -> str:
    why = f": {clip(edge.description, 200)}" if edge.description else ""
    return f"- {edge.source} -> {edge.target}{extra}{why}"


def render_path(path: GraphPath, *, budget: int = DEFAULT_BUDGET) -> str:
    """The shortest path as a chain of ids, then each node's content."""
    if not path.found:
        return f"No path links {path.from_id} to {path.to_id}."
    lines = [f"Path of {_plural(path.hops or len(path.path) - 1, 'hop')}: {' -> '.join(path.path)}"]
    lines.extend(_graph_node_line(node) for node in path.nodes)
    return fit(lines, budget)


def render_hubs(hubs: GraphHubs, *, budget: int = DEFAULT_BUDGET) -> str:
    """The best-connected memories with their degree."""
    if not hubs.hubs:
        return "No memories are linked yet."
    lines = [f"{_plural(len(hubs.hubs), 'hub')} (most links first):"]
    lines.extend(_graph_node_line(hub, f" ({_plural(hub.degree, 'link')})") for hub in hubs.hubs)
    return fit(lines, budget)


def render_neighborhood(hood: Neighborhood, *, budget: int = DEFAULT_BUDGET) -> str:
    """Nodes by distance, then edges with their descriptions."""
    lines = [
        f"{_plural(len(hood.nodes), 'memory')} within {_plural(hood.hops, 'hop')} of "
        f"{hood.memory_id}:"
    ]
    nodes = sorted(hood.nodes, key=lambda n: (n.distance if n.distance is not None else 0, n.id))
    lines.extend(_graph_node_line(n, f" (distance {n.distance})") for n in nodes)
    if hood.edges:
        lines.append("Links:")
        lines.extend(_graph_edge_line(edge) for edge in hood.edges)
    return fit(lines, budget)


def render_traverse(result: TraverseResult, *, budget: int = DEFAULT_BUDGET) -> str:
    """Memories reached by query-guided traversal, then the edges followed."""
    lines = [
        f"Visited {_plural(len(result.visited), 'memory')} from {result.start_memory_id} "
        f"following {_plural(len(result.edges), 'link')} relevant to the query:"
    ]
    lines.extend(_graph_node_line(m, f" (hop {m.hop})") for m in result.visited)
    if result.edges:
        lines.append("Links followed:")
        lines.extend(_graph_edge_line(e, f" (similarity {e.similarity:.2f})") for e in result.edges)
    return fit(lines, budget)
