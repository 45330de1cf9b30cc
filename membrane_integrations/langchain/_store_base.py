"""What both LangGraph stores share: the batch loop, filters, paging and namespace listing.

A backend store (:class:`MembrainStore`, :class:`MembraneStore`) supplies a few primitives,
sync and async: the stored items under a namespace prefix, the rows of one key, a write, a
delete, and (optionally) a ranked search. Everything else follows LangGraph's
``InMemoryStore`` semantics and is decided here, once: reads in a batch see the state before
the batch's puts; the last put of a key in a batch wins; ``filter`` is an exact match on value
fields (nested dicts and lists compared like JSONB) or the ``$eq $ne $gt $gte $lt $lte``
operators; ``list_namespaces`` matches prefix/suffix conditions (``"*"`` is a wildcard),
truncates to ``max_depth``, sorts, then pages. Without a query, search results are ordered
most recently updated first (as LangGraph's ``PostgresStore`` does). TTL follows
``PostgresStore`` too (:class:`BackendStore`): the backend stores an item's
:class:`~membrane_integrations.core.ttl.Expiry` with it, refreshes it and sweeps.

Example:
    >>> matches({"a": {"b": 2}, "n": 5}, {"a": {"b": 2}, "n": {"$gt": 3, "$ne": 4}})
    True
    >>> namespace_matches(("u", "x", "prefs"), [MatchCondition("prefix", ("u", "*"))])
    True
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)

from ..core.errors import InvalidRequestError, NotFoundError
from ..core.ttl import AsyncSweeper, Clock, Expiry, Sweeper, check_ttl, system_clock

__all__ = [
    "BackendStore",
    "Envelope",
    "Row",
    "matches",
    "namespace_matches",
]


@dataclass(frozen=True)
class Envelope:
    """One stored item as it travels to and from a backend (the value round-trips exactly)."""

    namespace: tuple[str, ...]
    key: str
    value: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> str:
        """The JSON text stored in the backend."""
        return json.dumps(
            {
                "langgraph_item": 1,
                "namespace": list(self.namespace),
                "key": self.key,
                "value": self.value,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(),
            },
            ensure_ascii=False,
            allow_nan=False,
        )

    @classmethod
    def from_data(cls, data: Any) -> Envelope | None:
        """Parse what :meth:`to_json` stored (or its decoded dict); ``None`` if it is not ours."""
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                return None
        if not isinstance(data, dict) or data.get("langgraph_item") != 1:
            return None
        try:
            namespace = tuple(data["namespace"])
            key, value = data["key"], data["value"]
            created = datetime.fromisoformat(data["created_at"])
            updated = datetime.fromisoformat(data["updated_at"])
        except (KeyError, TypeError, ValueError):
            return None
        if not all(isinstance(p, str) for p in namespace) or not isinstance(key, str):
            return None
        if not isinstance(value, dict):
            return None
        return cls(namespace, key, value, created, updated)

    def item(self, score: float | None = None, *, search: bool = False) -> Item:
        """The LangGraph item (a ``SearchItem`` for search results)."""
        if search:
            return SearchItem(
                self.namespace, self.key, self.value, self.created_at, self.updated_at, score
            )
        return Item(
            value=self.value,
            key=self.key,
            namespace=self.namespace,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


@dataclass(frozen=True)
class Row:
    """A stored item, the backend's id for it, and its expiry (``None``: no TTL)."""

    id: str
    item: Envelope
    expiry: Expiry | None = None

    def expired(self, now: datetime) -> bool:
        """True when the item has a TTL and it has run out at ``now``."""
        return self.expiry is not None and self.expiry.expired(now)


def now() -> datetime:
    """The current UTC time (the stored timestamps)."""
    return datetime.now(timezone.utc)


def check_value(value: Any) -> dict[str, Any]:
    """A value must be a JSON object so that it round-trips exactly; return a JSON copy."""
    if not isinstance(value, dict):
        raise InvalidRequestError("a store value must be a dict", field="value")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(
            f"a store value must be JSON (str keys; str, number, bool, None, list, dict): {exc}",
            field="value",
        ) from exc
    copy: dict[str, Any] = json.loads(text)
    if copy != value:
        raise InvalidRequestError(
            "a store value must be JSON: tuples, non-str keys and the like do not round-trip",
            field="value",
        )
    return copy


