"""The recall index against the real membraned, on both stores (SQLite file, PostgreSQL).

Write path (every write kind through our clients, refused writes never indexed), read path
(ranked by meaning, read back under the caller's trust, stale entries dropped and pruned), sync
(records other programs wrote), rebuild, and the index ahead of the daemon.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from membrane_integrations.membrane.errors import MembraneRpcError
from membrane_integrations.membrane.recall_index import Entry, RecallIndex
from membrane_integrations.membrane.types import MemoryRecord, Sensitivity
from tests.live.membrane_recall.conftest import container, view_of
from tests.support.membraned import Membraned

pytestmark = [pytest.mark.live, pytest.mark.membraned]

FACTS = [
    "I drink green tea every morning",
    "We deployed the billing API on Friday",
    "My dog is called Rex and he loves the beach",
    "The budget meeting moved to Tuesday afternoon",
    "Alice prefers window seats on long flights",
    "The office printer on floor three is broken",
]


def _say(client: MembraneClient, scope: str, text: str, **kw: Any) -> MemoryRecord:
    return client.ingest_observation("user", "said", text, scope=scope, **kw)


def _objects(records: list[MemoryRecord]) -> list[str]:
    return [str(getattr(r.payload, "object", "")) for r in records]


def test_recall_ranks_by_meaning_not_by_recency(client: MembraneClient) -> None:
    scope = container()
    for fact in FACTS * 3:
        _say(client, scope, fact)
    got = client.recall("what is my pet called?", view=view_of(scope), limit=3)
    assert _objects(got) == [FACTS[2]] * 3
    got = client.recall("when is the budget meeting", view=view_of(scope), limit=1)
    assert _objects(got) == [FACTS[3]]
    # the plain daemon read ignores the query: the newest records come first
    plain = client.retrieve("what is my pet called?", trust=view_of(scope).trust, limit=3)
    assert _objects(plain) != [FACTS[2]] * 3


async def test_async_client_writes_and_recalls_the_same(
    daemon: Membraned, index: RecallIndex
) -> None:
    scope = container()
    async with daemon.async_client(timeout=10) as aclient:
        assert isinstance(aclient, AsyncMembraneClient)
        aclient.recall_index = index
        for fact in FACTS:
            await aclient.ingest_observation("user", "said", fact, scope=scope)
        assert index.store.count(scope) == len(FACTS)
        got = await aclient.recall("printer broken", view=view_of(scope), limit=2)
        assert _objects(got)[0] == FACTS[5]


def test_every_write_kind_updates_the_index(client: MembraneClient, index: RecallIndex) -> None:
    scope = container()
    store = index.store
    event = client.ingest_event("deploy", "ci#1", summary="deployed billing", scope=scope)
    tool = client.ingest_tool_output("search", args={"q": "x"}, result={"n": 1}, scope=scope)
    fact = _say(client, scope, "the sky is green")
    work = client.ingest_working_state("t1", "executing", context_summary="fixing", scope=scope)
    assert store.known([event.id, tool.id, fact.id, work.id]) == {
        event.id,
        tool.id,
        fact.id,
        work.id,
    }
    client.ingest_outcome(event.id, "success")
    assert event.id in store.known([event.id])

    new = client.supersede(fact.id, _semantic(fact, "the sky is blue"), "tester", "fix")
    assert store.known([fact.id, new.id]) == {new.id}
    fork = client.fork(new.id, _semantic(new, "the sky is grey in winter"), "tester", "variant")
    assert store.known([new.id, fork.id]) == {new.id, fork.id}
    merged = client.merge([new.id, fork.id], _semantic(new, "the sky"), "tester", "merge")
    assert store.known([new.id, fork.id, merged.id]) == {merged.id}
    other = client.ingest_working_state("t2", "planning", context_summary="plan", scope=scope)
    client.contest(merged.id, other.id, "tester", "disputed")
    assert merged.id in store.known([merged.id])
    client.retract(other.id, "tester", "done")
    assert store.known([other.id]) == set()
    got = client.recall("what colour is the sky", view=view_of(scope), limit=5)
    assert merged.id in [r.id for r in got] and fact.id not in [r.id for r in got]


def test_a_refused_write_is_never_indexed(client: MembraneClient, index: RecallIndex) -> None:
    scope = container()
    event = client.ingest_event("deploy", "ci#2", summary="an immutable event", scope=scope)
    before = index.store.count(None)
    with pytest.raises(MembraneRpcError):  # episodic records cannot be revised
        client.supersede(event.id, _semantic(event, "rewritten history"), "tester", "no")
    with pytest.raises(MembraneRpcError):  # unknown source
        client.fork("no-such-record", _semantic(event, "a fork of nothing"), "tester", "no")
    with pytest.raises(MembraneRpcError):
        client.retract(event.id, "tester", "episodic cannot be retracted")
    assert index.store.count(None) == before
    assert event.id in index.store.known([event.id])


def test_index_ahead_of_the_daemon_never_yields_a_missing_record(
    client: MembraneClient, index: RecallIndex
) -> None:
    scope = container()
    real = _say(client, scope, "the invoice is due on Monday")
    # a write indexed but never stored (a crash between indexing and the daemon's reply)
    ghost = index.entries([_copy(real, "ghost-" + real.id, "the invoice was paid twice")])
    index.store.upsert(ghost)
    got = client.recall("invoice", view=view_of(scope), limit=5)
    assert [r.id for r in got] == [real.id]
    assert index.store.known([ghost[0].id]) == set()  # pruned: the daemon said NOT_FOUND


def test_the_daemon_decides_what_a_caller_sees(client: MembraneClient, index: RecallIndex) -> None:
    mine, theirs = container(), container()
    own = _say(client, mine, "the launch code is blue falcon")
    secret = _say(client, mine, "the launch code is red falcon", sensitivity=Sensitivity.HIGH)
    foreign = _say(client, theirs, "the launch code is green falcon")
    unscoped = client.ingest_observation("user", "said", "the launch code is grey falcon")
    # whatever the index holds under this container, only the caller's records come back
    index.store.upsert(
        [Entry(r.id, mine, "the launch code", "launch code") for r in (foreign, unscoped)]
    )
    got = client.recall("launch code", view=view_of(mine), limit=10)
    assert [r.id for r in got] == [own.id]
    assert secret.id in index.store.known([secret.id])  # refused, not removed
    high = client.recall("launch code", view=view_of(mine, Sensitivity.HIGH), limit=10)
    assert {r.id for r in high} == {own.id, secret.id}


def test_sync_indexes_records_other_programs_wrote(daemon: Membraned, index: RecallIndex) -> None:
    scope = container()
    with daemon.client(timeout=10) as plain, daemon.client(timeout=10) as ours:
        assert plain.recall_index is None  # e.g. the reference client, or another host
        for fact in FACTS:
            _say(plain, scope, fact)
        ours.recall_index = index
        # the first recall of a view waits for its first sync
        got = ours.recall("window seats on flights", view=view_of(scope), limit=1)
        assert _objects(got) == [FACTS[4]]
        late = _say(plain, scope, "the garden needs watering on Sunday")
        deadline = time.monotonic() + 30
        while True:  # then the scheduled sync (every second here) picks up later writes
            got = ours.recall("garden watering", view=view_of(scope), limit=1)
            if [r.id for r in got] == [late.id]:
                break
            assert time.monotonic() < deadline, "the sync never indexed the late record"
            time.sleep(0.2)  # poll pacing under the deadline


def test_rebuild_from_the_daemon_alone(client: MembraneClient, index: RecallIndex) -> None:
    scope = container()
    for fact in FACTS:
        _say(client, scope, fact)
    index.store.clear(None)
    assert index.rebuild(client, view_of(scope)) == len(FACTS)
    got = client.recall("tea in the morning", view=view_of(scope), limit=1)
    assert _objects(got) == [FACTS[0]]


def _semantic(record: MemoryRecord, text: str) -> dict[str, Any]:
    return {
        "type": "semantic",
        "sensitivity": "low",
        "confidence": 1.0,
        "salience": 1.0,
        "scope": record.scope,
        "payload": {
            "kind": "semantic",
            "subject": "user",
            "predicate": "said",
            "object": text,
            "validity": {"mode": "global"},
            "evidence": [{"source_type": "test", "source_id": record.id}],
        },
    }


def _copy(record: MemoryRecord, record_id: str, text: str) -> MemoryRecord:
    import dataclasses

    payload = dataclasses.replace(record.payload, object=text)  # type: ignore[type-var]
    return dataclasses.replace(record, id=record_id, payload=payload)
