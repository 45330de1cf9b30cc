"""``Engine``: the emulator's operations, one method per route, over the pieces that do the work.

No web code: the routes in ``app.py`` call it. The pieces, one job each:

* :mod:`~.storage`: SQLite (memories, links, jobs) and the per-tenant index cache;
* :mod:`~.jobs`: the ingest queue and its worker (a job's writes and ``completed`` in one
  transaction; open jobs queued again at start, ``Engine.recovered_jobs`` says how many);
* :mod:`~.ingest`: create or merge, link, update; :mod:`~.quotas`: plan limits;
* :mod:`~.search`: ranking; :mod:`~.graph`: path, hubs, neighbourhood, traversal;
* :mod:`~.wire`: the JSON replies.

Every operation runs under the store's one lock, but caller input is never worked on while it is
held: contents are embedded before, and scope filters are matched (RE2, linear time) by
:meth:`~.storage.Store.scoped` between its attempts to take the lock. Each tenant (an API key,
stored only as a SHA-256 digest) has a :class:`~.index.TenantIndex` of float32 embeddings built
from SQLite on first use, updated in place on insert and rebuilt after a delete.

Example:
    >>> engine = Engine()
    >>> t = engine.tenant_id("emu-example")
    >>> mem, action = engine.ingest_now(t, "User likes green tea", ["container.bob"], None)
    >>> action
    'created'
    >>> engine.search(t, "What drinks does the user like?", k=1)["results"][0]["id"] == mem["id"]
    True
    >>> engine.close()
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from ..core.errors import InvalidRequestError
from ..core.scope import validate_patterns
from . import graph, wire
from .embeddings import EmbeddingsLike, embed_query_vector
from .errors import EmulatorBadRequest, EmulatorNotFound
from .index import TenantIndex
from .ingest import Ingest, candidate_patterns
from .jobs import JobHook, JobQueue
from .quotas import QuotaConfig, enforce_quota
from .search import retrieve
from .selection import ingest_thresholds, make_embedder
from .storage import Row, Store
from .synthesis import interpret

__all__ = ["Engine", "JobHook"]


class Engine:
    """The emulator's storage, search and graph operations (see the module doc).

    Args:
        embeddings: any object with ``embed_documents`` / ``embed_query``; defaults to
            WordLlama (256 dimensions) when installed, else the hashing embedder (384); see
            :mod:`~.selection`.
        db_path: a SQLite file (WAL mode); ``None`` keeps everything in memory.
        link_threshold: cosine at or above which ingest links a new memory to a neighbour
            (default: tuned per embedder, :func:`~.selection.ingest_thresholds`).
        duplicate_threshold: cosine at or above which ingest updates instead of creating
            (default: tuned per embedder).
        max_links: at most this many links made per ingest.
        job_hook: called by the worker before a job runs (fault injection uses it).
    """

    def __init__(
        self,
        embeddings: EmbeddingsLike | None = None,
        *,
        db_path: str | None = None,
        link_threshold: float | None = None,
        duplicate_threshold: float | None = None,
        max_links: int = 5,
        default_quota: QuotaConfig | None = None,
        job_hook: JobHook | None = None,
    ) -> None:
        self.embeddings: EmbeddingsLike = embeddings or make_embedder()
        tuned_link, tuned_duplicate = ingest_thresholds(self.embeddings)
        self.store = Store(db_path, self.embeddings)
        self._ingest = Ingest(
            self.store,
            link_threshold=tuned_link if link_threshold is None else link_threshold,
            duplicate_threshold=(
                tuned_duplicate if duplicate_threshold is None else duplicate_threshold
            ),
            max_links=max_links,
        )
        self.default_quota = default_quota or QuotaConfig()
        self._quotas: dict[str, QuotaConfig] = {}
        self._lock = self.store.lock
        self._jobs = JobQueue(self.store, self._run_job, job_hook, prepare=self._prepare_job)
        self.recovered_jobs = self._jobs.recover() if db_path else 0
        self._jobs.start()

    # ---------------------------------------------------------------- lifecycle, settings

    def close(self) -> None:
        """Stop the ingest worker and close the database."""
        self._jobs.close()
        self.store.close()

    @property
    def job_hook(self) -> JobHook | None:
        """Called with ``(tenant, payload)`` before each ingest job (fault injection)."""
        return self._jobs.hook

    @job_hook.setter
    def job_hook(self, hook: JobHook | None) -> None:
        self._jobs.hook = hook

    @property
    def link_threshold(self) -> float:
        return self._ingest.link_threshold

    @property
    def duplicate_threshold(self) -> float:
        return self._ingest.duplicate_threshold

    @property
    def max_links(self) -> int:
        return self._ingest.max_links

    @staticmethod
    def tenant_id(api_key: str) -> str:
        """The tenant of an API key: a digest, so the database never holds a key."""
        return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:32]

    def set_quota(self, tenant: str, quota: QuotaConfig) -> None:
        with self._lock:
            self._quotas[tenant] = quota

    def quota(self, tenant: str) -> QuotaConfig:
        return self._quotas.get(tenant, self.default_quota)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued ingest job has run (for tests and the benchmark)."""
        return self._jobs.wait_idle(timeout)

    def native_dimensions(self) -> int:
        """The embedding size the emulator produces (256 with WordLlama, 384 with hashing)."""
        return self.store.dimensions()

    @staticmethod
    def check_patterns(patterns: Sequence[str]) -> list[str]:
        """Check every scope pattern (limits, the accepted subset, RE2 compiles it) before any
        work; a bad one is a 400 naming it."""
        try:
            return validate_patterns(list(patterns), field="scope")
        except InvalidRequestError as exc:
            raise EmulatorBadRequest(
                str(exc), code="INVALID_SCOPE_PATTERN", field=exc.field or "scope"
            ) from exc

    # ---------------------------------------------------------------- rows

    def _row(self, tenant: str, memory_id: str) -> Row:
        found = self.store.rows(tenant, [memory_id]).get(memory_id)
        if found is None:
            raise EmulatorNotFound(f"memory {memory_id!r} was not found")
        return found

    def _memory(self, tenant: str, row: Row) -> dict[str, Any]:
        return wire.memory(row, self.store.index(tenant).adjacency.get(row.id, {}))

    def _require(self, tenant: str, memory_id: str) -> dict[str, Any]:
        return self._memory(tenant, self._row(tenant, memory_id))

    # ---------------------------------------------------------------- ingest

    def submit_ingest(
        self, tenant: str, content: str, scope: Sequence[str] | None, category: str | None
    ) -> dict[str, Any]:
        """Check quotas, queue an ingest job and return it (status ``queued``)."""
        payload = {"content": content, "scope": list(scope or []), "category": category}
        with self._lock:
            enforce_quota(self.quota(tenant), self.store, tenant)
            job_id = self._jobs.submit(tenant, payload)
        return self.get_job(tenant, job_id)

    def get_job(self, tenant: str, job_id: str) -> dict[str, Any]:
        with self._lock:
            row = self.store.job(tenant, job_id)
        if row is None:
            raise EmulatorNotFound(f"ingest job {job_id!r} was not found")
        return wire.job(row)

    def _prepare_job(self, tenant: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The worker's work on a job that needs no lock: embed, settle the candidate filter."""
        candidates = candidate_patterns(payload["scope"])
        vec = self._ingest.embed(payload["content"])
        with self.store.scoped(tenant, [candidates]):
            pass  # settled: the locked run below finds every hit it needs known
        return {"vec": vec, "candidates": candidates}

    def _run_job(self, tenant: str, job_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One job, with the store lock held by the worker (after :meth:`_prepare_job`). A token
        written between the two has no known hit and is no merge or link candidate: nothing is
        matched under the lock."""
        vec = payload.get("vec")
        if vec is None:  # a queue built without prepare
            vec = self._ingest.embed(payload["content"])
        candidates = payload.get("candidates")
        if candidates is None:
            candidates = candidate_patterns(payload["scope"])
        memory_id, action = self._ingest.create_or_merge(
            tenant,
            payload["content"],
            payload["scope"],
            payload["category"],
            vec,
            job_id=job_id,
            candidates=candidates,
        )
        memory = self._require(tenant, memory_id)
        return {"memory_id": memory["id"], "action": action, "memory": memory}

    def ingest_now(
        self,
        tenant: str,
        content: str,
        scope: Sequence[str] | None,
        category: str | None,
        *,
        job_id: str | None = None,
    ) -> tuple[dict[str, Any], str]:
        """Run one ingest synchronously: merge into a near-duplicate or create and link."""
        vec = self._ingest.embed(content)
        candidates = candidate_patterns(scope)
        with self.store.scoped(tenant, [candidates]):
            memory_id, action = self._ingest.create_or_merge(
                tenant, content, scope, category, vec, job_id=job_id, candidates=candidates
            )
            return self._require(tenant, memory_id), action

    def bulk_load(
        self, tenant: str, items: Iterable[tuple[str, Sequence[str], str | None]]
    ) -> list[str]:
        """Insert many memories at once, without linking or duplicate checks (benchmarks)."""
        return self._ingest.bulk_load(tenant, items)

    # ---------------------------------------------------------------- reads and writes

    def get(self, tenant: str, memory_id: str) -> dict[str, Any]:
        with self._lock:
            return self._require(tenant, memory_id)

    def get_many(self, tenant: str, memory_ids: Sequence[str]) -> dict[str, Any]:
        wanted = list(dict.fromkeys(memory_ids))
        with self._lock:
            found = {m: self._memory(tenant, r) for m, r in self.store.rows(tenant, wanted).items()}
        return {
            "memories": [found[m] for m in wanted if m in found],
            "missing_ids": [m for m in wanted if m not in found],
        }

    def update(
        self, tenant: str, memory_id: str, content: str | None, scope: Sequence[str] | None
    ) -> dict[str, Any]:
        if content is None and scope is None:
            raise EmulatorBadRequest(
                "give at least one of content or scope", code="NOTHING_TO_UPDATE"
            )
        vec = self._ingest.embed(content) if content is not None else None
        with self._lock:
            before = self._row(tenant, memory_id).scope
        new_scope = before if scope is None else list(scope)
        candidates = candidate_patterns(new_scope)
        with self.store.scoped(tenant, [candidates], new_scope):
            current = self._row(tenant, memory_id)
            self._ingest.update(tenant, current, content, scope, vec=vec, candidates=candidates)
            return self._require(tenant, memory_id)

    def delete(self, tenant: str, memory_id: str) -> dict[str, Any]:
        with self._lock:
            self._row(tenant, memory_id)
            self._delete_ids(tenant, [memory_id])
        return {"deleted": True, "memory_id": memory_id}

    def _delete_ids(self, tenant: str, ids: Sequence[str]) -> None:
        self.store.delete_memories(tenant, ids)
        self.store.invalidate(tenant)

    def _select(self, idx: TenantIndex, scope: tuple[str, ...], category: str | None) -> list[str]:
        """The ids in scope (``scope`` checked, and settled by :meth:`~.storage.Store.scoped`)."""
        rows: Iterable[int] = idx.scope_rows(scope).tolist() if scope else range(len(idx.ids))
        return [idx.ids[i] for i in rows if category is None or idx.categories[i] == category]

    def delete_bulk(
        self,
        tenant: str,
        *,
        memory_id: str | None = None,
        scope: Sequence[str] = (),
        category: str | None = None,
    ) -> dict[str, Any]:
        patterns = tuple(self.check_patterns(scope)) if not memory_id else ()
        with self.store.scoped(tenant, [patterns]) as idx:
            if memory_id:
                ids = [memory_id] if self.store.brief(tenant, [memory_id]) else []
            elif patterns or category is not None:
                ids = self._select(idx, patterns, category)
            else:
                raise EmulatorBadRequest(
                    "bulk delete needs memory_id, scope or category; refusing to delete everything",
                    code="MISSING_FILTER",
                )
            if ids:
                self._delete_ids(tenant, ids)
        return {"deleted_count": len(ids), "memory_ids": ids}

    def unlink(self, tenant: str, first: str, second: str) -> dict[str, Any]:
        with self._lock:
            self._row(tenant, first)
            self._row(tenant, second)
            removed = self.store.delete_link(tenant, *graph.pair(first, second))
            if removed:
                self.store.invalidate(tenant)
        return {"unlinked": bool(removed), "memory_id_1": first, "memory_id_2": second}

    def stats(self, tenant: str) -> dict[str, Any]:
        with self._lock:
            idx = self.store.index(tenant)
            tokens: Counter[str] = Counter(t for s in idx.scopes for t in s)
            total, links = len(idx.ids), len(idx.edge_keys)
        return {
            "total_memories": total,
            "total_links": links,
            "avg_links_per_memory": round(2 * links / total, 3) if total else 0.0,
            "top_scope": [{"token": t, "count": c} for t, c in tokens.most_common(10)],
        }

    def count(self, tenant: str, scope: Sequence[str] = (), category: str | None = None) -> int:
        patterns = tuple(self.check_patterns(scope))
        with self.store.scoped(tenant, [patterns]) as idx:
            return len(self._select(idx, patterns, category))

    # ---------------------------------------------------------------- search

    def search(
        self,
        tenant: str,
        query: str,
        *,
        k: int = 5,
        scope: Sequence[str] | None = None,
        response_format: str = "raw",
        rerank: bool = False,
        full_scope: bool = False,
    ) -> dict[str, Any]:
        """Unified search over memory nodes and relationship edges (guide section 4.2)."""
        patterns = tuple(self.check_patterns(scope or []))
        if full_scope and not patterns:
            raise EmulatorBadRequest(
                "full_scope needs a non-empty scope filter", code="SCOPE_REQUIRED"
            )
        qvec = None if full_scope else embed_query_vector(self.embeddings, query)
        with self.store.scoped(tenant, [patterns]):
            found = retrieve(
                self.store,
                self.embeddings,
                tenant,
                query,
                k,
                patterns,
                rerank=rerank,
                full_scope=full_scope,
                qvec=qvec,
            )
        synthesis = response_format in ("interpreted", "both")
        return {
            "results": [] if response_format == "interpreted" else found.results,
            "interpreted": interpret(query, found.hits, found.edges) if synthesis else None,
            "interpreted_error": None,
            "scope": list(patterns) if patterns else None,
        }

    # ---------------------------------------------------------------- graph

    def graph_path(self, tenant: str, from_id: str, to_id: str) -> dict[str, Any]:
        with self._lock:
            self._row(tenant, from_id)
            self._row(tenant, to_id)
            path = graph.shortest_path(self.store.index(tenant).adjacency, from_id, to_id)
            if path is None:
                return wire.not_found_path(from_id, to_id)
            rows = self.store.brief(tenant, path)
        return {
            "from_id": from_id,
            "to_id": to_id,
            "found": True,
            "path": path,
            "hops": len(path) - 1,
            "nodes": [wire.graph_node(rows[m]) for m in path],
        }

    def graph_hubs(self, tenant: str, limit: int = 10) -> dict[str, Any]:
        with self._lock:
            ranked = graph.hubs(self.store.index(tenant), limit)
            rows = self.store.brief(tenant, [m for m, _ in ranked])
        return {"hubs": [wire.graph_node(rows[m], degree=d) for m, d in ranked]}

    def graph_neighborhood(self, tenant: str, memory_id: str, hops: int = 1) -> dict[str, Any]:
        with self._lock:
            self._row(tenant, memory_id)
            adjacency = self.store.index(tenant).adjacency
            distance = graph.within_hops(adjacency, memory_id, hops)
            rows = self.store.brief(tenant, list(distance))
            edges = graph.links_among(adjacency, distance)
        return {
            "memory_id": memory_id,
            "hops": hops,
            "nodes": [wire.graph_node(rows[m], distance=d) for m, d in distance.items()],
            "edges": [wire.graph_edge(*edge) for edge in edges],
        }

    def graph_export(self, tenant: str) -> dict[str, Any]:
        with self._lock:
            idx = self.store.index(tenant)
            rows = self.store.brief(tenant, idx.ids)
            return {
                "nodes": [wire.graph_node(rows[m]) for m in idx.ids],
                "edges": [
                    wire.graph_edge(a, b, d)
                    for (a, b), d in zip(idx.edge_keys, idx.edge_descriptions, strict=True)
                ],
            }

    def graph_traverse(
        self,
        tenant: str,
        start_memory_id: str,
        query: str,
        *,
        max_hops: int = 2,
        edge_similarity_threshold: float = 0.7,
        scope: Sequence[str] = (),
    ) -> dict[str, Any]:
        patterns = tuple(self.check_patterns(scope))
        reply: dict[str, Any] = {"start_memory_id": start_memory_id, "query": query}
        qvec = embed_query_vector(self.embeddings, query)
        with self.store.scoped(tenant, [patterns]) as idx:
            self._row(tenant, start_memory_id)
            if not idx.matches(start_memory_id, patterns):
                return {**reply, "visited": [], "edges": [], "visited_count": 0, "edge_count": 0}
            walk = graph.traverse(
                idx,
                start_memory_id,
                qvec,
                max_hops=max_hops,
                threshold=edge_similarity_threshold,
                patterns=patterns,
            )
            rows = self.store.brief(tenant, list(walk.hop_of))
        visited = [wire.graph_node(rows[m], hop=h) for m, h in walk.hop_of.items()]
        return {
            **reply,
            "visited": visited,
            "edges": [wire.followed_edge(f) for f in walk.followed],
            "visited_count": len(visited),
            "edge_count": len(walk.followed),
        }
