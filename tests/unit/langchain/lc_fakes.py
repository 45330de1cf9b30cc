"""In-memory stand-ins for the Membrain clients (no I/O), recording every call.

``leaky=True`` makes the fake ignore scope filters, like a buggy or hostile server, so tests
can show that the tools' own checks still keep other containers' memories out.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

from membrane_integrations.core.errors import (
    IngestTimeoutError,
    MembraneIntegrationsError,
    NotFoundError,
)
from membrane_integrations.core.scope import token_matches
from membrane_integrations.membrain.models import (
    BulkDeleteResult,
    DeleteResult,
    GraphEdge,
    GraphHub,
    GraphHubs,
    GraphNode,
    GraphPath,
    IngestResult,
    Memory,
    MemoryNode,
    Neighborhood,
    RelatedMemory,
    RelationshipEdge,
    ScopeCount,
    SearchResponse,
    Stats,
    TraversedMemory,
    TraverseEdge,
    TraverseResult,
    UnlinkResult,
)


class FakeMembrain:
    """A synchronous fake of ``MembrainClient``."""

    def __init__(self, *, leaky: bool = False) -> None:
        self.memories: dict[str, Memory] = {}
        self.links: dict[str, dict[str, str]] = {}
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.fail: dict[str, MembraneIntegrationsError] = {}
        self.leaky = leaky
        self.ingest_timeout = False
        self.edges_in_search: list[RelationshipEdge] = []
        self._ids = itertools.count(1)

    def to_async(self) -> AsyncFakeMembrain:
        self.calls.append(("to_async", (), {}))
        return AsyncFakeMembrain(self)

    # helpers for tests
    def seed(self, content: str, scope: list[str], category: str | None = None) -> str:
        memory_id = f"m{next(self._ids)}"
        self.memories[memory_id] = Memory(
            id=memory_id, content=content, scope=list(scope), category=category
        )
        self.links.setdefault(memory_id, {})
        return memory_id

    def link(self, a: str, b: str, description: str = "related") -> None:
        self.links.setdefault(a, {})[b] = description
        self.links.setdefault(b, {})[a] = description

    def _record(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))
        if name in self.fail:
            raise self.fail[name]

    def _match(self, scope: list[str] | None, memory: Memory) -> bool:
        return self.leaky or not scope or token_matches(scope, memory.scope)

    def close(self) -> None:
        self._record("close")

    # the client surface
    def add(self, content: str, **kwargs: Any) -> IngestResult:
        self._record("add", content, **kwargs)
        if self.ingest_timeout:
            raise IngestTimeoutError("still processing", job_id="job-7", last_status="processing")
        memory_id = self.seed(content, kwargs.get("scope") or [], kwargs.get("category"))
        return IngestResult(memory_id=memory_id, action="created", memory=self.memories[memory_id])

    def search(self, query: str, **kwargs: Any) -> SearchResponse:
        self._record("search", query, **kwargs)
        scope = kwargs.get("scope")
        hits: list[MemoryNode | RelationshipEdge] = []
        for memory in self.memories.values():
            if not self._match(scope, memory):
                continue
            related = [
                RelatedMemory(
                    id=other,
                    content=self.memories[other].content,
                    description=why,
                    scope=self.memories[other].scope,
                )
                for other, why in self.links.get(memory.id, {}).items()
                if self._match(scope, self.memories[other])
            ]
            hits.append(
                MemoryNode(
                    id=memory.id,
                    content=memory.content,
                    scope=memory.scope,
                    semantic_score=0.5,
                    related_memories=related,
                )
            )
        hits = hits[: kwargs.get("k", 5)]
        hits.extend(self.edges_in_search)
        return SearchResponse(results=hits, scope=scope)

    def get(self, memory_id: str, **kwargs: Any) -> Memory:
        self._record("get", memory_id, **kwargs)
        return self._existing(memory_id)

    def _existing(self, memory_id: str) -> Memory:
        if memory_id not in self.memories:
            raise NotFoundError(f"memory {memory_id!r} was not found", status_code=404)
        return self.memories[memory_id]

    def get_many(self, memory_ids: list[str], **kwargs: Any) -> list[Memory]:
        self._record("get_many", list(memory_ids), **kwargs)
        return [self.memories[i] for i in memory_ids if i in self.memories]

    def update(self, memory_id: str, **kwargs: Any) -> Memory:
        self._record("update", memory_id, **kwargs)
        current = self._existing(memory_id)
        changes = {k: v for k, v in kwargs.items() if k in ("content", "scope") and v is not None}
        self.memories[memory_id] = current.model_copy(update=changes)
        return self.memories[memory_id]

    def delete(self, memory_id: str, **kwargs: Any) -> DeleteResult:
        self._record("delete", memory_id, **kwargs)
        self._existing(memory_id)
        del self.memories[memory_id]
        return DeleteResult(deleted=True, memory_id=memory_id)

    def delete_bulk(self, **kwargs: Any) -> BulkDeleteResult:
        self._record("delete_bulk", **kwargs)
        scope, category = kwargs.get("scope"), kwargs.get("category")
        doomed = [
            m.id
            for m in self.memories.values()
            if self._match(scope, m) and (category is None or m.category == category)
        ]
        for memory_id in doomed:
            del self.memories[memory_id]
        return BulkDeleteResult(deleted_count=len(doomed), memory_ids=doomed)

    def unlink(self, a: str, b: str, **kwargs: Any) -> UnlinkResult:
        self._record("unlink", a, b, **kwargs)
        existed = b in self.links.get(a, {})
        self.links.get(a, {}).pop(b, None)
        self.links.get(b, {}).pop(a, None)
        return UnlinkResult(unlinked=existed, memory_id_1=a, memory_id_2=b)

    def stats(self, **kwargs: Any) -> Stats:
        self._record("stats", **kwargs)
        tokens: dict[str, int] = {}
        for memory in self.memories.values():
            for token in memory.scope:
                tokens[token] = tokens.get(token, 0) + 1
        top = [ScopeCount(token=t, count=c) for t, c in sorted(tokens.items())]
        links = sum(len(v) for v in self.links.values()) // 2
        return Stats(total_memories=len(self.memories), total_links=links, top_scope=top)

    def count(self, **kwargs: Any) -> int:
        self._record("count", **kwargs)
        scope, category = kwargs.get("scope"), kwargs.get("category")
        return sum(
            1
            for m in self.memories.values()
            if self._match(scope, m) and (category is None or m.category == category)
        )

    def _node(self, memory_id: str, distance: int | None = None) -> GraphNode:
        m = self.memories[memory_id]
        return GraphNode(id=m.id, content=m.content, scope=m.scope, distance=distance)

    def _bfs(self, start: str, hops: int) -> dict[str, int]:
        seen = {start: 0}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            if seen[current] >= hops:
                continue
            for other in self.links.get(current, {}):
                if other not in seen:
                    seen[other] = seen[current] + 1
                    queue.append(other)
        return seen

    def graph_path(self, from_id: str, to_id: str, **kwargs: Any) -> GraphPath:
        self._record("graph_path", from_id, to_id, **kwargs)
        parents: dict[str, str | None] = {from_id: None}
        queue = deque([from_id])
        while queue:
            current = queue.popleft()
            for other in self.links.get(current, {}):
                if other not in parents:
                    parents[other] = current
                    queue.append(other)
        if to_id not in parents:
            return GraphPath(from_id=from_id, to_id=to_id, found=False)
        path: list[str] = []
        node: str | None = to_id
        while node is not None:
            path.insert(0, node)
            node = parents[node]
        nodes = [self._node(i) for i in path]
        return GraphPath(
            from_id=from_id, to_id=to_id, found=True, path=path, hops=len(path) - 1, nodes=nodes
        )

    def graph_hubs(self, limit: int = 10, **kwargs: Any) -> GraphHubs:
        self._record("graph_hubs", limit, **kwargs)
        ranked = sorted(self.memories, key=lambda i: (-len(self.links.get(i, {})), i))
        hubs = [
            GraphHub(**self._node(i).model_dump(), degree=len(self.links.get(i, {})))
            for i in ranked[:limit]
        ]
        return GraphHubs(hubs=hubs)

    def graph_neighborhood(self, memory_id: str, hops: int = 1, **kwargs: Any) -> Neighborhood:
        self._record("graph_neighborhood", memory_id, hops=hops, **kwargs)
        self._existing(memory_id)
        seen = self._bfs(memory_id, hops)
        edges = [
            GraphEdge(source=a, target=b, description=why)
            for a in seen
            for b, why in self.links.get(a, {}).items()
            if b in seen and a < b
        ]
        nodes = [self._node(i, d) for i, d in seen.items()]
        return Neighborhood(memory_id=memory_id, hops=hops, nodes=nodes, edges=edges)

    def graph_traverse(self, start: str, query: str, **kwargs: Any) -> TraverseResult:
        self._record("graph_traverse", start, query, **kwargs)
        seen = self._bfs(start, kwargs.get("max_hops", 2))
        scope = kwargs.get("scope")
        visited = [
            TraversedMemory(**self._node(i).model_dump(exclude={"distance"}), hop=d)
            for i, d in seen.items()
            if self._match(scope, self.memories[i])
        ]
        ids = {v.id for v in visited}
        edges = [
            TraverseEdge(source=a, target=b, description=why, similarity=0.9)
            for a in ids
            for b, why in self.links.get(a, {}).items()
            if b in ids and a < b
        ]
        return TraverseResult(
            start_memory_id=start,
            query=query,
            visited=visited,
            edges=edges,
            visited_count=len(visited),
            edge_count=len(edges),
        )


class AsyncFakeMembrain:
    """The async face of a :class:`FakeMembrain` (same store, awaited methods).

    It wraps any sync fake with a ``calls`` list (the Membrane unit tests reuse it).
    """

    def __init__(self, sync: Any) -> None:
        self.sync = sync

    async def aclose(self) -> None:
        self.sync.calls.append(("aclose", (), {}))

    def to_sync(self) -> Any:
        self.sync.calls.append(("to_sync", (), {}))
        return self.sync

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.sync, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        return call
