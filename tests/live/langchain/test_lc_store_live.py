"""The LangGraph stores against LangGraph's InMemoryStore, on the emulator and a real membraned.

The differential: hypothesis generates short sequences of puts, deletes, gets, searches and
namespace listings; the same sequence runs on an ``InMemoryStore`` and on our store (a fresh
container or scope per example), and every result that does not depend on ranking must be
equal. Search results are compared as sets of (namespace, key, value) when unpaged, and by
length when paged (the orders differ by design: ours is most recently updated first).
Ranking is tested on a small labelled set with paraphrased queries.

TTL runs the same differential with a TTL config on both sides, a ``ManualClock`` each (moved
by ``_Tick`` steps, never by sleeping) and ``_Sweep`` steps. ``InMemoryStore`` (langgraph
checkpoint 4.3) has no TTL, so the reference adds LangGraph's TTL rules to it as
``PostgresStore`` implements them: a put sets (or clears) the expiry, a get or search with
``refresh_ttl`` counts the returned items' TTL again, ``omit_expired`` hides expired items from
every read, a sweep deletes the expired ones and says how many.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph.store.base import (
    BaseStore,
    GetOp,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    SearchOp,
    TTLConfig,
)
from langgraph.store.memory import InMemoryStore

from membrane_integrations.core.errors import InvalidRequestError, NotFoundError
from membrane_integrations.core.ttl import Expiry, ManualClock
from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import WordLlamaEmbeddings
from membrane_integrations.langchain.store_membrain import MembrainStore
from membrane_integrations.langchain.store_membrane import MembraneStore
from membrane_integrations.membrain import MembrainClient
from membrane_integrations.membrain.tenancy import Tenancy
from membrane_integrations.membrane import MembraneClient, Sensitivity, TrustContext
from membrane_integrations.membrane.types import RevisionStatus
from tests.support.membraned import Membraned, require_daemon

pytestmark = pytest.mark.live

NAMESPACES = [("a",), ("a", "b"), ("a", "b2"), ("a", "b", "c"), ("d", "b")]
PREFIXES = [(), ("a",), ("a", "b"), ("d",), ("z",)]
KEYS = ["k1", "k2", "k3"]
VALUES = st.fixed_dictionaries(
    {"n": st.integers(0, 3), "t": st.sampled_from(["red", "blue"])},
    optional={"tags": st.lists(st.sampled_from(["x", "y"]), max_size=2)},
)
FILTERS = st.sampled_from(
    [None, {"n": 1}, {"t": "red"}, {"n": {"$gt": 1}}, {"n": {"$lte": 1}, "t": {"$ne": "red"}}]
)
PUT = st.builds(
    lambda ns, key, value: PutOp(ns, key, value),
    st.sampled_from(NAMESPACES),
    st.sampled_from(KEYS),
    st.one_of(st.none(), VALUES),
)
GET = st.builds(lambda ns, key: GetOp(ns, key), st.sampled_from(NAMESPACES), st.sampled_from(KEYS))
SEARCH = st.builds(
    lambda prefix, where, limit, offset: SearchOp(prefix, where, limit, offset),
    st.sampled_from(PREFIXES),
    FILTERS,
    st.sampled_from([10, 2]),
    st.sampled_from([0, 1]),
)
CONDITIONS = st.sampled_from(
    [
        None,
        (MatchCondition("prefix", ("a",)),),
        (MatchCondition("suffix", ("b",)),),
        (MatchCondition("prefix", ("a", "*")),),
    ]
)
LIST = st.builds(
    lambda conditions, depth, limit, offset: ListNamespacesOp(conditions, depth, limit, offset),
    CONDITIONS,
    st.sampled_from([None, 1, 2]),
    st.sampled_from([10, 1]),
    st.sampled_from([0, 1]),
)
# Each step is one batch of one or two ops: reads in a batch see the state before its puts.
STEPS = st.lists(
    st.lists(st.one_of(PUT, PUT, GET, SEARCH, LIST), min_size=1, max_size=2),
    min_size=2,
    max_size=6,
)
BUDGET = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class _Reference(InMemoryStore):
    """InMemoryStore, except that a namespace whose last item is gone is not listed.

    InMemoryStore keeps an empty dict for a namespace once anything (a get, a delete of a
    missing key) touched it, and lists it; PostgresStore and ours list namespaces of stored
    items. Reads of one batch run before its writes, so a read inside the batch can still
    touch one: list the namespaces here, after pruning, instead.
    """

    def batch(self, ops: Any) -> list[Any]:
        ops = list(ops)
        self._prune()
        listed = [
            self._handle_list_namespaces(op) for op in ops if isinstance(op, ListNamespacesOp)
        ]
        results = super().batch(ops)
        self._prune()
        taken = iter(listed)
        pairs = zip(ops, results, strict=True)
        return [next(taken) if isinstance(op, ListNamespacesOp) else r for op, r in pairs]

    def _prune(self) -> None:
        for namespace in [ns for ns, items in self._data.items() if not items]:
            del self._data[namespace]


def _normal(op: Op, result: Any) -> Any:
    """What must be equal between the stores for one op's result."""
    if isinstance(op, GetOp):
        return None if result is None else (result.namespace, result.key, result.value)
    if isinstance(op, SearchOp):
        if op.offset == 0 and op.limit >= 10:
            return sorted((i.namespace, i.key, json.dumps(i.value, sort_keys=True)) for i in result)
        return len(result)
    return result


