"""Client-side re-ranking over the membraned TEST DOUBLE, which ranks by salience like SQLite.

The labelled corpus (``corpus.py``) spreads salience across topics, so salience alone fails the
recall@5 floor; ``MembraneRetriever(embeddings=...)`` and ``MembraneMemory(embeddings=...)``
must reach it with the emulator's hashed embedder behind a LangChain ``Embeddings``.
"""

from __future__ import annotations

from collections.abc import Iterator

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
from tests.support.membrane_double import MembraneDouble

pytestmark = pytest.mark.live

API_KEY = "rerank-double-key-5e1"


@pytest.fixture
def double() -> Iterator[MembraneDouble]:
    with MembraneDouble(api_key=API_KEY) as server:
        yield server


@pytest.fixture
async def seeded(double: MembraneDouble) -> dict[str, str]:
    with MembraneClient(double.addr, api_key=API_KEY) as client:
        return await seed(client)


def _ids(docs: list[object]) -> list[str]:
    return [str(getattr(d, "id", None)) for d in docs]


async def test_salience_alone_fails_the_floor(
    double: MembraneDouble, seeded: dict[str, str]
) -> None:
    with MembraneClient(double.addr, api_key=API_KEY) as client:
        ranked = [
            [r.id for r in client.retrieve(q, trust=TrustContext(scopes=[SCOPE]), limit=5)]
            for q, _ in QUERIES
        ]
    assert all(ids == ranked[0] for ids in ranked), "the double ignores the query, like SQLite"
    assert recall_at_5(ranked, seeded) < 0.35 < RECALL_FLOOR


async def test_retriever_without_embeddings_ignores_the_query(
    double: MembraneDouble, seeded: dict[str, str]
) -> None:
    with MembraneClient(double.addr, api_key=API_KEY) as client:
        retriever = MembraneRetriever(client=client, scope=SCOPE, k=5)
        first = _ids(retriever.invoke(QUERIES[0][0]))
        assert all(_ids(retriever.invoke(q)) == first for q, _ in QUERIES[1:])
        saliences = [d.metadata["salience"] for d in retriever.invoke("anything")]
    assert saliences == sorted(saliences, reverse=True)


async def test_retriever_reranks_with_embeddings(
    double: MembraneDouble, seeded: dict[str, str]
) -> None:
    embeddings = HashingLangChainEmbeddings()
    with MembraneClient(double.addr, api_key=API_KEY) as client:
        plain = MembraneRetriever(client=client, scope=SCOPE, k=5)
        # the pool covers the whole corpus: a record outside the pool cannot be re-ranked in
        retriever = MembraneRetriever(
            client=client, scope=SCOPE, k=5, embeddings=embeddings, candidate_pool=40
        )
        salience_first = seeded[plain.invoke("anything")[0].id or ""]
        ranked = [_ids(retriever.invoke(q)) for q, _ in QUERIES]
        # every query's best record is on its topic, where salience would put one topic first
        assert [seeded[ids[0]] for ids in ranked] == [topic for _, topic in QUERIES]
        assert sum(topic != salience_first for _, topic in QUERIES) == len(QUERIES) - 1
        assert len(retriever.invoke(QUERIES[0][0], k=2)) == 2
        assert double.calls_of("Retrieve")[-1].request.limit == 40
        # without candidate_pool the daemon is asked for 4 x k with a floor of 20
        default_pool = MembraneRetriever(client=client, scope=SCOPE, k=6, embeddings=embeddings)
        assert len(default_pool.invoke(QUERIES[0][0])) == 6
        assert double.calls_of("Retrieve")[-1].request.limit == 24
    assert recall_at_5(ranked, seeded) >= RECALL_FLOOR
    assert embeddings.calls > 0
    assert "embeddings" not in retriever.model_dump()
    assert "Hashing" not in repr(retriever)


async def test_retriever_reranks_async(double: MembraneDouble, seeded: dict[str, str]) -> None:
    async with AsyncMembraneClient(double.addr, api_key=API_KEY) as aclient:
        retriever = MembraneRetriever(
            async_client=aclient,
            scope=SCOPE,
            k=5,
            embeddings=HashingLangChainEmbeddings(),
            candidate_pool=40,
        )
        ranked = [_ids(await retriever.ainvoke(q)) for q, _ in QUERIES]
    assert double.calls_of("Retrieve")[-1].request.limit == 40
    assert recall_at_5(ranked, seeded) >= RECALL_FLOOR


async def test_memory_query_reranks_with_embeddings(
    double: MembraneDouble, seeded: dict[str, str]
) -> None:
    config = MembraneMemoryConfig(container=SCOPE, addr=double.addr, k=5)
    async with AsyncMembraneClient(double.addr, api_key=API_KEY) as aclient:
        plain = MembraneMemory(config, client=aclient)
        memory = MembraneMemory(
            config, client=aclient, embeddings=HashingLangChainEmbeddings(), candidate_pool=40
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
