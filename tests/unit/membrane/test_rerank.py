"""Unit tests of client-side re-ranking (``core.rerank``) and its use by the retriever (no I/O)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from membrane_integrations.core.rerank import (
    EmbeddingsLike,
    arerank,
    candidate_pool,
    cosine,
    order_by_similarity,
    rerank,
)
from membrane_integrations.langchain.membrane_retriever import MembraneRetriever
from membrane_integrations.membrane import MemoryRecord, MemoryType, SemanticPayload

WORDS = ("tea", "deploy", "piano")


class BagOfWords:
    """Counts of three words: the similarity the tests expect is obvious by reading."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.batches: list[list[str]] = []

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return [float(text.split().count(w)) for w in WORDS]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.batches.append(list(texts))
        return [[float(t.split().count(w)) for w in WORDS] for t in texts]


class AsyncBagOfWords(BagOfWords):
    def __init__(self) -> None:
        super().__init__()
        self.async_calls = 0

    async def aembed_query(self, text: str) -> list[float]:
        self.async_calls += 1
        return self.embed_query(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        self.async_calls += 1
        return self.embed_documents(texts)


class Broken(BagOfWords):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0, 0.0]]


def test_cosine_values_and_zero_vectors() -> None:
    assert cosine([1.0, 0.0], [2.0, 0.0]) == pytest.approx(1.0)
    assert cosine([1.0, 0.0], [0.0, 3.0]) == 0.0
    assert cosine([1.0, 1.0], [-1.0, -1.0]) == pytest.approx(-1.0)
    assert cosine([0.0, 0.0], [1.0, 0.0]) == 0.0
    assert cosine([1.0, 2.0, 2.0], [2.0, 1.0, 2.0]) == pytest.approx(8 / 9)
    with pytest.raises(ValueError, match="sizes differ"):
        cosine([1.0], [1.0, 2.0])


def test_order_breaks_ties_by_salience_then_server_order() -> None:
    query = [1.0, 0.0]
    vectors = [[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [1.0, 0.0], [3.0, 0.0]]
    salience = [1.0, 0.5, 0.5, 0.9, 0.1]
    # 1..4 all have cosine 1: salience 0.9 first, then the 0.5 pair in server order, then 0.1
    assert order_by_similarity(query, vectors, salience) == [3, 1, 2, 4, 0]
    with pytest.raises(ValueError, match="one salience"):
        order_by_similarity(query, vectors, salience[:2])


def test_candidate_pool_defaults_floor_cap_and_override() -> None:
    assert [candidate_pool(k) for k in (1, 5, 6, 50, 100)] == [20, 20, 24, 200, 200]
    assert candidate_pool(5, 40) == 40
    assert candidate_pool(10, 3) == 10  # never fewer candidates than results
    assert candidate_pool(300) == 300  # k above the cap still gets k
    with pytest.raises(ValueError):
        candidate_pool(5, 0)


def test_rerank_orders_by_query_and_cuts_to_k() -> None:
    emb = BagOfWords()
    items = ["piano lessons", "deploy friday", "tea tea", "tea deploy"]
    out = rerank(emb, "tea", items, texts=items, salience=[0.9, 0.8, 0.1, 0.5], k=2)
    assert out == ["tea tea", "tea deploy"]
    assert emb.queries == ["tea"] and emb.batches == [items]
    assert rerank(emb, "tea", [], texts=[], salience=[]) == []
    # the query decides: the same items and saliences, another query, another order
    assert rerank(emb, "piano", items, texts=items, salience=[0.1, 0.8, 0.1, 0.5])[0] == items[0]


def test_rerank_with_a_text_function_and_no_k() -> None:
    items: list[dict[str, Any]] = [{"t": "deploy"}, {"t": "tea"}, {"t": "piano"}]
    out = rerank(BagOfWords(), "tea", items, texts=lambda i: str(i["t"]), salience=[1, 1, 1])
    assert [i["t"] for i in out] == ["tea", "deploy", "piano"]


def test_rerank_refuses_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="one text per item"):
        rerank(BagOfWords(), "tea", ["a", "b"], texts=["a"], salience=[1, 1])
    with pytest.raises(ValueError, match="returned 1 embeddings for 2 texts"):
        rerank(Broken(), "tea", ["a", "b"], texts=["a", "b"], salience=[1, 1])


async def test_arerank_prefers_async_methods_and_falls_back_to_sync() -> None:
    items = ["deploy", "tea", "piano tea"]
    emb = AsyncBagOfWords()
    out = await arerank(emb, "tea", items, texts=items, salience=[0.0, 0.2, 0.9], k=1)
    assert out == ["tea"]  # cosine 1.0 beats 0.707 despite lower salience
    assert emb.async_calls == 2
    sync_only = BagOfWords()
    assert await arerank(sync_only, "tea", items, texts=items, salience=[0, 0, 0]) == [
        "tea",
        "piano tea",
        "deploy",
    ]
    assert isinstance(sync_only, EmbeddingsLike)


def _record(rid: str, text: str, salience: float) -> MemoryRecord:
    return MemoryRecord(
        id=rid,
        type=MemoryType.SEMANTIC,
        scope="kb",
        salience=salience,
        payload=SemanticPayload(subject="team", predicate="noted", object=text),
    )


class FakeClient:
    """A sync Membrane client that returns records by salience, like SQLite (no I/O)."""

    def __init__(self, records: list[MemoryRecord]) -> None:
        self.records = sorted(records, key=lambda r: -r.salience)
        self.limits: list[int] = []

    def retrieve(self, task_descriptor: str, **kwargs: Any) -> list[MemoryRecord]:
        self.limits.append(kwargs["limit"])
        return self.records[: kwargs["limit"]]


def test_retriever_reranks_its_pool_and_keeps_order_without_embeddings() -> None:
    records = [_record(f"r{i}", "deploy notes", 1.0 - i / 100) for i in range(30)]
    records.append(_record("tea", "tea tea", 0.75))  # 26th by salience
    client = FakeClient(records)
    plain = MembraneRetriever(client=client, scope="kb", k=3)
    assert [d.id for d in plain.invoke("tea")] == ["r0", "r1", "r2"]
    assert client.limits[-1] == 9
    ranked = MembraneRetriever(client=client, scope="kb", k=3, embeddings=BagOfWords())
    assert [d.id for d in ranked.invoke("tea")] == ["r0", "r1", "r2"]  # pool of 20 misses it
    assert client.limits[-1] == 20
    wide = MembraneRetriever(
        client=client, scope="kb", k=3, embeddings=BagOfWords(), candidate_pool=30
    )
    docs = wide.invoke("tea")
    # "tea" first; the deploy records tie at cosine 0, so salience decides between them
    assert [d.id for d in docs] == ["tea", "r0", "r1"]
    assert math.isclose(docs[0].metadata["salience"], 0.75)