def _run(store: BaseStore, steps: list[list[Op]], mode: str) -> list[Any]:
    if mode == "sync":
        return [store.batch(ops) for ops in steps]

    async def run() -> list[Any]:
        return [await store.abatch(ops) for ops in steps]

    return asyncio.run(run())


def _differential(store: BaseStore, steps: list[list[Op]], mode: str) -> None:
    ref = _Reference()
    expected = [ref.batch(ops) for ops in steps]
    got = _run(store, steps, mode)
    for ops, want, have in zip(steps, expected, got, strict=True):
        for op, w, h in zip(ops, want, have, strict=True):
            assert _normal(op, h) == _normal(op, w), op


@pytest.fixture(scope="module")
def emu() -> Iterator[MembrainEmulator]:
    with MembrainEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def mclient(emu: MembrainEmulator) -> Iterator[MembrainClient]:
    with emu.client() as c:
        yield c


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon()) as server:
        yield server


@pytest.fixture(scope="module")
def dclient(daemon: Membraned) -> Iterator[MembraneClient]:
    with MembraneClient(daemon.addr, timeout=10) as c:
        yield c


def _fresh() -> str:
    return f"store-{uuid.uuid4().hex[:10]}"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_membrain_store_matches_in_memory_store(mode: str, mclient: MembrainClient) -> None:
    @BUDGET
    @given(steps=STEPS)
    def check(steps: list[list[Op]]) -> None:
        _differential(MembrainStore(client=mclient, container=_fresh()), steps, mode)

    check()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_membrane_store_matches_in_memory_store(mode: str, dclient: MembraneClient) -> None:
    @BUDGET
    @given(steps=STEPS)
    def check(steps: list[list[Op]]) -> None:
        _differential(MembraneStore(client=dclient, scope=_fresh()), steps, mode)

    check()


def _stores(mclient: MembrainClient, dclient: MembraneClient, tenant: str) -> list[BaseStore]:
    return [
        MembrainStore(client=mclient, container=tenant),
        MembraneStore(client=dclient, scope=tenant),
    ]


