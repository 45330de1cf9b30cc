"""``MembrainStore``: a LangGraph ``BaseStore`` on Membrain (one container, many namespaces).

How an item is stored. Each ``(namespace, key)`` is one Membrain memory of the container,
written through :class:`~membrane_integrations.membrain.tenancy.Tenancy` (the container token
and guard come first). Its content is a JSON envelope (namespace, key, value, created_at,
updated_at), so the value round-trips exactly and is what the semantic search embeds. Its
other scope tokens are digests (SHA-256, 128 bits, hex) so that any label can be used:

* ``lgns.<digest of prefix>`` for every prefix of the namespace, ``()`` included: a search
  or listing under a prefix sends ``^lgns\\.<digest>$`` after the container filter, so
  ``("alice", "prefs")`` never reads ``("alice", "prefs2")``, and ``("alice",)``'s children
  only under a prefix search;
* ``lgkey.<digest of namespace and key>`` and its anchored guard ``^lgkey\\.<digest>$``: the
  guard keeps Membrain's near-duplicate merge (guide 4.1) among rows of the same key only.

Every envelope read back is checked against the namespace and key asked for, so a digest
collision could not leak an item either.

What Membrain cannot do, and what the store does instead:

* It assigns its own ids: ``put`` on an existing key updates that memory by id (``PUT``), a
  new key is added (ingest job, waited for); ``put(value=None)`` / ``delete`` is one bulk
  delete by the key's anchored scope.
* It has no "list by scope": a search or listing without a query counts the prefix's
  memories and fetches them with one scoped search of up to 100 (``k``'s maximum); beyond
  that, or when the search returns fewer than counted, it reads the graph export and keeps the
  container's rows (slower, complete).
* A query search ranks only the prefix's 100 nearest memories; ``filter`` and ``offset``
  apply to those. Scores are Membrain's ``semantic_score``.
* ``index=False`` on ``put`` has no effect: Membrain embeds every memory.

TTL (``supports_ttl`` is True; ``ttl=`` a LangGraph ``TTLConfig``): an item's expiry is two
scope tokens of its memory (:mod:`membrane_integrations.membrain.expiry`), written with the
item; a refresh on read rewrites only the scope (``PUT``, the content and its embedding are
untouched); :meth:`sweep_ttl` **deletes** every expired memory of the container on the server
(bulk deletes by an expiry regex after the container filter), captured notes with a TTL
included; ``omit_expired`` hides expired items from reads before the sweep.

Example:
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> with MembrainEmulator() as emu, emu.client() as client:
    ...     store = MembrainStore(client=client, container="alice")
    ...     store.put(("alice", "prefs"), "food", {"likes": "pizza"})
    ...     store.put(("alice", "prefs"), "food", {"likes": "sushi"})
    ...     print(store.get(("alice", "prefs"), "food").value)
    ...     print([i.key for i in store.search(("alice",), query="favourite dish")])
    ...     print(store.list_namespaces())
    {'likes': 'sushi'}
    ['food']
    [('alice', 'prefs')]
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from langgraph.store.base import TTLConfig

from ..core.ttl import Clock, Expiry
from ..membrain import expiry as membrain_expiry
from ..membrain.tenancy import Tenancy
from ._clients import ClientPair
from ._membrain_listing import MAX_K, Listed, alisted, listed, scoped_hits
from ._store_base import BackendStore, Envelope, Row

__all__ = ["MembrainStore"]

_NS = "lgns."
_KEY = "lgkey."


def _digest(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def prefix_pattern(prefix: tuple[str, ...]) -> str:
    """The anchored pattern of every item under ``prefix``.

    >>> prefix_pattern(()) == "^lgns\\\\." + _digest([]) + "$"
    True
    """
    return f"^lgns\\.{_digest(list(prefix))}$"


def key_pattern(namespace: tuple[str, ...], key: str) -> str:
    """The anchored pattern (and stored guard) of one item."""
    return f"^lgkey\\.{_digest([list(namespace), key])}$"


def item_tokens(namespace: tuple[str, ...], key: str) -> list[str]:
    """The scope tokens of an item besides the container's (see the module doc)."""
    prefixes = [f"{_NS}{_digest(list(namespace[:n]))}" for n in range(len(namespace) + 1)]
    return [*prefixes, f"{_KEY}{_digest([list(namespace), key])}", key_pattern(namespace, key)]


