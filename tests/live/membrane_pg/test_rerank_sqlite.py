"""Client-side re-ranking over the real membraned on SQLite, which ranks by salience only.

The labelled corpus (``corpus.py``) spreads salience across topics, so salience alone fails the
recall@5 floor; ``MembraneRetriever(embeddings=...)`` and ``MembraneMemory(embeddings=...)``
must reach it with the emulator's hashed embedder behind a LangChain ``Embeddings``. The size
of the candidate pool asked of the daemon is observed on our own client (a spy on ``retrieve``).
These are the surfaces with their recall index off (``recall_index=False``): the pool re-rank
of the daemon's own order; with the index (the default) see ``tests/live/membrane_recall``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from membrane_integrations.autogen import MembraneMemory
from membrane_integrations.autogen.config import MembraneMemoryConfig
from membrane_integrations.langchain.membrane_retriever import MembraneRetriever
from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient, TrustContext
from tests.live.membrane_pg.corpus import (
    QUERIES,
    RECALL_FLOOR,
    SCOPE,
    HashingLangChainEmbeddings,
    recall_at_5,
    seed,
)
from tests.support.membraned import Membraned, require_daemon

pytestmark = [pytest.mark.live, pytest.mark.membraned]

API_KEY = "rerank-sqlite-key-5e1"


@pytest.fixture
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon(), api_key=API_KEY) as server:
        yield server


def spy_limits(client: Any) -> list[int]:
    """Record the ``limit`` of every ``retrieve`` the client sends (then calls through)."""
    limits: list[int] = []
    real = client.retrieve

    def retrieve(*args: Any, **kwargs: Any) -> Any:
        limits.append(kwargs.get("limit", 10))
        return real(*args, **kwargs)

    client.retrieve = retrieve
    return limits


@pytest.fixture
async def seeded(daemon: Membraned) -> dict[str, str]:
    with MembraneClient(daemon.addr, api_key=API_KEY) as client:
        return await seed(client)


def _ids(docs: list[object]) -> list[str]:
    return [str(getattr(d, "id", None)) for d in docs]


async def test_salience_alone_fails_the_floor(daemon: Membraned, seeded: dict[str, str]) -> None:
    with MembraneClient(daemon.addr, api_key=API_KEY) as client:
        ranked = [
            [r.id for r in client.retrieve(q, trust=TrustContext(scopes=[SCOPE]), limit=5)]
            for q, _ in QUERIES
        ]
    assert all(ids == ranked[0] for ids in ranked), "SQLite ignores the query"
    assert recall_at_5(ranked, seeded) < 0.35 < RECALL_FLOOR


async def test_retriever_without_embeddings_ignores_the_query(
    daemon: Membraned, seeded: dict[str, str]
) -> None:
    with MembraneClient(daemon.addr, api_key=API_KEY) as client:
        retriever = MembraneRetriever(recall_index=False, client=client, scope=SCOPE, k=5)
        first = _ids(retriever.invoke(QUERIES[0][0]))
        assert all(_ids(retriever.invoke(q)) == first for q, _ in QUERIES[1:])
        saliences = [d.metadata["salience"] for d in retriever.invoke("anything")]
    assert saliences == sorted(saliences, reverse=True)


async def test_retriever_reranks_with_embeddings(daemon: Membraned, seeded: dict[str, str]) -> None:
    embeddings = HashingLangChainEmbeddings()
    with MembraneClient(daemon.addr, api_key=API_KEY) as client:
        limits = spy_limits(client)
        plain = MembraneRetriever(recall_index=False, client=client, scope=SCOPE, k=5)
        # the pool covers the whole corpus: a record outside the pool cannot be re-ranked in
        retriever = MembraneRetriever(
            recall_index=False,
            client=client,
            scope=SCOPE,
            k=5,
            embeddings=embeddings,
            candidate_pool=40,
        )
        salience_first = seeded[plain.invoke("anything")[0].id or ""]
        ranked = [_ids(retriever.invoke(q)) for q, _ in QUERIES]
        # every query's best record is on its topic, where salience would put one topic first
        assert [seeded[ids[0]] for ids in ranked] == [topic for _, topic in QUERIES]
        assert sum(topic != salience_first for _, topic in QUERIES) == len(QUERIES) - 1
        assert len(retriever.invoke(QUERIES[0][0], k=2)) == 2
        assert limits[-1] == 40
        # without candidate_pool the daemon is asked for 4 x k with a floor of 20
        default_pool = MembraneRetriever(
            recall_index=False, client=client, scope=SCOPE, k=6, embeddings=embeddings
        )
        assert len(default_pool.invoke(QUERIES[0][0])) == 6
        assert limits[-1] == 24
    assert recall_at_5(ranked, seeded) >= RECALL_FLOOR
    assert embeddings.calls > 0
    assert "embeddings" not in retriever.model_dump()
    assert "Hashing" not in repr(retriever)


async def test_retriever_reranks_async(daemon: Membraned, seeded: dict[str, str]) -> None:
    async with AsyncMembraneClient(daemon.addr, api_key=API_KEY) as aclient:
        limits = spy_limits(aclient)
        retriever = MembraneRetriever(
            recall_index=False,
            async_client=aclient,
            scope=SCOPE,
            k=5,
            embeddings=HashingLangChainEmbeddings(),
            candidate_pool=40,
        )
        ranked = [_ids(await retriever.ainvoke(q)) for q, _ in QUERIES]
    assert limits[-1] == 40
    assert recall_at_5(ranked, seeded) >= RECALL_FLOOR


async def test_memory_query_reranks_with_embeddings(
    daemon: Membraned, seeded: dict[str, str]
) -> None:
    config = MembraneMemoryConfig(container=SCOPE, addr=daemon.addr, k=5)
    async with AsyncMembraneClient(daemon.addr, api_key=API_KEY) as aclient:
        plain = MembraneMemory(config, recall_index=False, client=aclient)
        memory = MembraneMemory(
            config,
            recall_index=False,
            client=aclient,
            embeddings=HashingLangChainEmbeddings(),
            candidate_pool=40,
        )
        ranked: list[list[str]] = []
        plain_ranked: list[list[str]] = []
        for query, _ in QUERIES:
            hits = (await memory.query(query)).results
            assert len(hits) == 5
            ranked.append([str((h.metadata or {})["id"]) for h in hits])
            plain_hits = (await plain.query(query)).results
            plain_ranked.append([str((h.metadata or {})["id"]) for h in plain_hits])
        limited = [(await memory.query(q, limit=1)).results for q, _ in QUERIES]
    assert [seeded[str((hits[0].metadata or {})["id"])] for hits in limited] == [
        topic for _, topic in QUERIES
    ]
    assert recall_at_5(plain_ranked, seeded) < 0.35
    assert recall_at_5(ranked, seeded) >= RECALL_FLOOR
    assert "embeddings" not in memory.dump_component().model_dump_json()