@pytest.mark.parametrize("backend", [0, 1], ids=["membrain", "membrane"])
def test_namespaces_and_tenants_never_mix(
    backend: int, mclient: MembrainClient, dclient: MembraneClient
) -> None:
    tenant, other = _fresh(), _fresh()
    store = _stores(mclient, dclient, tenant)[backend]
    foreign = _stores(mclient, dclient, other)[backend]
    store.put(("alice", "prefs"), "food", {"likes": "pizza"})
    store.put(("alice", "prefs2"), "food", {"likes": "ramen"})
    store.put(("alice",), "name", {"v": "Alice"})
    foreign.put(("alice", "prefs"), "food", {"likes": "stolen"})

    assert [i.value for i in store.search(("alice", "prefs"))] == [{"likes": "pizza"}]
    assert store.get(("alice", "prefs"), "food").value == {"likes": "pizza"}  # type: ignore[union-attr]
    assert store.get(("alice",), "food") is None
    assert {i.key for i in store.search(("alice",))} == {"food", "name"}
    assert len(store.search(("alice",))) == 3
    assert store.list_namespaces() == [("alice",), ("alice", "prefs"), ("alice", "prefs2")]
    assert foreign.list_namespaces() == [("alice", "prefs")]
    assert [i.value for i in foreign.search(())] == [{"likes": "stolen"}]


@pytest.mark.parametrize("backend", [0, 1], ids=["membrain", "membrane"])
def test_put_replaces_keeps_created_at_and_round_trips(
    backend: int, mclient: MembrainClient, dclient: MembraneClient
) -> None:
    store = _stores(mclient, dclient, _fresh())[backend]
    odd = {"text": 'naïve 🍕 "quoted"\nline', "n": 1.5, "deep": {"l": [1, None, True]}}
    store.put(("u",), "k", {"v": 1})
    first = store.get(("u",), "k")
    store.put(("u",), "k", odd)
    second = store.get(("u",), "k")
    assert first is not None and second is not None
    assert second.value == odd
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    assert len(store.search(("u",))) == 1
    store.delete(("u",), "k")
    assert store.get(("u",), "k") is None
    assert store.search(("u",)) == []


@pytest.mark.parametrize("backend", [0, 1], ids=["membrain", "membrane"])
def test_bad_input_is_refused_at_the_edge(
    backend: int, mclient: MembrainClient, dclient: MembraneClient
) -> None:
    store = _stores(mclient, dclient, _fresh())[backend]
    assert store.supports_ttl is True
    store.put(("u",), "ok", {"n": 1})
    for ttl in (-1, 0, float("nan"), float("inf"), True, "5"):
        with pytest.raises(InvalidRequestError):
            store.put(("u",), "k", {"n": 2}, ttl=ttl)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError):
        store.put(("u",), "k", {"when": object()})
    with pytest.raises(InvalidRequestError):
        store.put(("u",), "k", {"t": (1, 2)})
    with pytest.raises(InvalidRequestError):
        store.search(("u",), filter={"n": {"$regex": "x"}})
    assert [i.key for i in store.search(("u",))] == ["ok"]


LABELLED = {
    "food": {"text": "The user loves spicy Thai curry and dislikes mushrooms"},
    "pet": {"text": "The user has a golden retriever dog named Max"},
    "work": {"text": "The user works as a software engineer at a bank"},
    "travel": {"text": "The user is planning a holiday trip to Japan in April"},
}
QUERIES = {
    "what dishes does the person enjoy eating": "food",
    "which animal lives with them": "pet",
    "what is their job": "work",
    "where are they going on vacation": "travel",
}


@pytest.mark.parametrize("backend", [0, 1], ids=["membrain", "membrane"])
async def test_query_search_ranks_the_labelled_set(
    backend: int, mclient: MembrainClient, dclient: MembraneClient
) -> None:
    tenant = _fresh()
    store: BaseStore = (
        MembrainStore(client=mclient, container=tenant)
        if backend == 0
        else MembraneStore(client=dclient, scope=tenant, embeddings=WordLlamaEmbeddings())
    )
    for key, value in LABELLED.items():
        await store.aput(("u", "facts"), key, value)
    await store.aput(("v",), "food", {"text": "Another namespace: loves Thai curry too"})
    for query, key in QUERIES.items():
        hits = await store.asearch(("u",), query=query, limit=2)
        assert hits[0].key == key, (query, [h.key for h in hits])
        assert hits[0].score is not None and hits[0].score >= (hits[1].score or 0.0)
        assert all(h.namespace == ("u", "facts") for h in hits)
    filtered = await store.asearch(
        ("u",), query="animal", filter={"text": LABELLED["work"]["text"]}
    )
    assert [h.key for h in filtered] == ["work"]