class MembrainStore(BackendStore):
    """LangGraph store on Membrain, confined to one container (see the module doc).

    Args:
        client: a ``MembrainClient`` or ``AsyncMembrainClient`` (the other flavour is derived).
        async_client: the async client, when both are given.
        container: the container every item belongs to (the application's, never a model's).
        wait_timeout: seconds to wait for a new item's ingest job.
        ttl: LangGraph's ``TTLConfig`` (``default_ttl``, ``refresh_on_read``, ``omit_expired``,
            ``sweep_interval_minutes``); items without a ``ttl`` never expire.
        clock: what "now" is for expiries and timestamps (default: the system clock).
    """

    __slots__ = ("_container", "_pair", "_tenancy", "_wait_timeout")

    def __init__(
        self,
        *,
        client: Any = None,
        async_client: Any = None,
        container: str,
        wait_timeout: float = 60.0,
        ttl: TTLConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._init_ttl(ttl, clock)
        self._pair = ClientPair.given(client, async_client)
        self._tenancy = Tenancy(container)
        self._container = container
        self._wait_timeout = wait_timeout

    def __repr__(self) -> str:
        return f"MembrainStore(container={self._container!r})"

    # --- pure helpers -------------------------------------------------------------------------

    def _scope(self, pattern: str) -> list[str]:
        scope = self._tenancy.read_scope([pattern])
        assert scope is not None
        return scope

    @staticmethod
    def _parsed(found: list[Listed]) -> list[tuple[Row, float | None]]:
        out: list[tuple[Row, float | None]] = []
        for memory in found:
            item = Envelope.from_data(memory.content)
            if item is not None:
                expiry = membrain_expiry.expiry_of(memory.scope)
                out.append((Row(memory.id, item, expiry), memory.score))
        return out

    @staticmethod
    def _keyed(
        found: list[tuple[Row, float | None]], namespace: tuple[str, ...], key: str
    ) -> list[Row]:
        return [r for r, _ in found if r.item.namespace == namespace and r.item.key == key]

    def _under(self, found: list[Listed], prefix: tuple[str, ...]) -> list[Row]:
        # the digest selected them; the envelope decides (a collision could not leak an item)
        return [r for r, _ in self._parsed(found) if r.item.namespace[: len(prefix)] == prefix]

    def _tokens(self, namespace: tuple[str, ...], key: str, expiry: Expiry | None) -> list[str]:
        tokens = membrain_expiry.with_expiry(item_tokens(namespace, key), expiry)
        return self._tenancy.write_tokens(tokens)

    # --- sync primitives ----------------------------------------------------------------------

    def _rows(self, prefix: tuple[str, ...]) -> list[Row]:
        found = listed(self._pair.for_sync(), self._tenancy, prefix_pattern(prefix))
        return self._under(found, prefix)

    def _key_rows(self, namespace: tuple[str, ...], key: str) -> list[Row]:
        found = listed(self._pair.for_sync(), self._tenancy, key_pattern(namespace, key))
        return self._keyed(self._parsed(found), namespace, key)

    def _write(self, item: Envelope, existing: list[Row], expiry: Expiry | None) -> None:
        client = self._pair.for_sync()
        tokens = self._tokens(item.namespace, item.key, expiry)
        if existing:
            client.update(existing[0].id, content=item.to_json(), scope=tokens)
            for extra in existing[1:]:
                client.delete(extra.id)
            return
        client.add(item.to_json(), scope=tokens, wait=True, wait_timeout=self._wait_timeout)

    def _refresh(self, row: Row, expiry: Expiry) -> None:
        tokens = self._tokens(row.item.namespace, row.item.key, expiry)
        self._pair.for_sync().update(row.id, scope=tokens)

    def _sweep(self, now: datetime) -> int:
        return membrain_expiry.sweep(self._pair.for_sync(), self._tenancy, now)

    def _remove(self, namespace: tuple[str, ...], key: str, existing: list[Row]) -> None:
        self._pair.for_sync().delete_bulk(scope=self._scope(key_pattern(namespace, key)))

    def _rank(
        self, prefix: tuple[str, ...], query: str, limit: int
    ) -> list[tuple[Row, float | None]] | None:
        pattern = prefix_pattern(prefix)
        response = self._pair.for_sync().search(query, k=MAX_K, scope=self._scope(pattern))
        found = self._parsed(scoped_hits(self._tenancy, response, pattern))
        return [(r, s) for r, s in found if r.item.namespace[: len(prefix)] == prefix]

    # --- async primitives ---------------------------------------------------------------------

    async def _arows(self, prefix: tuple[str, ...]) -> list[Row]:
        found = await alisted(self._pair.for_async(), self._tenancy, prefix_pattern(prefix))
        return self._under(found, prefix)

    async def _akey_rows(self, namespace: tuple[str, ...], key: str) -> list[Row]:
        found = await alisted(self._pair.for_async(), self._tenancy, key_pattern(namespace, key))
        return self._keyed(self._parsed(found), namespace, key)

    async def _awrite(self, item: Envelope, existing: list[Row], expiry: Expiry | None) -> None:
        client = self._pair.for_async()
        tokens = self._tokens(item.namespace, item.key, expiry)
        if existing:
            await client.update(existing[0].id, content=item.to_json(), scope=tokens)
            for extra in existing[1:]:
                await client.delete(extra.id)
            return
        await client.add(item.to_json(), scope=tokens, wait=True, wait_timeout=self._wait_timeout)

    async def _arefresh(self, row: Row, expiry: Expiry) -> None:
        tokens = self._tokens(row.item.namespace, row.item.key, expiry)
        await self._pair.for_async().update(row.id, scope=tokens)

    async def _asweep(self, now: datetime) -> int:
        return await membrain_expiry.asweep(self._pair.for_async(), self._tenancy, now)

    async def _aremove(self, namespace: tuple[str, ...], key: str, existing: list[Row]) -> None:
        await self._pair.for_async().delete_bulk(scope=self._scope(key_pattern(namespace, key)))

    async def _arank(
        self, prefix: tuple[str, ...], query: str, limit: int
    ) -> list[tuple[Row, float | None]] | None:
        pattern = prefix_pattern(prefix)
        client = self._pair.for_async()
        response = await client.search(query, k=MAX_K, scope=self._scope(pattern))
        found = self._parsed(scoped_hits(self._tenancy, response, pattern))
        return [(r, s) for r, s in found if r.item.namespace[: len(prefix)] == prefix]

    def close(self) -> None:
        """Stop the sweeper thread; close the clients this store derived (not the given ones)."""
        self.stop_ttl_sweeper()
        self._pair.close()
