"""What membraned v0.2.0 really does with embeddings on PostgreSQL + pgvector, asserted exactly.

Read from the daemon's source and measured here (tests/support/membraned_pg.py runs the stack):

* **Ingest embeds nothing.** ``IngestObservation`` (and every ingest RPC) writes the record only;
  ``trigger_embeddings`` stays empty, penalize/reinforce do not embed either. Until something
  embeds, retrieval falls back to salience: the same order for every query, as on SQLite.
* **Embeddings are written by** the backfill that runs when the daemon *starts*
  (``BackfillMissing`` in ``pkg/membrane`` ``Start``: every record without one), by the revisions
  that create a record (supersede, fork, merge embed the *new* record before replying) and by
  consolidation. The trigger text of a semantic record is ``subject predicate object``.
* **Ranking with embeddings** (``pkg/retrieval`` ``rankByVector``): the query is embedded, the
  ``max(500, 10 x candidates)`` nearest trigger embeddings are listed (cosine distance), each
  candidate at list position ``r`` of ``n`` scores ``0.7 x (1 - r/n) + 0.3 x salience``, highest
  first; candidates with no embedding come after all of them, by salience.
* On the labelled corpus (salience spread across topics) that blend gives recall@5 well under the
  floor a query-aware ranking reaches: the 0.3 x salience term outweighs the vector rank's steps
  of 0.7/n. Our client-side re-rank (``embeddings=`` on the retriever, the memory and the
  toolkit's pool) reaches it on the same daemon, before or after the backfill.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from membrane_integrations.autogen import MembraneMemory, MembraneMemoryConfig
from membrane_integrations.langchain.membrane_retriever import MembraneRetriever
from membrane_integrations.langchain.membrane_toolkit import MembraneToolkit
from membrane_integrations.membrane import MembraneClient, MemoryRecord, TrustContext
from tests.live.membrane_pg.corpus import (
    QUERIES,
    RECALL_FLOOR,
    SCOPE,
    HashingLangChainEmbeddings,
    recall_at_5,
    seed,
)
from tests.support.membraned import Membraned
from tests.support.membraned_pg import PostgresStack, require_postgres_stack

pytestmark = [pytest.mark.live, pytest.mark.membraned]

TRUST = TrustContext(scopes=[SCOPE])
DEADLINE = 30.0


@pytest.fixture(scope="module")
def daemon_bin() -> str:
    return require_postgres_stack()


@pytest.fixture(scope="module")
def stack(daemon_bin: str) -> Iterator[PostgresStack]:
    with PostgresStack() as running:
        yield running


@pytest.fixture
def seeded(stack: PostgresStack, daemon_bin: str) -> Iterator[tuple[Membraned, dict[str, str]]]:
    """A fresh postgres daemon holding the corpus, nothing embedded yet."""
    with _past_startup_backfill(stack, daemon_bin) as (daemon, client):
        labels = asyncio.run(seed(client))
        yield daemon, labels


@pytest.fixture
def backfilled(
    stack: PostgresStack, seeded: tuple[Membraned, dict[str, str]]
) -> tuple[Membraned, dict[str, str]]:
    """The seeded daemon restarted, after its start-time backfill embedded every record."""
    daemon, labels = seeded
    daemon.restart(keep_data=True)
    _poll(lambda: _count(stack, daemon) == len(labels), "the backfill of every record")
    return daemon, labels


def _poll(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)  # polling under the deadline


@contextmanager
def _past_startup_backfill(
    stack: PostgresStack, daemon_bin: str
) -> Iterator[tuple[Membraned, MembraneClient]]:
    """A fresh daemon whose start-up backfill has passed the semantic records.

    v0.2.0 embeds at start in a background goroutine (``BackfillMissing``) that lists each
    memory type once, so a record ingested while it runs may be embedded by it. Once a sentinel
    (semantic, in a scope the tests' trust does not see) is embedded after a restart, that
    backfill has listed the semantic records and embeds nothing ingested later. The sentinel is
    then deleted from the database (every table cascades from ``memory_records``), so it takes
    no part in any ranking or count.
    """
    with stack.daemon(daemon_bin) as daemon, daemon.client(timeout=30) as client:
        sentinel = client.ingest_observation("harness", "marks", "the backfill", scope="harness")
        daemon.restart(keep_data=True)
        _poll(lambda: sentinel.id in _embedded(stack, daemon), "the start-up backfill to pass")
        stack.sql(daemon, f"DELETE FROM memory_records WHERE id = '{sentinel.id}'")
        assert _embedded(stack, daemon) == set()
        yield daemon, client


def _embedded(stack: PostgresStack, daemon: Membraned) -> set[str]:
    return {row[0] for row in stack.sql(daemon, "SELECT record_id FROM trigger_embeddings")}


def _count(stack: PostgresStack, daemon: Membraned) -> int:
    return len(_embedded(stack, daemon))


def _ranked(daemon: Membraned, limit: int = 5) -> list[list[MemoryRecord]]:
    with daemon.client(timeout=30) as client:
        return [client.retrieve(q, trust=TRUST, limit=limit) for q, _ in QUERIES]


def _ids(ranked: list[list[MemoryRecord]]) -> list[list[str]]:
    return [[r.id for r in records] for records in ranked]


def exact_distances(stack: PostgresStack, daemon: Membraned, query: str) -> dict[str, float]:
    """Cosine distance of every stored trigger embedding to ``query`` (no index: exact)."""
    vector = "[" + ",".join(repr(x) for x in stack.embed(query)) + "]"
    rows = stack.sql(
        daemon, f"SELECT record_id, embedding <=> '{vector}'::vector FROM trigger_embeddings"
    )
    return {rid: float(d) for rid, d in rows}


def _is_hybrid_order(listed: list[MemoryRecord], distance: dict[str, float]) -> bool:
    n = len(listed)
    by_distance = sorted(distance[r.id] for r in listed)

    def rank_span(rid: str) -> tuple[int, int]:
        d = distance[rid]
        tied = [k for k, x in enumerate(by_distance) if abs(x - d) < 1e-6]
        return min(tied), max(tied)

    def vec(rank: int) -> float:
        return (1.0 - rank / n) if n > 1 else 1.0

    for a, b in itertools.pairwise(listed):
        best_a = 0.7 * vec(rank_span(a.id)[0]) + 0.3 * a.salience
        worst_b = 0.7 * vec(rank_span(b.id)[1]) + 0.3 * b.salience
        if best_a < worst_b - 1e-6:
            return False
    return True


def vector_ranked_prefix(
    stack: PostgresStack, daemon: Membraned, query: str, records: list[MemoryRecord]
) -> int:
    """How many leading ``records`` (a full retrieve) ``rankByVector`` ranked; 0 if none.

    The daemon's ``SearchByEmbedding`` may list fewer records than are embedded: its SQL can run
    through the ``ivfflat`` index (``lists = 100``, created on an empty table; the planner picks
    it for prepared statements), which returns only the records of the probed list. So the
    prediction finds the longest prefix that is in ``0.7 x (1 - r/n) + 0.3 x salience`` order
    (``r`` its rank by exact distance among the ``n`` listed; ties may take any rank of the tie)
    with every record after it by salience, as the source says of unlisted records.
    """
    distance = exact_distances(stack, daemon, query)
    for k in range(len(records), -1, -1):
        rest = [r.salience for r in records[k:]]
        if rest == sorted(rest, reverse=True) and _is_hybrid_order(records[:k], distance):
            return k
    raise AssertionError("unreachable: k = 0 with a salience-sorted list always matches")


def test_ingest_and_penalize_embed_nothing_so_ranking_is_salience(
    stack: PostgresStack, seeded: tuple[Membraned, dict[str, str]]
) -> None:
    daemon, labels = seeded
    assert _count(stack, daemon) == 0  # 32 ingests and 26 penalties later
    ranked = _ranked(daemon, limit=100)
    assert all(_ids(ranked)[0] == ids for ids in _ids(ranked))  # the query is ignored
    saliences = [r.salience for r in ranked[0]]
    assert saliences == sorted(saliences, reverse=True) and len(ranked[0]) == len(labels)
    assert recall_at_5(_ids(ranked), labels) < 0.35 < RECALL_FLOOR


def test_a_restart_backfills_and_ranking_is_the_hybrid_score(
    stack: PostgresStack, backfilled: tuple[Membraned, dict[str, str]]
) -> None:
    daemon, labels = backfilled
    assert _embedded(stack, daemon) == set(labels)
    ranked = _ranked(daemon, limit=100)
    for (query, _), records in zip(QUERIES, ranked, strict=True):
        assert {r.id for r in records} == set(labels)
        # a vector-ranked head, then the rest by salience: never salience order from the top
        assert vector_ranked_prefix(stack, daemon, query, records) > 0, query
    top5 = [ids[:5] for ids in _ids(ranked)]
    assert len({tuple(ids) for ids in top5}) > 1  # the query now matters


def test_revisions_embed_the_new_record_and_unembedded_records_go_last(
    stack: PostgresStack, daemon_bin: str
) -> None:
    with _past_startup_backfill(stack, daemon_bin) as (daemon, client):
        old = client.ingest_observation("team", "noted", "Invoices are sent monthly", scope=SCOPE)
        other = client.ingest_observation("team", "noted", "The piano needs tuning", scope=SCOPE)
        assert _embedded(stack, daemon) == set()
        new = client.supersede(
            old.id,
            {
                "type": "semantic",
                "sensitivity": "low",
                "scope": SCOPE,
                "provenance": {"sources": [{"kind": "observation", "ref": old.id}]},
                # without a lifecycle the postgres store refuses the row (decay curve check)
                "lifecycle": {"decay": {"curve": "exponential", "half_life_seconds": 86400}},
                "payload": {
                    "kind": "semantic",
                    "subject": "team",
                    "predicate": "noted",
                    "object": "Invoices are sent on the first day of each month",
                },
            },
            "agent",
            "more precise",
        )
        assert _embedded(stack, daemon) == {new.id}  # embedded before the reply
        client.reinforce(other.id, "agent", "used")
        assert _embedded(stack, daemon) == {new.id}
        # the piano record scores higher by salience but has no embedding: it goes last
        ranked = client.retrieve("piano tuning", trust=TRUST, limit=10)
        assert ranked[0].id == new.id and ranked[-1].id in {other.id, old.id}
        assert {r.id for r in ranked[1:]} <= {other.id, old.id}


def test_client_side_rerank_reaches_the_floor_on_postgres(
    stack: PostgresStack, seeded: tuple[Membraned, dict[str, str]]
) -> None:
    daemon, labels = seeded
    embeddings = HashingLangChainEmbeddings()
    with daemon.client(timeout=30) as client:
        plain = MembraneRetriever(recall_index=False, client=client, scope=SCOPE, k=5)
        reranked = MembraneRetriever(
            recall_index=False,
            client=client,
            scope=SCOPE,
            k=5,
            embeddings=embeddings,
            candidate_pool=40,
        )
        assert (
            recall_at_5([[d.id or "" for d in plain.invoke(q)] for q, _ in QUERIES], labels) < 0.35
        )
        ranked = [[d.id or "" for d in reranked.invoke(q)] for q, _ in QUERIES]
    assert recall_at_5(ranked, labels) >= RECALL_FLOOR
    assert embeddings.calls > 0


async def test_client_side_rerank_after_the_backfill_async(
    stack: PostgresStack, backfilled: tuple[Membraned, dict[str, str]]
) -> None:
    daemon, labels = backfilled
    async with daemon.async_client(timeout=30) as aclient:
        retriever = MembraneRetriever(
            recall_index=False,
            async_client=aclient,
            scope=SCOPE,
            k=5,
            embeddings=HashingLangChainEmbeddings(),
            candidate_pool=40,
        )
        ranked = [[d.id or "" for d in await retriever.ainvoke(q)] for q, _ in QUERIES]
    assert recall_at_5(ranked, labels) >= RECALL_FLOOR


async def test_retrieve_tool_returns_the_daemons_order(
    stack: PostgresStack, backfilled: tuple[Membraned, dict[str, str]]
) -> None:
    daemon, _ = backfilled
    # What the daemon answered each call, seen on the real clients: v0.2.0's order is not stable
    # from one call to the next (its query embedding may fail silently, decay moves salience), so
    # the tool is compared with the reply to its own call, not with a second retrieve.
    replies: list[list[str]] = []
    with daemon.client(timeout=30) as client:
        async with daemon.async_client(timeout=30) as aclient:
            sync_retrieve, async_retrieve = client.retrieve, aclient.retrieve

            def spy(*args: Any, **kwargs: Any) -> list[MemoryRecord]:
                records = sync_retrieve(*args, **kwargs)
                replies.append([r.id for r in records])
                return records

            async def aspy(*args: Any, **kwargs: Any) -> list[MemoryRecord]:
                records = await async_retrieve(*args, **kwargs)
                replies.append([r.id for r in records])
                return records

            client.retrieve = spy  # type: ignore[method-assign]
            aclient.retrieve = aspy  # type: ignore[method-assign]
            kit = MembraneToolkit(
                client=client, async_client=aclient, trust=TRUST, scope=SCOPE, actor="pg-test"
            )
            tool = next(t for t in kit.get_tools() if t.name == "membrane_retrieve")
            ranked: list[list[str]] = []
            for i, (query, _) in enumerate(QUERIES):
                call: dict[str, Any] = {
                    "type": "tool_call",
                    "id": f"c{i}",
                    "name": tool.name,
                    "args": {"task_descriptor": query, "limit": 5},
                }
                message = tool.invoke(call) if i % 2 else await tool.ainvoke(call)
                assert isinstance(message, ToolMessage) and message.status == "success"
                assert len(message.artifact) == 5
                ranked.append([r.id for r in message.artifact])
    # the tool passes the daemon's ranking on, in the daemon's order (no re-rank of its own)
    assert ranked == replies and len(replies) == len(QUERIES)


async def test_memory_query_reranks_on_postgres(
    stack: PostgresStack, backfilled: tuple[Membraned, dict[str, str]]
) -> None:
    daemon, labels = backfilled
    config = MembraneMemoryConfig(container=SCOPE, addr=daemon.addr, k=5)
    async with daemon.async_client(timeout=30) as aclient:
        plain = MembraneMemory(config, recall_index=False, client=aclient)
        memory = MembraneMemory(
            config,
            recall_index=False,
            client=aclient,
            embeddings=HashingLangChainEmbeddings(),
            candidate_pool=40,
        )
        server = [
            [str((h.metadata or {})["id"]) for h in (await plain.query(q)).results]
            for q, _ in QUERIES
        ]
        ours = [
            [str((h.metadata or {})["id"]) for h in (await memory.query(q)).results]
            for q, _ in QUERIES
        ]
    assert recall_at_5(ours, labels) >= RECALL_FLOOR
    assert all(len(ids) == 5 for ids in server)  # the plain memory answers with the daemon's order


def test_sqlite_store_ignores_the_query(daemon_bin: str) -> None:
    with Membraned(daemon_bin) as daemon, daemon.client(timeout=30) as client:
        labels = asyncio.run(seed(client))
        ranked = [[r.id for r in client.retrieve(q, trust=TRUST, limit=5)] for q, _ in QUERIES]
    assert all(ids == ranked[0] for ids in ranked)
    assert recall_at_5(ranked, labels) < 0.35 < RECALL_FLOOR


def test_selection_is_still_computed_on_postgres(stack: PostgresStack, daemon_bin: str) -> None:
    """Spec 4.15: with embeddings the selection exists but is not moved to the front."""
    with stack.daemon(daemon_bin) as daemon, daemon.client(timeout=30) as client:
        obs = client.ingest_observation("s", "p", "o")
        skill = {
            "type": "competence",
            "sensitivity": "low",
            "confidence": 1,
            "salience": 1,
            "lifecycle": {"decay": {"curve": "exponential", "half_life_seconds": 86400}},
            "provenance": {"sources": [{"kind": "observation", "ref": obs.id}]},
            "payload": {
                "kind": "competence",
                "skill_name": "deploy",
                "triggers": [{"signal": "deploy requested"}],
                "recipe": [{"step": "run tests", "tool": "pytest"}],
                "performance": {"success_count": 9, "failure_count": 1, "success_rate": 0.9},
            },
        }
        competence = client.fork(obs.id, skill, "agent-1", "learned")
        assert _embedded(stack, daemon) == {competence.id}  # fork embeds the new record
        result = client.retrieve_with_selection("deploy the service")
    assert result.selection is not None
    assert [r.id for r in result.selection.selected] == [competence.id]
    assert {r.id for r in result.records} == {obs.id, competence.id}