def test_membrane_store_without_embeddings_ignores_the_query(dclient: MembraneClient) -> None:
    store = MembraneStore(client=dclient, scope=_fresh())
    store.put(("u",), "a", {"v": 1})
    store.put(("u",), "b", {"v": 2})
    hits = store.search(("u",), query="anything")
    assert [h.key for h in hits] == ["b", "a"]  # most recently updated first
    assert all(h.score is None for h in hits)


def test_membrane_store_keeps_items_whose_salience_fell(dclient: MembraneClient) -> None:
    scope = _fresh()
    store = MembraneStore(client=dclient, scope=scope)
    store.put(("u",), "k", {"v": 1})
    trust = TrustContext(max_sensitivity=Sensitivity.LOW, scopes=[scope])
    (record,) = [r for r in dclient.retrieve("", trust=trust, limit=0) if r.scope == scope]
    dclient.penalize(record.id, 5.0, "test", "salience down to its floor")
    assert dclient.retrieve_by_id(record.id, trust=trust).salience < 0.5
    item = store.get(("u",), "k")
    assert item is not None and item.value == {"v": 1}


# --- TTL ---------------------------------------------------------------------------------------

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class _Tick:
    minutes: float


@dataclass(frozen=True)
class _Sweep:
    pass


class _TTLReference(_Reference):
    """_Reference with LangGraph's TTL rules (see the module doc), on its own manual clock."""

    supports_ttl = True

    def __init__(self, ttl: TTLConfig, clock: ManualClock) -> None:
        super().__init__()
        self.ttl_config = ttl
        self.clock = clock
        self.expiry: dict[tuple[tuple[str, ...], str], Expiry] = {}

    def batch(self, ops: Any) -> list[Any]:
        ops, now = list(ops), self.clock()
        puts = {(op.namespace, op.key): op for op in ops if isinstance(op, PutOp)}
        hidden = {}
        if self.ttl_config.get("omit_expired"):
            for (ns, key), expiry in self.expiry.items():
                if expiry.expired(now) and key in self._data.get(ns, {}):
                    hidden[(ns, key)] = self._data[ns].pop(key)
        results = super().batch(ops)
        for (ns, key), item in hidden.items():
            if (ns, key) not in puts:
                self._data[ns][key] = item
        touched = []
        for op, result in zip(ops, results, strict=True):
            if isinstance(op, GetOp) and op.refresh_ttl and result is not None:
                touched.append((op.namespace, op.key))
            if isinstance(op, SearchOp) and op.refresh_ttl:
                touched.extend((i.namespace, i.key) for i in result)
        for k in touched:
            if k in self.expiry and k not in puts:
                self.expiry[k] = self.expiry[k].refreshed(now)
        for k, put in puts.items():
            if put.value is None or put.ttl is None:
                self.expiry.pop(k, None)
            else:
                self.expiry[k] = Expiry.start(now, put.ttl)
        return results

    def sweep_ttl(self) -> int:
        now = self.clock()
        gone = [k for k, expiry in self.expiry.items() if expiry.expired(now)]
        for ns, key in gone:
            del self.expiry[(ns, key)]
            self._data[ns].pop(key, None)
        self._prune()
        return len(gone)


TTL_NAMESPACES, TTL_KEYS = [("a",), ("a", "b")], ["k1", "k2"]  # few keys: reads meet writes
TTL_PUT = st.builds(
    lambda ns, key, value, ttl: PutOp(ns, key, value, ttl=ttl),
    st.sampled_from(TTL_NAMESPACES),
    st.sampled_from(TTL_KEYS),
    st.one_of(VALUES, VALUES, VALUES, st.none()),
    st.sampled_from([1.0, 2.5, 1.0, None]),
)
TTL_GET = st.builds(
    lambda ns, key, refresh: GetOp(ns, key, refresh_ttl=refresh),
    st.sampled_from(TTL_NAMESPACES),
    st.sampled_from(TTL_KEYS),
    st.sampled_from([True, False]),
)
TTL_SEARCH = st.builds(
    lambda prefix, limit, refresh: SearchOp(prefix, None, limit, 0, refresh_ttl=refresh),
    st.sampled_from(PREFIXES[:3]),
    st.sampled_from([10, 1]),
    st.sampled_from([True, False]),
)
TTL_LIST = st.just(ListNamespacesOp(None, None, 10, 0))
TTL_BATCH = st.lists(
    st.one_of(TTL_PUT, TTL_PUT, TTL_GET, TTL_SEARCH, TTL_LIST), min_size=1, max_size=3
)


