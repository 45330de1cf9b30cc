"""``MembraneStore``: a LangGraph ``BaseStore`` on the Membrane daemon (one scope, many namespaces).

How an item is stored. Each ``(namespace, key)`` is one **semantic** record of the store's
scope, written through :class:`~membrane_integrations.membrane.tenancy.MembraneView`:
``subject`` = ``langgraph-store:`` + the namespace as JSON, ``predicate`` = the key,
``object`` = a JSON envelope (namespace, key, value, created_at, updated_at), tag
``langgraph-store``. Revisions are the daemon's own:

* ``put`` on an existing key **supersedes** its record (the old version is kept, retracted and
  linked by a ``supersedes`` relation, with the store's actor in the audit log);
* ``put(value=None)`` / ``delete`` **retracts** it (salience 0, kept for audit).

What the daemon cannot do, and what the store does instead:

* It has no listing by namespace, subject or scope prefix, and no index by key: every read
  retrieves the scope's semantic records (``limit=0``, ``min_salience=0`` so that decay never
  hides an item), drops the versions whose revision status is ``retracted`` (superseded or
  deleted), and selects by the envelope here. Reads are
  therefore linear in the scope's semantic records; keep one store scope per tenant.
* Its SQLite store does not match the query text (spec 4.10). A query search is ranked here
  when ``embeddings`` (any LangChain ``Embeddings``) is given: cosine of the query and each
  value's JSON, score on the ``SearchItem``; without it the query is ignored, as in an
  ``InMemoryStore`` without an index (most recently updated first, score ``None``).
* Visibility is the daemon's trust rule, fixed by the application: only records whose scope
  equals the store's scope are ever read or revised, a caller cannot name another scope.

TTL (``supports_ttl`` is True; ``ttl=`` a LangGraph ``TTLConfig``): an item's expiry is two tags
of its record (:mod:`membrane_integrations.membrane.expiry`), set at ingest or by the
superseding version of a ``put``; a refresh on read supersedes the record with the new expiry
(one revision per refreshing read of an item with a TTL; reads without ``refresh_ttl`` write
nothing); :meth:`sweep_ttl` **retracts** every expired record of the scope (audited, pruned at
the daemon's next decay pass), captured notes with a TTL included; ``omit_expired`` hides
expired items from reads before the sweep. The daemon's own decay is not used to expire
items: it runs on the daemon's clock and schedule, from the last reinforcement, so it cannot
give LangGraph's exact expiry or refresh.

Example:
    >>> from membrane_integrations.membrane.daemon import LocalMembraned, find_membraned
    >>> with LocalMembraned(find_membraned(quiet=True)) as daemon, daemon.client() as client:
    ...     store = MembraneStore(client=client, scope="alice", actor="app")
    ...     store.put(("alice", "prefs"), "food", {"likes": "pizza"})
    ...     store.put(("alice", "prefs"), "food", {"likes": "sushi"})
    ...     print(store.get(("alice", "prefs"), "food").value)
    ...     print(store.list_namespaces())
    {'likes': 'sushi'}
    [('alice', 'prefs')]
"""

from __future__ import annotations

import inspect
import json
from datetime import datetime
from typing import Any

from langgraph.store.base import TTLConfig

from ..core.errors import InvalidRequestError
from ..core.rerank import cosine
from ..core.ttl import Clock, Expiry
from ..membrane import expiry as membrane_expiry
from ..membrane.tenancy import MembraneView
from ..membrane.types import MemoryRecord, RevisionStatus, SemanticPayload, TrustContext
from ._clients import ClientPair
from ._store_base import BackendStore, Envelope, Row

__all__ = ["MembraneStore"]

SUBJECT_PREFIX = "langgraph-store:"
TAG = "langgraph-store"
_REFRESHED = "ttl refreshed on read"


def subject(namespace: tuple[str, ...]) -> str:
    """The record subject of a namespace.

    >>> subject(("alice", "prefs"))
    'langgraph-store:["alice","prefs"]'
    """
    return SUBJECT_PREFIX + json.dumps(list(namespace), ensure_ascii=False, separators=(",", ":"))