def _apply_operator(value: Any, operator: str, operand: Any) -> bool:
    if operator == "$eq":
        return bool(value == operand)
    if operator == "$ne":
        return bool(value != operand)
    if operator in ("$gt", "$gte", "$lt", "$lte"):
        try:
            left, right = float(value), float(operand)
        except (TypeError, ValueError):
            return False
        return {
            "$gt": left > right,
            "$gte": left >= right,
            "$lt": left < right,
            "$lte": left <= right,
        }[operator]
    raise InvalidRequestError(f"unsupported filter operator {operator!r}", field="filter")


def _compare(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        if any(isinstance(k, str) and k.startswith("$") for k in wanted):
            return all(_apply_operator(value, op, operand) for op, operand in wanted.items())
        return isinstance(value, dict) and all(_compare(value.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list | tuple):
        return (
            isinstance(value, list | tuple)
            and len(value) == len(wanted)
            and all(_compare(a, b) for a, b in zip(value, wanted, strict=True))
        )
    return bool(value == wanted)


def matches(value: dict[str, Any], filter: dict[str, Any] | None) -> bool:
    """True when every filter field matches the value (see the module doc)."""
    return not filter or all(_compare(value.get(k), v) for k, v in filter.items())


def _path_matches(key: tuple[str, ...], path: Sequence[str], reverse: bool) -> bool:
    if len(key) < len(path):
        return False
    # key is at least as long as path: zip stops at path's end on purpose
    pairs = zip(key[::-1], path[::-1], strict=False) if reverse else zip(key, path, strict=False)
    return all(p == "*" or k == p for k, p in pairs)


def namespace_matches(namespace: tuple[str, ...], conditions: Iterable[MatchCondition]) -> bool:
    """True when the namespace meets every prefix/suffix condition."""
    for condition in conditions:
        if condition.match_type not in ("prefix", "suffix"):
            raise InvalidRequestError(
                f"unsupported match type {condition.match_type!r}", field="match_conditions"
            )
        if not _path_matches(namespace, condition.path, condition.match_type == "suffix"):
            return False
    return True


def _newest_first(rows: Iterable[Row]) -> list[Row]:
    return sorted(
        rows, key=lambda r: (-r.item.updated_at.timestamp(), r.item.namespace, r.item.key)
    )


def _one_per_key(rows: Iterable[Row]) -> list[Row]:
    """The newest row of each (namespace, key): a crash between writes can leave two."""
    seen: dict[tuple[tuple[str, ...], str], Row] = {}
    for row in _newest_first(rows):
        seen.setdefault((row.item.namespace, row.item.key), row)
    return list(seen.values())


def _list_namespaces(rows: Iterable[Row], op: ListNamespacesOp) -> list[tuple[str, ...]]:
    spaces = {r.item.namespace for r in rows}
    kept = [ns for ns in spaces if namespace_matches(ns, op.match_conditions or ())]
    if op.max_depth is not None:
        kept = list({ns[: op.max_depth] for ns in kept})
    return sorted(kept)[op.offset : op.offset + op.limit]


def _under(rows: Iterable[Row], prefix: tuple[str, ...]) -> list[Row]:
    return [r for r in rows if r.item.namespace[: len(prefix)] == prefix]


def _search_listed(rows: Iterable[Row], op: SearchOp) -> list[tuple[Row, float | None]]:
    kept = [r for r in _under(rows, op.namespace_prefix) if matches(r.item.value, op.filter)]
    return [(r, None) for r in _newest_first(kept)[op.offset : op.offset + op.limit]]


def _search_ranked(
    ranked: Iterable[tuple[Row, float | None]], op: SearchOp
) -> list[tuple[Row, float | None]]:
    kept = [
        (row, score)
        for row, score in ranked
        if row.item.namespace[: len(op.namespace_prefix)] == op.namespace_prefix
        and matches(row.item.value, op.filter)
    ]
    return kept[op.offset : op.offset + op.limit]


def _search_items(page: list[tuple[Row, float | None]]) -> list[SearchItem]:
    return [row.item.item(score, search=True) for row, score in page]  # type: ignore[misc]


def _last_puts(ops: Sequence[Op]) -> dict[tuple[tuple[str, ...], str], PutOp]:
    puts: dict[tuple[tuple[str, ...], str], PutOp] = {}
    for op in ops:
        if isinstance(op, PutOp):
            if op.ttl is not None:
                check_ttl(op.ttl)
            if op.value is not None:
                check_value(op.value)
            puts.pop((op.namespace, op.key), None)
            puts[(op.namespace, op.key)] = op
    return puts


def _check_namespace(namespace: tuple[str, ...]) -> None:
    if not namespace:
        raise InvalidRequestError("a namespace cannot be empty", field="namespace")
    for label in namespace:
        if not isinstance(label, str) or not label or "." in label:
            raise InvalidRequestError(
                f"namespace labels must be non-empty strings without '.': {label!r}",
                field="namespace",
            )


class _Reads:
    """What the read phase of one batch saw and must refresh (pure bookkeeping)."""

    def __init__(self, store: BackendStore, puts: dict[Any, PutOp]) -> None:
        self.now = store._clock()
        self.omit = bool(store.ttl_config and store.ttl_config.get("omit_expired"))
        self._put_keys = set(puts)
        self._refresh: dict[str, tuple[Row, Expiry]] = {}

    def live(self, rows: Iterable[Row]) -> list[Row]:
        """The rows a read may return: expired ones are left out under ``omit_expired``."""
        return [r for r in rows if not (self.omit and r.expired(self.now))]

    def got(self, op: GetOp, rows: list[Row]) -> Item | None:
        """The result of a get, noting the item for a refresh when the op asks for one."""
        kept = self.live(_one_per_key(rows))
        if not kept:
            return None
        if op.refresh_ttl:
            self._note(kept[0])
        return kept[0].item.item()

    def found(self, op: SearchOp, page: list[tuple[Row, float | None]]) -> list[SearchItem]:
        """The result of a search, noting its page for a refresh when the op asks for one."""
        if op.refresh_ttl:
            for row, _ in page:
                self._note(row)
        return _search_items(page)

    def _note(self, row: Row) -> None:
        if row.expiry is None or (row.item.namespace, row.item.key) in self._put_keys:
            return  # no TTL, or a put of this batch sets the expiry anyway
        fresh = row.expiry.refreshed(self.now)
        if fresh != row.expiry:
            self._refresh[row.id] = (row, fresh)

    def refreshes(self) -> list[tuple[Row, Expiry]]:
        """The expiries to write back: each read item's TTL counted again from now."""
        return list(self._refresh.values())

    def expiry(self, put: PutOp) -> Expiry | None:
        """The expiry a put gives its item."""
        return None if put.ttl is None else Expiry.start(self.now, put.ttl)


class BackendStore(BaseStore):
    """A LangGraph ``BaseStore`` over a backend's primitives (see the module doc).

    Subclasses implement the ``_rows`` / ``_key_rows`` / ``_write`` / ``_remove`` / ``_rank`` /
    ``_refresh`` / ``_sweep`` primitives and their ``_a*`` twins, and call :meth:`_init_ttl`;
    ``_rank`` returns ``None`` when no query ranking is available, and the search then lists
    (score ``None``).

    TTL follows LangGraph (as its ``PostgresStore``): ``put(..., ttl=minutes)`` (or the
    config's ``default_ttl``) gives an item an expiry; a get or search with ``refresh_ttl``
    (the config's ``refresh_on_read``, default on) counts it again from the read; with
    ``omit_expired`` an expired item is hidden from get, search and namespace listings before
    a sweep removes it; :meth:`sweep_ttl` removes every expired item now, and
    :meth:`start_ttl_sweeper` does so every ``sweep_interval_minutes`` (default 5).
    """

    supports_ttl = True

    def _init_ttl(self, ttl: TTLConfig | None, clock: Clock | None) -> None:
        if ttl is not None:
            if ttl.get("default_ttl") is not None:
                check_ttl(ttl.get("default_ttl"), field="default_ttl")
            if ttl.get("sweep_interval_minutes") is not None:
                check_ttl(ttl.get("sweep_interval_minutes"), field="sweep_interval_minutes")
        self.ttl_config = ttl
        self._clock: Clock = clock or system_clock
        self._sweeper: Sweeper | None = None
        self._async_sweeper: AsyncSweeper | None = None

    # --- primitives ---------------------------------------------------------------------------

    @abstractmethod
    def _rows(self, prefix: tuple[str, ...]) -> list[Row]: ...

    @abstractmethod
    async def _arows(self, prefix: tuple[str, ...]) -> list[Row]: ...

    @abstractmethod
    def _key_rows(self, namespace: tuple[str, ...], key: str) -> list[Row]: ...

    @abstractmethod
    async def _akey_rows(self, namespace: tuple[str, ...], key: str) -> list[Row]: ...

    @abstractmethod
    def _write(self, item: Envelope, existing: list[Row], expiry: Expiry | None) -> None: ...

    @abstractmethod
    async def _awrite(self, item: Envelope, existing: list[Row], expiry: Expiry | None) -> None: ...

    @abstractmethod
    def _remove(self, namespace: tuple[str, ...], key: str, existing: list[Row]) -> None: ...

    @abstractmethod
    async def _aremove(self, namespace: tuple[str, ...], key: str, existing: list[Row]) -> None: ...

    @abstractmethod
    def _rank(
        self, prefix: tuple[str, ...], query: str, limit: int
    ) -> list[tuple[Row, float | None]] | None: ...

    @abstractmethod
    async def _arank(
        self, prefix: tuple[str, ...], query: str, limit: int
    ) -> list[tuple[Row, float | None]] | None: ...

    @abstractmethod
    def _refresh(self, row: Row, expiry: Expiry) -> None: ...

    @abstractmethod
    async def _arefresh(self, row: Row, expiry: Expiry) -> None: ...

    @abstractmethod
    def _sweep(self, now: datetime) -> int: ...

    @abstractmethod
    async def _asweep(self, now: datetime) -> int: ...

    # --- the batch loop -----------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the operations: reads first (on the state before the batch), then the puts."""
        todo = list(ops)
        puts = _last_puts(todo)
        reads = _Reads(self, puts)
        results: list[Result] = []
        for op in todo:
            if isinstance(op, GetOp):
                results.append(reads.got(op, self._key_rows(op.namespace, op.key)))
            elif isinstance(op, SearchOp):
                ranked = self._rank(op.namespace_prefix, op.query, _want(op)) if op.query else None
                results.append(
                    reads.found(
                        op,
                        _search_ranked([p for p in ranked if reads.live([p[0]])], op)
                        if ranked is not None
                        else _search_listed(reads.live(self._rows(op.namespace_prefix)), op),
                    )
                )
            elif isinstance(op, ListNamespacesOp):
                results.append(_list_namespaces(reads.live(self._rows(_fixed_prefix(op))), op))
            elif isinstance(op, PutOp):
                results.append(None)
            else:
                raise InvalidRequestError(f"unknown store operation {type(op).__name__}")
        for row, expiry in reads.refreshes():
            with contextlib.suppress(NotFoundError):  # deleted or swept meanwhile
                self._refresh(row, expiry)
        for (namespace, key), put in puts.items():
            _check_namespace(namespace)
            existing = self._key_rows(namespace, key)
            if put.value is None:
                if existing:
                    self._remove(namespace, key, existing)
            else:
                envelope = _envelope(put, existing, reads.now)
                self._write(envelope, existing, reads.expiry(put))
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """The async twin of :meth:`batch`, on the async client."""
        todo = list(ops)
        puts = _last_puts(todo)
        reads = _Reads(self, puts)
        results: list[Result] = []
        for op in todo:
            if isinstance(op, GetOp):
                results.append(reads.got(op, await self._akey_rows(op.namespace, op.key)))
            elif isinstance(op, SearchOp):
                ranked = (
                    await self._arank(op.namespace_prefix, op.query, _want(op))
                    if op.query
                    else None
                )
                results.append(
                    reads.found(
                        op,
                        _search_ranked([p for p in ranked if reads.live([p[0]])], op)
                        if ranked is not None
                        else _search_listed(reads.live(await self._arows(op.namespace_prefix)), op),
                    )
                )
            elif isinstance(op, ListNamespacesOp):
                rows = await self._arows(_fixed_prefix(op))
                results.append(_list_namespaces(reads.live(rows), op))
            elif isinstance(op, PutOp):
                results.append(None)
            else:
                raise InvalidRequestError(f"unknown store operation {type(op).__name__}")
        for row, expiry in reads.refreshes():
            with contextlib.suppress(NotFoundError):  # deleted or swept meanwhile
                await self._arefresh(row, expiry)
        for (namespace, key), put in puts.items():
            _check_namespace(namespace)
            existing = await self._akey_rows(namespace, key)
            if put.value is None:
                if existing:
                    await self._aremove(namespace, key, existing)
            else:
                envelope = _envelope(put, existing, reads.now)
                await self._awrite(envelope, existing, reads.expiry(put))
        return results

    # --- TTL sweeping -------------------------------------------------------------------------

    def sweep_ttl(self) -> int:
        """Remove every expired item now (see the backend's module doc); how many were removed."""
        return self._sweep(self._clock())

    async def asweep_ttl(self) -> int:
        """The async twin of :meth:`sweep_ttl`."""
        return await self._asweep(self._clock())

    def _interval(self, sweep_interval_minutes: float | None) -> float | None:
        if not self.ttl_config:
            return None
        return float(sweep_interval_minutes or self.ttl_config.get("sweep_interval_minutes") or 5)

    def start_ttl_sweeper(
        self, sweep_interval_minutes: float | None = None
    ) -> concurrent.futures.Future[None]:
        """Sweep every ``sweep_interval_minutes`` (else the config's, else 5) on a thread.

        Without a TTL config nothing starts and the returned future is already done (as in
        LangGraph's ``PostgresStore``). Cancel the future or call :meth:`stop_ttl_sweeper`.
        """
        interval = self._interval(sweep_interval_minutes)
        if interval is None:
            done: concurrent.futures.Future[None] = concurrent.futures.Future()
            done.set_result(None)
            return done
        if self._sweeper is None or not self._sweeper.running:
            self._sweeper = Sweeper(self.sweep_ttl, interval)
        return self._sweeper.start()

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper thread; ``True`` once it has stopped (or was not running)."""
        return self._sweeper is None or self._sweeper.stop(timeout)

    async def astart_ttl_sweeper(
        self, sweep_interval_minutes: float | None = None
    ) -> asyncio.Task[None] | None:
        """The asyncio twin of :meth:`start_ttl_sweeper` (a task on the async client)."""
        interval = self._interval(sweep_interval_minutes)
        if interval is None:
            return None
        if self._async_sweeper is None or not self._async_sweeper.running:
            self._async_sweeper = AsyncSweeper(self.asweep_ttl, interval)
        return self._async_sweeper.start()

    async def astop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper task; ``True`` once it has stopped (or was not running)."""
        return self._async_sweeper is None or await self._async_sweeper.stop(timeout)


def _want(op: SearchOp) -> int:
    return max(0, op.offset) + max(0, op.limit)


def _fixed_prefix(op: ListNamespacesOp) -> tuple[str, ...]:
    """The wildcard-free head of the op's prefix condition: the backend can narrow to it."""
    for condition in op.match_conditions or ():
        if condition.match_type == "prefix":
            head: list[str] = []
            for label in condition.path:
                if label == "*":
                    break
                head.append(label)
            return tuple(head)
    return ()


def _envelope(put: PutOp, existing: list[Row], stamp: datetime) -> Envelope:
    assert put.value is not None
    rows = _one_per_key(existing)
    created = rows[0].item.created_at if rows else stamp
    return Envelope(put.namespace, put.key, check_value(put.value), created, stamp)