def _flat(rounds: list[tuple[list[Op], float, bool]]) -> list[Any]:
    """Each round: a batch, then the clock moves on, then (sometimes) a sweep."""
    steps: list[Any] = []
    for ops, minutes, sweep in rounds:
        steps += [ops, _Tick(minutes), *([_Sweep()] if sweep else [])]
    return steps


# Time passes in every round (TTLs of 1 or 2.5 minutes, ticks of 0.5 to 2): items expire,
# get refreshed, are hidden or swept in most examples.
TTL_STEPS = st.lists(
    st.tuples(TTL_BATCH, st.sampled_from([0.5, 1.0, 2.0]), st.booleans()),
    min_size=4,
    max_size=8,
).map(_flat)
Step = list[Op] | _Tick | _Sweep
TTL_BUDGET = settings(BUDGET, max_examples=40)


def _ttl_run(store: Any, clock: ManualClock, steps: list[Step], mode: str) -> list[Any]:
    async def run_async() -> list[Any]:
        out: list[Any] = []
        for step in steps:
            if isinstance(step, _Tick):
                clock.advance(minutes=step.minutes)
            elif isinstance(step, _Sweep):
                out.append(await store.asweep_ttl())
            else:
                out.append(await store.abatch(step))
        return out

    if mode == "async":
        return asyncio.run(run_async())
    out: list[Any] = []
    for step in steps:
        if isinstance(step, _Tick):
            clock.advance(minutes=step.minutes)
        elif isinstance(step, _Sweep):
            out.append(store.sweep_ttl())
        else:
            out.append(store.batch(step))
    return out


def _ttl_differential(make: Any, ttl: TTLConfig, steps: list[Step], mode: str) -> None:
    ref_clock, clock = ManualClock(START), ManualClock(START)
    expected = _ttl_run(_TTLReference(ttl, ref_clock), ref_clock, steps, "sync")
    got = _ttl_run(make(ttl, clock), clock, steps, mode)
    batches = [s for s in steps if not isinstance(s, _Tick)]
    for step, want, have in zip(batches, expected, got, strict=True):
        if isinstance(step, _Sweep):
            assert have == want, "sweep count"
            continue
        for op, w, h in zip(step, want, have, strict=True):
            assert _normal(op, h) == _normal(op, w), op