class MembraneStore(BackendStore):
    """LangGraph store on membraned, confined to one scope (see the module doc).

    Args:
        client: a ``MembraneClient`` or ``AsyncMembraneClient`` (the other flavour is derived).
        async_client: the async client, when both are given.
        scope: the record scope of every item (the application's tenant, never a model's).
        actor: recorded on every revision.
        trust: the application's ``TrustContext`` (its ceiling; scopes default to ``[scope]``).
        embeddings: optional LangChain ``Embeddings`` that rank query searches.
        ttl: LangGraph's ``TTLConfig`` (``default_ttl``, ``refresh_on_read``, ``omit_expired``,
            ``sweep_interval_minutes``); items without a ``ttl`` never expire.
        clock: what "now" is for expiries and timestamps (default: the system clock).
    """

    __slots__ = ("_embeddings", "_pair", "_view")

    def __init__(
        self,
        *,
        client: Any = None,
        async_client: Any = None,
        scope: str,
        actor: str = "langgraph-store",
        trust: TrustContext | None = None,
        embeddings: Any = None,
        ttl: TTLConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._init_ttl(ttl, clock)
        if not isinstance(scope, str) or not scope:
            raise InvalidRequestError("a MembraneStore needs a non-empty scope", field="scope")
        self._pair = ClientPair.given(client, async_client)
        self._view = MembraneView(trust or TrustContext(), actor=actor, scope=scope)
        self._embeddings = embeddings

    def __repr__(self) -> str:
        return f"MembraneStore(scope={self._view.scope!r})"

    # --- pure helpers -------------------------------------------------------------------------

    def _parse(self, records: list[MemoryRecord], prefix: tuple[str, ...]) -> list[Row]:
        rows = []
        for record in records:
            payload = record.payload
            if not self._view.visible(record) or not isinstance(payload, SemanticPayload):
                continue
            if payload.revision is not None and payload.revision.status == RevisionStatus.RETRACTED:
                continue  # superseded or deleted
            if not payload.subject.startswith(SUBJECT_PREFIX):
                continue
            item = Envelope.from_data(payload.object)
            if item is None or item.namespace[: len(prefix)] != prefix:
                continue
            if payload.subject != subject(item.namespace) or payload.predicate != item.key:
                continue
            rows.append(Row(record.id, item, membrane_expiry.expiry_of(record)))
        return rows

    def _retrieve_args(self) -> dict[str, Any]:
        return {
            "trust": self._view.trust,
            "memory_types": ["semantic"],
            "min_salience": 0.0,  # a decayed item is still stored: only retraction removes
            "limit": 0,
        }

    def _new(self, item: Envelope, expiry: Expiry | None) -> dict[str, Any]:
        return {
            "subject": subject(item.namespace),
            "predicate": item.key,
            "obj": json.loads(item.to_json()),
            "sensitivity": self._view.write_sensitivity(None),
            "tags": membrane_expiry.with_expiry([TAG], expiry),
            "scope": self._view.scope,
        }

    def _superseding(
        self, old: MemoryRecord, item: Envelope, expiry: Expiry | None
    ) -> dict[str, Any]:
        record = old.to_dict()
        record["tags"] = membrane_expiry.with_expiry(record.get("tags") or [], expiry)
        record["id"] = ""
        record["audit_log"] = []  # the new version starts its own trail
        record["relations"] = []
        record["salience"] = 1.0
        record["payload"]["object"] = json.loads(item.to_json())
        record["payload"].pop("revision", None)
        return record

    def _ranked(
        self, rows: list[Row], query_vector: list[float], vectors: list[list[float]]
    ) -> list[tuple[Row, float | None]]:
        scored = [(row, cosine(query_vector, v)) for row, v in zip(rows, vectors, strict=True)]
        scored.sort(key=lambda pair: -pair[1])
        return [(row, score) for row, score in scored]

    @staticmethod
    def _text(row: Row) -> str:
        return json.dumps(row.item.value, ensure_ascii=False)

    # --- sync primitives ----------------------------------------------------------------------

    def _rows(self, prefix: tuple[str, ...]) -> list[Row]:
        records = self._pair.for_sync().retrieve("", **self._retrieve_args())
        return self._parse(records, prefix)

    def _key_rows(self, namespace: tuple[str, ...], key: str) -> list[Row]:
        return [
            r for r in self._rows(namespace) if r.item.namespace == namespace and r.item.key == key
        ]

    def _write(self, item: Envelope, existing: list[Row], expiry: Expiry | None) -> None:
        client = self._pair.for_sync()
        if not existing:
            client.ingest_observation(**self._new(item, expiry))
            return
        actor = self._view.trust.actor_id
        old = client.retrieve_by_id(existing[0].id, trust=self._view.trust)
        client.supersede(old.id, self._superseding(old, item, expiry), actor, "put")
        for extra in existing[1:]:
            client.retract(extra.id, actor, "duplicate of a superseded key")

    def _refresh(self, row: Row, expiry: Expiry) -> None:
        client = self._pair.for_sync()
        old = client.retrieve_by_id(row.id, trust=self._view.trust)
        new = self._superseding(old, row.item, expiry)
        client.supersede(old.id, new, self._view.trust.actor_id, _REFRESHED)

    def _sweep(self, now: datetime) -> int:
        return membrane_expiry.sweep(self._pair.for_sync(), self._view, now)

    def _remove(self, namespace: tuple[str, ...], key: str, existing: list[Row]) -> None:
        client = self._pair.for_sync()
        for row in existing:
            client.retract(row.id, self._view.trust.actor_id, "deleted from the store")

    def _rank(
        self, prefix: tuple[str, ...], query: str, limit: int
    ) -> list[tuple[Row, float | None]] | None:
        if self._embeddings is None:
            return None
        rows = self._rows(prefix)
        if not rows:
            return []
        vectors = self._embeddings.embed_documents([self._text(r) for r in rows])
        return self._ranked(rows, self._embeddings.embed_query(query), vectors)

    # --- async primitives ---------------------------------------------------------------------

    async def _arows(self, prefix: tuple[str, ...]) -> list[Row]:
        records = await self._pair.for_async().retrieve("", **self._retrieve_args())
        return self._parse(records, prefix)

    async def _akey_rows(self, namespace: tuple[str, ...], key: str) -> list[Row]:
        rows = await self._arows(namespace)
        return [r for r in rows if r.item.namespace == namespace and r.item.key == key]

    async def _awrite(self, item: Envelope, existing: list[Row], expiry: Expiry | None) -> None:
        client = self._pair.for_async()
        if not existing:
            await client.ingest_observation(**self._new(item, expiry))
            return
        actor = self._view.trust.actor_id
        old = await client.retrieve_by_id(existing[0].id, trust=self._view.trust)
        await client.supersede(old.id, self._superseding(old, item, expiry), actor, "put")
        for extra in existing[1:]:
            await client.retract(extra.id, actor, "duplicate of a superseded key")

    async def _arefresh(self, row: Row, expiry: Expiry) -> None:
        client = self._pair.for_async()
        old = await client.retrieve_by_id(row.id, trust=self._view.trust)
        new = self._superseding(old, row.item, expiry)
        await client.supersede(old.id, new, self._view.trust.actor_id, _REFRESHED)

    async def _asweep(self, now: datetime) -> int:
        return await membrane_expiry.asweep(self._pair.for_async(), self._view, now)

    async def _aremove(self, namespace: tuple[str, ...], key: str, existing: list[Row]) -> None:
        client = self._pair.for_async()
        for row in existing:
            await client.retract(row.id, self._view.trust.actor_id, "deleted from the store")

    async def _arank(
        self, prefix: tuple[str, ...], query: str, limit: int
    ) -> list[tuple[Row, float | None]] | None:
        if self._embeddings is None:
            return None
        rows = await self._arows(prefix)
        if not rows:
            return []
        texts = [self._text(r) for r in rows]
        vectors = await _maybe_async(self._embeddings, "documents", texts)
        return self._ranked(rows, await _maybe_async(self._embeddings, "query", query), vectors)

    def close(self) -> None:
        """Stop the sweeper thread; close the clients this store derived (not the given ones)."""
        self.stop_ttl_sweeper()
        self._pair.close()


async def _maybe_async(embeddings: Any, what: str, arg: Any) -> Any:
    method = getattr(embeddings, f"aembed_{what}", None)
    if method is not None:
        result = method(arg)
        if inspect.isawaitable(result):
            return await result
        return result
    return getattr(embeddings, f"embed_{what}")(arg)
