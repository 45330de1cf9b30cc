"""The LangGraph stores against LangGraph's InMemoryStore, on the emulator and a real membraned.

The differential: hypothesis generates short sequences of puts, deletes, gets, searches and
namespace listings; the same sequence runs on an ``InMemoryStore`` and on our store (a fresh
container or scope per example), and every result that does not depend on ranking must be
equal. Search results are compared as sets of (namespace, key, value) when unpaged, and by
length when paged (the orders differ by design: ours is most recently updated first).
Ranking is tested on a small labelled set with paraphrased queries.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
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
)
from langgraph.store.memory import InMemoryStore

from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import WordLlamaEmbeddings
from membrane_integrations.langchain.store_membrain import MembrainStore
from membrane_integrations.langchain.store_membrane import MembraneStore
from membrane_integrations.membrain import MembrainClient
from membrane_integrations.membrane import MembraneClient, Sensitivity, TrustContext
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
            return sorted((i.namespace, i.key, repr(i.value)) for i in result)
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
    assert store.supports_ttl is False
    store.put(("u",), "ok", {"n": 1})
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