@pytest.mark.parametrize("omit", [False, True], ids=["keep-expired", "omit-expired"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_membrain_store_ttl_matches_the_reference(
    mode: str, omit: bool, mclient: MembrainClient
) -> None:
    ttl: TTLConfig = {"omit_expired": omit}

    @TTL_BUDGET
    @given(steps=TTL_STEPS)
    def check(steps: list[Step]) -> None:
        def make(config: TTLConfig, clock: ManualClock) -> MembrainStore:
            return MembrainStore(client=mclient, container=_fresh(), ttl=config, clock=clock)

        _ttl_differential(make, ttl, steps, mode)

    check()


@pytest.mark.parametrize("omit", [False, True], ids=["keep-expired", "omit-expired"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_membrane_store_ttl_matches_the_reference(
    mode: str, omit: bool, dclient: MembraneClient
) -> None:
    ttl: TTLConfig = {"omit_expired": omit}

    @TTL_BUDGET
    @given(steps=TTL_STEPS)
    def check(steps: list[Step]) -> None:
        def make(config: TTLConfig, clock: ManualClock) -> MembraneStore:
            return MembraneStore(client=dclient, scope=_fresh(), ttl=config, clock=clock)

        _ttl_differential(make, ttl, steps, mode)

    check()


def _ttl_stores(
    backend: int, mclient: MembrainClient, dclient: MembraneClient, ttl: TTLConfig
) -> tuple[BaseStore, ManualClock, str]:
    tenant, clock = _fresh(), ManualClock(START)
    if backend == 0:
        return MembrainStore(client=mclient, container=tenant, ttl=ttl, clock=clock), clock, tenant
    return MembraneStore(client=dclient, scope=tenant, ttl=ttl, clock=clock), clock, tenant


def _keys(items: list[Any]) -> set[str]:
    return {i.key for i in items}


@pytest.mark.parametrize("backend", [0, 1], ids=["membrain", "membrane"])
def test_ttl_config_defaults_refresh_and_omission(
    backend: int, mclient: MembrainClient, dclient: MembraneClient
) -> None:
    config: TTLConfig = {"default_ttl": 2.0, "refresh_on_read": False, "omit_expired": True}
    store, clock, _ = _ttl_stores(backend, mclient, dclient, config)
    ns = ("u", "notes")
    store.put(ns, "a", {"v": "a"})  # default_ttl: expires at 2
    store.put(ns, "b", {"v": "b"}, ttl=None)  # never expires
    store.put(ns, "c", {"v": "c"}, ttl=4)  # expires at 4
    clock.advance(minutes=1)
    assert store.get(ns, "a", refresh_ttl=True) is not None  # a: counted again, expires at 3
    assert store.get(ns, "c") is not None  # refresh_on_read is off: c still expires at 4
    clock.advance(minutes=1.5)  # 2.5
    assert _keys(store.search(ns)) == {"a", "b", "c"}
    clock.advance(minutes=1)  # 3.5: a has expired, hidden before any sweep
    assert store.get(ns, "a") is None
    assert _keys(store.search(("u",))) == {"b", "c"}
    assert _keys(store.search(("u",), query="the value a")) == {"b", "c"}  # ranked on Membrain
    assert store.sweep_ttl() == 1
    clock.advance(minutes=1)  # 4.5
    assert store.list_namespaces() == [ns]
    assert store.sweep_ttl() == 1
    assert _keys(store.search(ns)) == {"b"}
    clock.advance(minutes=60 * 24 * 365)
    assert store.sweep_ttl() == 0
    assert _keys(store.search(ns)) == {"b"}


@pytest.mark.parametrize("backend", [0, 1], ids=["membrain", "membrane"])
async def test_expired_items_are_read_until_swept_without_omit_expired(
    backend: int, mclient: MembrainClient, dclient: MembraneClient
) -> None:
    store, clock, _ = _ttl_stores(backend, mclient, dclient, {"refresh_on_read": False})
    await store.aput(("u",), "k", {"v": 1}, ttl=1)
    await store.aput(("u",), "later", {"v": 2}, ttl=1)
    clock.advance(minutes=5)
    item = await store.aget(("u",), "k")
    assert item is not None and item.value == {"v": 1}  # LangGraph's default: not omitted
    assert await store.aget(("u",), "later", refresh_ttl=True) is not None  # counted again
    assert await store.asweep_ttl() == 1  # type: ignore[attr-defined]
    assert await store.aget(("u",), "k") is None
    assert _keys(await store.asearch(("u",))) == {"later"}
    assert await store.alist_namespaces() == [("u",)]


def test_membrain_store_keeps_the_expiry_in_scope_and_deletes_on_sweep(
    mclient: MembrainClient,
) -> None:
    store, clock, tenant = _ttl_stores(0, mclient, mclient, {"default_ttl": 1})  # type: ignore[arg-type]
    store.put(("u",), "k", {"v": 1})
    store.put(("u",), "kept", {"v": 2}, ttl=None)
    tenancy = Tenancy(tenant)
    hits = mclient.search("item", k=10, scope=tenancy.read_scope([r"^ttl\.expires\."])).results
    assert len(hits) == 1 and Expiry.start(START, 1).tokens()[0] in hits[0].scope  # type: ignore[union-attr]
    before = hits[0].content  # type: ignore[union-attr]
    clock.advance(minutes=0.5)
    store.get(("u",), "k")  # refresh: only the scope is rewritten
    (hit,) = mclient.search("item", k=10, scope=tenancy.read_scope([r"^ttl\.expires\."])).results
    assert hit.content == before  # type: ignore[union-attr]
    assert Expiry.start(clock(), 1).tokens()[0] in hit.scope  # type: ignore[union-attr]
    clock.advance(minutes=1)
    assert store.sweep_ttl() == 1
    assert mclient.count(scope=tenancy.read_scope(None)) == 1  # deleted on the server
    with pytest.raises(NotFoundError):
        mclient.get(hit.id)  # type: ignore[union-attr]


def test_membrane_store_keeps_the_expiry_in_tags_and_retracts_on_sweep(
    dclient: MembraneClient,
) -> None:
    store, clock, scope = _ttl_stores(1, dclient, dclient, {"default_ttl": 1})  # type: ignore[arg-type]
    store.put(("u",), "k", {"v": 1})
    trust = TrustContext(max_sensitivity=Sensitivity.LOW, scopes=[scope])

    def live() -> list[Any]:
        return [r for r in dclient.retrieve("", trust=trust, limit=0, min_salience=0.01)]

    (first,) = live()
    assert set(Expiry.start(START, 1).tokens()) <= set(first.tags)
    clock.advance(minutes=0.5)
    store.get(("u",), "k")  # refresh: a new version with the new expiry supersedes the old
    (second,) = live()
    assert second.id != first.id and second.payload.revision.supersedes == first.id
    assert set(Expiry.start(clock(), 1).tokens()) <= set(second.tags)
    clock.advance(minutes=1)
    assert store.sweep_ttl() == 1
    assert live() == []
    gone = dclient.retrieve_by_id(second.id, trust=trust)  # retracted, kept for audit
    assert gone.payload.revision.status == RevisionStatus.RETRACTED
    assert gone.audit_log[-1].action == "delete" and "ttl expired" in gone.audit_log[-1].rationale


def _poll(check: Any, what: str) -> None:
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("backend", [0, 1], ids=["membrain", "membrane"])
def test_the_sweeper_thread_sweeps_on_its_interval(
    backend: int, mclient: MembrainClient, dclient: MembraneClient
) -> None:
    store, clock, _ = _ttl_stores(backend, mclient, dclient, {"sweep_interval_minutes": 1})
    store.put(("u",), "k", {"v": 1}, ttl=1)
    future = store.start_ttl_sweeper(sweep_interval_minutes=0.001)  # type: ignore[attr-defined]
    try:
        clock.advance(minutes=2)
        _poll(lambda: store.get(("u",), "k", refresh_ttl=False) is None, "the sweep")
    finally:
        assert store.stop_ttl_sweeper(timeout=30)  # type: ignore[attr-defined]
    assert future.done()
    unconfigured = MembrainStore(client=mclient, container=_fresh())
    assert unconfigured.start_ttl_sweeper().done()  # no TTL config: nothing to run


@pytest.mark.parametrize("backend", [0, 1], ids=["membrain", "membrane"])
async def test_the_async_sweeper_task_sweeps_on_its_interval(
    backend: int, mclient: MembrainClient, dclient: MembraneClient
) -> None:
    store, clock, _ = _ttl_stores(backend, mclient, dclient, {"sweep_interval_minutes": 1})
    await store.aput(("u",), "k", {"v": 1}, ttl=1)
    task = await store.astart_ttl_sweeper(sweep_interval_minutes=0.001)  # type: ignore[attr-defined]
    assert task is not None
    try:
        clock.advance(minutes=2)
        deadline = time.monotonic() + 60
        while await store.aget(("u",), "k", refresh_ttl=False) is not None:
            assert time.monotonic() < deadline, "timed out waiting for the sweeper"
            await asyncio.sleep(0.05)
    finally:
        assert await store.astop_ttl_sweeper(timeout=30)  # type: ignore[attr-defined]
    assert task.done()
