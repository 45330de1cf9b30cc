"""``RecallIndex``: candidates by meaning for a container, read back from the daemon under trust.

The write path (:meth:`RecallIndex.on_written`, :meth:`on_retired`, :meth:`on_contested`) is
called by our Membrane clients after the daemon accepted a write, never before and never for a
refused one. The read path (:meth:`RecallIndex.recall` / :meth:`arecall`) ranks the container's
entries lexically (full-text) and, with an embedder, by vector, fuses the two rankings with
``core.ranking.rank_fusion`` and then reads each candidate with ``RetrieveByID`` under the
caller's trust context: the daemon decides what comes back. A candidate it does not return is
dropped; one that no longer exists (NOT_FOUND) or was retracted (salience 0) is removed from
the index. So an index ahead of the daemon (a crash between a write and its reply) never yields
a record the daemon lacks, and an index holding anything never widens what a caller sees.

The read path is written once as a sans-IO generator (:func:`_read`) that yields the ids to
fetch; the sync driver fetches them on a small thread pool, the async one with ``gather``.

Example (no daemon needed to rank):
    >>> import tempfile, os
    >>> from membrane_integrations.membrane.recall_index import RecallIndex, SQLiteStore
    >>> from membrane_integrations.membrane.types import MemoryRecord, SemanticPayload
    >>> index = RecallIndex(SQLiteStore(os.path.join(tempfile.mkdtemp(), "i.sqlite3")),
    ...                     embedder=None)
    >>> for i, fact in enumerate(["I drink green tea", "We deployed on Friday"]):
    ...     index.on_written(MemoryRecord(id=f"r{i}", scope="bob", salience=1.0,
    ...         payload=SemanticPayload(subject="user", predicate="said", object=fact)))
    >>> index.candidates("bob", "what tea do I drink?", 5)
    ['r0', 'r1']
    >>> index.close()
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...core.ranking import hybrid_order, rank_fusion, tokenize
from ..errors import MembraneNotFoundError, MembranePermissionDeniedError
from ..models import MemoryRecord, MemoryType
from ..tenancy import MembraneView
from .entries import index_text
from .store import Entry, IndexStore

if TYPE_CHECKING:
    from ..client import AsyncMembraneClient, MembraneClient

__all__ = ["Missing", "RecallIndex"]

logger = logging.getLogger("membrane_integrations.membrane.recall_index")

#: Candidates ranked per query: this many per requested record, at least ``_POOL_FLOOR``.
_POOL_FACTOR = 5
_POOL_FLOOR = 50
_FETCH_WORKERS = 8


@dataclass(frozen=True)
class Missing:
    """What the daemon said instead of a record: ``gone`` (NOT_FOUND) or not visible."""

    gone: bool


Fetched = MemoryRecord | Missing
ReadFlow = Generator[list[str], list[Fetched], list[MemoryRecord]]


class RecallIndex:
    """A recall index over one store, with an optional embedder (``None``: lexical only).

    ``embedder``: anything with ``embed_matrix(texts) -> (n, d) array`` (our
    :class:`~membrane_integrations.embeddings.WordLlamaEmbedder`) or LangChain ``Embeddings``
    (``embed_documents`` / ``embed_query``). Every process sharing a store must use the same one.
    """

    def __init__(
        self, store: IndexStore, *, embedder: Any = None, sync_interval: float = 30.0
    ) -> None:
        if sync_interval <= 0:
            raise ValueError("sync_interval must be positive")
        self.store = store
        self.embedder = embedder
        self.sync_interval = sync_interval
        self.first_sync_timeout = 60.0
        self._syncer: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        name = type(self.embedder).__name__ if self.embedder is not None else None
        return f"RecallIndex({self.store!r}, embedder={name})"

    # --- embedding -------------------------------------------------------------------------

    def _embed(self, texts: list[str]) -> Any:
        import numpy as np

        embedder = self.embedder
        matrix = getattr(embedder, "embed_matrix", None)
        rows = matrix(texts) if matrix is not None else embedder.embed_documents(texts)
        out = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0.0] = 1.0
        return out / norms

    def _embed_query(self, text: str) -> Any:
        embedder = self.embedder
        if getattr(embedder, "embed_matrix", None) is not None:
            return self._embed([text])[0]
        import numpy as np

        return np.asarray(embedder.embed_query(text), dtype=np.float32)

    def entries(self, records: Sequence[MemoryRecord]) -> list[Entry]:
        """The entries of the records that have text (redacted copies have none)."""
        kept = [(r, text) for r in records if r.id and (text := index_text(r)) is not None]
        if not kept:
            return []
        vectors: Any = [None] * len(kept)
        if self.embedder is not None:
            vectors = self._embed([text for _, text in kept])
        return [
            Entry(
                id=r.id,
                scope=r.scope,
                text=text,
                terms=" ".join(tokenize(text)),
                vector=vector,
                status=_status(r),
            )
            for (r, text), vector in zip(kept, vectors, strict=True)
        ]

    # --- write path ------------------------------------------------------------------------

    def on_written(self, record: MemoryRecord, *, retired: Sequence[str] = ()) -> None:
        """After the daemon stored ``record`` (and retired ``retired``: supersede, merge)."""
        self._guard(self._written, record, retired)

    def on_retired(self, record_ids: Sequence[str]) -> None:
        """After the daemon retracted these records."""
        self._guard(self.store.remove, list(record_ids))

    def on_contested(self, record_id: str) -> None:
        """After the daemon marked a record contested (it stays a candidate)."""
        self._guard(self.store.set_status, record_id, "contested")

    def _written(self, record: MemoryRecord, retired: Sequence[str]) -> None:
        if record.salience <= 0.0 or record.redacted:
            self.store.remove([record.id])
        else:
            self.store.upsert(self.entries([record]))
        if retired:
            self.store.remove([i for i in retired if i != record.id])

    def add_records(self, records: Sequence[MemoryRecord]) -> int:
        """Index ``records`` as read from the daemon (the sync); returns how many were new."""
        live = [r for r in records if r.salience > 0.0 and not r.redacted]
        known = self.store.known([r.id for r in live])
        fresh = [r for r in live if r.id not in known]
        entries = self.entries(fresh)
        self.store.upsert(entries)
        return len(entries)

    @staticmethod
    def _guard(fn: Any, *args: Any) -> None:
        # The daemon already has the write: an index failure must not turn it into an error.
        # The sync repairs an index that fell behind.
        try:
            fn(*args)
        except Exception:
            logger.warning("recall index update failed; the next sync repairs it", exc_info=True)

    # --- ranking ---------------------------------------------------------------------------

    def candidates(self, scope: str | None, query: str, limit: int) -> list[str]:
        """Up to ``limit`` ids of ``scope`` for ``query``, best first.

        The store's full-text and vector searches each propose ``limit`` ids (fused by rank,
        ``core.ranking.rank_fusion``); that pool is then ordered by ``core.ranking``'s hybrid
        ranking (BM25 over the pool's texts with the cosine of their stored vectors), the one
        every re-rank in the package uses. Short of ``limit``, the newest entries follow, so a
        query with no match still recalls the latest records.
        """
        rankings: list[list[str]] = []
        terms = tokenize(query)
        query_vector = None
        if terms:
            rankings.append(self.store.lexical(scope, terms, limit))
        if self.embedder is not None and query.strip():
            query_vector = self._embed_query(query)
            rankings.append(self.store.semantic(scope, query_vector, limit))
        pool = rank_fusion(rankings)[:limit] if rankings else []
        if len(pool) > 1:
            pool = self._hybrid(query, pool, query_vector)
        if len(pool) < limit:
            seen = set(pool)
            pool += [i for i in self.store.recent(scope, limit) if i not in seen]
        return pool[:limit]

    def _hybrid(self, query: str, pool: list[str], query_vector: Any) -> list[str]:
        contents = self.store.contents(pool)
        pool = [i for i in pool if i in contents]
        texts = [contents[i][0] for i in pool]
        vectors = [contents[i][1] for i in pool]
        if query_vector is None or any(v is None for v in vectors):
            order = hybrid_order(query, texts)
        else:
            order = hybrid_order(query, texts, query_vector=query_vector, vectors=vectors)
        return [pool[i] for i in order]

    # --- read path -------------------------------------------------------------------------

    def _pool(self, view: MembraneView, query: str, limit: int) -> list[str]:
        return self.candidates(view.scope or None, query, max(limit * _POOL_FACTOR, _POOL_FLOOR))

    def _read(
        self,
        view: MembraneView,
        ids: list[str],
        limit: int,
        min_salience: float,
        memory_types: Sequence[MemoryType | str] | None,
    ) -> ReadFlow:
        types = None if memory_types is None else {MemoryType(t) for t in memory_types}
        kept: list[MemoryRecord] = []
        stale: list[str] = []
        start = 0
        while len(kept) < limit and start < len(ids):
            batch = ids[start : start + max(limit - len(kept), 1) + 2]
            start += len(batch)
            fetched = yield batch
            for record_id, got in zip(batch, fetched, strict=True):
                if isinstance(got, Missing):
                    if got.gone:
                        stale.append(record_id)
                    continue
                if got.id != record_id or got.salience <= 0.0:
                    stale.append(record_id)
                    continue
                if not view.visible(got) or got.salience < min_salience:
                    continue
                if types is not None and got.type not in types:
                    continue
                if len(kept) < limit:
                    kept.append(got)
        if stale:
            self._guard(self.store.remove, stale)
        return kept

    def recall(
        self,
        client: MembraneClient,
        view: MembraneView,
        query: str,
        limit: int,
        *,
        min_salience: float = 0.0,
        memory_types: Sequence[MemoryType | str] | None = None,
    ) -> list[MemoryRecord]:
        """Up to ``limit`` records of the view for ``query``, best first, as the daemon shows
        them to ``view.trust`` (sync)."""
        self._ensure_synced(client, view)
        trust = view.trust
        ids = self._pool(view, query, limit)
        flow = self._read(view, ids, limit, min_salience, memory_types)

        def one(record_id: str) -> Fetched:
            try:
                return client.retrieve_by_id(record_id, trust=trust)
            except MembraneNotFoundError:
                return Missing(gone=True)
            except MembranePermissionDeniedError:
                return Missing(gone=False)

        try:
            batch = next(flow)
            while True:
                batch = flow.send(list(_fetchers().map(one, batch)))
        except StopIteration as done:
            result: list[MemoryRecord] = done.value
            return result

    async def arecall(
        self,
        client: AsyncMembraneClient,
        view: MembraneView,
        query: str,
        limit: int,
        *,
        min_salience: float = 0.0,
        memory_types: Sequence[MemoryType | str] | None = None,
    ) -> list[MemoryRecord]:
        """Like :meth:`recall`, async."""
        await self._aensure_synced(client, view)
        trust = view.trust
        # ranking is CPU and store I/O: off the event loop
        ids = await asyncio.to_thread(self._pool, view, query, limit)
        flow = self._read(view, ids, limit, min_salience, memory_types)

        async def one(record_id: str) -> Fetched:
            try:
                return await client.retrieve_by_id(record_id, trust=trust)
            except MembraneNotFoundError:
                return Missing(gone=True)
            except MembranePermissionDeniedError:
                return Missing(gone=False)

        try:
            batch = next(flow)
            while True:
                batch = flow.send(list(await asyncio.gather(*(one(i) for i in batch))))
        except StopIteration as done:
            result: list[MemoryRecord] = done.value
            return result

    # --- sync ------------------------------------------------------------------------------

    def _ensure_synced(self, client: Any, view: MembraneView) -> None:
        job = self.watch(client, view)
        if not job.done.is_set():
            job.done.wait(self.first_sync_timeout)
        self._raise_first_failure(job)

    async def _aensure_synced(self, client: Any, view: MembraneView) -> None:
        job = self.watch(client, view)
        if not job.done.is_set():
            await asyncio.to_thread(job.done.wait, self.first_sync_timeout)
        self._raise_first_failure(job)

    def _raise_first_failure(self, job: Any) -> None:
        # The view's sync has never succeeded and its last round failed. With nothing indexed
        # for the view, the recall fails as a daemon read would. With entries it goes on: each
        # candidate is still read from the daemon (which fails the recall if the daemon is
        # unreachable), and v0.2.0 on SQLite cannot list ~32k or more records of one type at all
        # ("too many SQL variables") while RetrieveByID still works. The job stays scheduled.
        error = job.error
        if job.synced or error is None:
            return
        if self.store.count(job.view.scope or None) == 0:
            raise error
        if not job.warned:
            job.warned = True
            logger.warning("recall index: sync failed (%s); recalling from the index", error)

    def watch(self, client: Any, view: MembraneView) -> Any:
        """Keep ``view``'s records synced from the daemon: at once (the first recall of a view
        waits for it, up to ``first_sync_timeout`` seconds), then every ``sync_interval``
        seconds, on a background thread. Returns the sync job (``done`` set after its first)."""
        from .sync import syncer_for

        with self._lock:
            if self._syncer is None:
                self._syncer = syncer_for(self)
        return self._syncer.watch(client, view)

    def sync(self, client: MembraneClient, view: MembraneView, *, full: bool = False) -> int:
        """Index the view's records the index lacks, newest first; returns how many."""
        from .sync import _sync_client, sync_once

        with _sync_client(client) as twin:
            return sync_once(self, twin, view, full=full)

    def rebuild(self, client: MembraneClient, view: MembraneView) -> int:
        """Forget the view's scope and index it again from the daemon alone (one call)."""
        self.store.clear(view.scope or None)
        return self.sync(client, view, full=True)

    def close(self) -> None:
        """Stop the scheduled sync and close the store."""
        syncer = self._syncer
        if syncer is not None:
            syncer.stop()
        self.store.close()


def _status(record: MemoryRecord) -> str:
    revision = getattr(record.payload, "revision", None)
    status = getattr(revision, "status", None)
    value = getattr(status, "value", status)
    return "contested" if value == "contested" else "active"


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _fetchers() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(_FETCH_WORKERS, thread_name_prefix="membrane-recall")
        return _executor
