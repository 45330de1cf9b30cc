"""Writing memories the way the hosted service does: merge near-duplicates, link neighbours.

An ingest embeds the content, compares it with the tenant's memories that share a scope token
(each stored token is used as a filter, literally when it is not a valid regex), and either
merges into a near-duplicate (cosine at or above ``duplicate_threshold`` and no number
changed) or creates a memory linked to up to ``max_links`` neighbours at or above
``link_threshold``. Each link gets a description (:func:`~.synthesis.link_description`),
embedded so edges are searchable. An update that changes the content or scope relinks.

The caller embeds first (:meth:`Ingest.embed`, no lock), turns the scope into its candidate
filter (:func:`candidate_patterns`), and holds :meth:`~.storage.Store.scoped` for that filter
around :meth:`Ingest.create_or_merge` and :meth:`Ingest.update`, so the tokens are matched
before the lock is taken; :meth:`Ingest.bulk_load` takes the lock itself after embedding.

Example:
    >>> from .embeddings import HashingEmbeddings
    >>> from .storage import Store
    >>> store = Store(None, HashingEmbeddings())
    >>> ingest = Ingest(store, link_threshold=0.3, duplicate_threshold=0.95, max_links=5)
    >>> vec = ingest.embed("Invoice 12 paid")
    >>> filters = candidate_patterns(["c"])
    >>> for _ in range(2):
    ...     with store.scoped("t", [filters], ["c"]):
    ...         print(ingest.create_or_merge("t", "Invoice 12 paid", ["c"], None, vec,
    ...                                      job_id=None, candidates=filters)[1])
    created
    updated
    >>> store.close()
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..core.errors import InvalidRequestError
from ..core.scope import compile_pattern, escape_literal
from .embeddings import embed_matrix, embed_query_vector
from .graph import pair
from .search import top
from .storage import Row, Store, now_iso
from .synthesis import link_description

__all__ = ["Ingest", "candidate_patterns"]

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers(text: str) -> list[str]:
    return sorted(_NUMBER.findall(text))


def _as_regex(token: str) -> str | None:
    """A stored token used as a candidate filter during ingest (literal when it is not a
    pattern of the accepted subset; ``None`` when not even its literal compiles)."""
    for pattern in (token, escape_literal(token)):
        try:
            compile_pattern(pattern)
        except InvalidRequestError:
            continue
        return pattern
    return None


def candidate_patterns(scope: Sequence[str] | None) -> tuple[str, ...]:
    """The filter that picks merge and link candidates for a memory with ``scope`` (each token
    read as a pattern, as the hosted service does; AND across them). Compiles, never matches:
    call it before taking the lock.

    >>> candidate_patterns(["container.a", "x(y"])
    ('container.a', 'x\\\\(y')
    """
    patterns = (_as_regex(t) for t in dict.fromkeys(scope or []))
    return tuple(p for p in patterns if p is not None)


class Ingest:
    """Creates, merges, updates and links memories in a :class:`~.storage.Store`."""

    def __init__(
        self, store: Store, *, link_threshold: float, duplicate_threshold: float, max_links: int
    ) -> None:
        self.store = store
        self.link_threshold = link_threshold
        self.duplicate_threshold = duplicate_threshold
        self.max_links = max_links

    def embed(self, content: str) -> npt.NDArray[np.float32]:
        """The content's vector (done before taking the lock: embedding is the slow part)."""
        return embed_query_vector(self.store.embeddings, content)

    def create_or_merge(
        self,
        tenant: str,
        content: str,
        scope: Sequence[str] | None,
        category: str | None,
        vec: npt.NDArray[np.float32],
        *,
        job_id: str | None,
        candidates: tuple[str, ...],
    ) -> tuple[str, str]:
        """Merge into a near-duplicate or create and link; the memory id and ``"updated"`` or
        ``"created"``. ``vec`` is :meth:`embed` of ``content``; ``candidates`` is
        :func:`candidate_patterns` of ``scope``, settled by :meth:`~.storage.Store.scoped`."""
        tokens = list(dict.fromkeys(scope or []))
        with self.store.lock:
            idx = self.store.index(tenant)
            in_scope = np.ones(len(idx.ids), dtype=np.bool_)
            if candidates:
                in_scope = idx.scope_mask(candidates)
            sims = np.where(in_scope, idx.node_scores(vec), -1.0) if idx.ids else np.zeros(0)
            order = [i for i, _ in top(sims, self.max_links)]
            if len(order) and self._is_duplicate(tenant, idx.ids[int(order[0])], content, sims):
                target = idx.ids[int(order[0])]
                self._merge(tenant, target, content, tokens, category, vec, job_id)
                return target, "updated"
            memory_id = str(uuid.uuid4())
            self.store.insert_memories(
                tenant, [(memory_id, content, tokens, category, vec)], now_iso()
            )
            neighbours = [idx.ids[int(i)] for i in order if sims[int(i)] >= self.link_threshold]
            idx.add_node(memory_id, tuple(tokens), category, vec)
            self._link(tenant, memory_id, content, neighbours)
            return memory_id, "created"

    def update(
        self,
        tenant: str,
        current: Row,
        content: str | None,
        scope: Sequence[str] | None,
        *,
        vec: npt.NDArray[np.float32] | None,
        candidates: tuple[str, ...],
    ) -> None:
        """Replace the content and/or scope of ``current``, record it in the history, relink.
        ``vec``: :meth:`embed` of ``content`` when given; ``candidates``:
        :func:`candidate_patterns` of the new scope, settled by :meth:`~.storage.Store.scoped`."""
        new_content = current.content if content is None else content
        new_scope = current.scope if scope is None else list(dict.fromkeys(scope))
        if content is not None:
            vec = embed_query_vector(self.store.embeddings, new_content) if vec is None else vec
        else:
            idx = self.store.index(tenant)
            vec = idx.nodes.view()[idx.pos[current.id]].copy()
        entry = {
            "action": "updated",
            "at": now_iso(),
            "previous_content": current.content,
            "previous_scope": current.scope,
        }
        self._write(
            tenant,
            current.id,
            new_content,
            new_scope,
            current.category,
            vec,
            [*current.evolution, entry],
            relink=True,
            candidates=candidates,
        )

    def bulk_load(
        self, tenant: str, items: Iterable[tuple[str, Sequence[str], str | None]]
    ) -> list[str]:
        """Insert many memories at once, without linking or duplicate checks (benchmarks)."""
        batch = list(items)
        vectors = embed_matrix(self.store.embeddings, [c for c, _, _ in batch])
        ids = [str(uuid.uuid4()) for _ in batch]
        rows = [
            (mid, c, s, cat, v) for mid, (c, s, cat), v in zip(ids, batch, vectors, strict=True)
        ]
        stamp = now_iso()
        with self.store.lock:
            with self.store.transaction():
                self.store.insert_memories(tenant, rows, stamp)
            idx = self.store.cached_index(tenant)
            if idx is not None:
                for mid, _, s, cat, v in rows:
                    idx.add_node(mid, tuple(s), cat, v)
        return ids

    def _is_duplicate(
        self, tenant: str, candidate: str, content: str, sims: npt.NDArray[np.float64]
    ) -> bool:
        """Near enough to merge, and no number changed (a static embedder barely sees digits,
        so "Invoice 12 paid" and "Invoice 13 paid" would otherwise merge)."""
        idx = self.store.index(tenant)
        if float(sims[idx.pos[candidate]]) < self.duplicate_threshold:
            return False
        existing = self.store.brief(tenant, [candidate])[candidate].content
        return _numbers(existing) == _numbers(content)

    def _link(self, tenant: str, memory_id: str, content: str, neighbours: Sequence[str]) -> None:
        if not neighbours:
            return
        idx = self.store.index(tenant)
        others = self.store.brief(tenant, neighbours)
        pairs = [(n, link_description(content, others[n].content)) for n in neighbours]
        vectors = embed_matrix(self.store.embeddings, [d for _, d in pairs])
        for (other, desc), dvec in zip(pairs, vectors, strict=True):
            a, b = pair(memory_id, other)
            self.store.insert_link(tenant, a, b, desc, dvec)
            idx.add_edge(a, b, desc, dvec)

    def _merge(
        self,
        tenant: str,
        target: str,
        content: str,
        tokens: list[str],
        category: str | None,
        vec: npt.NDArray[Any],
        job_id: str | None,
    ) -> None:
        current = self.store.rows(tenant, [target])[target]
        entry = {
            "action": "merged_duplicate",
            "at": now_iso(),
            "previous_content": current.content,
            "new_content": content,
            "job_id": job_id,
        }
        self._write(
            tenant,
            target,
            content,
            list(dict.fromkeys([*current.scope, *tokens])),
            category or current.category,
            vec,
            [*current.evolution, entry],
            relink=False,
        )

    def _write(
        self,
        tenant: str,
        memory_id: str,
        content: str,
        scope: list[str],
        category: str | None,
        vec: npt.NDArray[Any],
        evolution: list[dict[str, Any]],
        *,
        relink: bool,
        candidates: tuple[str, ...] = (),
    ) -> None:
        self.store.update_memory(
            tenant,
            memory_id,
            content=content,
            scope=scope,
            category=category,
            stamp=now_iso(),
            evolution=evolution,
            vec=vec,
        )
        if not relink:
            self.store.index(tenant).update_node(memory_id, tuple(scope), category, vec)
            return
        self.store.delete_links_of(tenant, memory_id)
        self.store.invalidate(tenant)
        idx = self.store.index(tenant)
        in_scope = idx.scope_mask(candidates) if candidates else None
        sims = idx.node_scores(vec).copy()
        sims[idx.pos[memory_id]] = -1.0
        if in_scope is not None:
            sims = np.where(in_scope, sims, -1.0)
        order = [i for i, _ in top(sims, self.max_links)]
        neighbours = [idx.ids[int(i)] for i in order if sims[int(i)] >= self.link_threshold]
        self._link(tenant, memory_id, content, neighbours)
