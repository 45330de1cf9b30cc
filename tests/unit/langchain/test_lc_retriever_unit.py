"""MembrainRetriever over the fake client: documents, metadata, k, edges, tenancy."""

from __future__ import annotations

import pytest

from membrane_integrations.langchain import MembrainRetriever
from membrane_integrations.membrain.models import RelationshipEdge
from tests.unit.langchain.lc_fakes import AsyncFakeMembrain, FakeMembrain


@pytest.fixture
def fake() -> FakeMembrain:
    fake = FakeMembrain()
    a = fake.seed("Bob likes tea", ["container.bob", "type.preference"])
    b = fake.seed("Bob dislikes coffee", ["container.bob"])
    fake.seed("Bob2 secret", ["container.bob2"])
    fake.link(a, b, "drinks")
    fake.edges_in_search = [RelationshipEdge(description="drinks", source=a, target=b, score=0.6)]
    return fake


def test_documents_have_ids_and_metadata(fake: FakeMembrain) -> None:
    retriever = MembrainRetriever(client=fake, container="bob", scope=["type\\.pref"])
    docs = retriever.invoke("What does Bob drink?")
    assert [d.page_content for d in docs] == ["Bob likes tea"]
    doc = docs[0]
    assert doc.id == doc.metadata["memory_id"] == "m1"
    assert doc.metadata["type"] == "memory_node"
    assert doc.metadata["scope"] == ["container.bob", "type.preference"]
    assert doc.metadata["related_memories"] == []  # m2 does not match the type filter
    assert fake.calls[-1][2]["scope"] == ["^container\\.bob$", "type\\.pref"]
    assert fake.calls[-1][2]["rerank"] is True  # k memories, edges folded in


async def test_k_edges_related_and_async(fake: FakeMembrain) -> None:
    retriever = MembrainRetriever(
        client=fake, async_client=AsyncFakeMembrain(fake), container="bob", include_edges=True
    )
    docs = await retriever.ainvoke("What does Bob drink?")
    assert fake.calls[-1][2]["rerank"] is False
    assert [d.metadata["type"] for d in docs] == ["memory_node", "memory_node", "relationship_edge"]
    assert docs[0].metadata["related_memories"][0]["id"] == "m2"
    assert docs[2].metadata["source"] == "m1" and docs[2].id == "edge:m1:m2"
    # k counts memories only: the edge touching the one memory follows it
    assert [d.metadata["type"] for d in retriever.invoke("q", k=1)] == [
        "memory_node",
        "relationship_edge",
    ]
    plain = MembrainRetriever(client=fake, container="bob", include_related=False)
    assert [d.metadata["type"] for d in plain.invoke("q")] == ["memory_node", "memory_node"]
    assert "related_memories" not in plain.invoke("q")[0].metadata


def test_leaky_server_and_missing_clients(fake: FakeMembrain) -> None:
    fake.leaky = True
    docs = MembrainRetriever(client=fake, container="bob").invoke("anything")
    assert "Bob2 secret" not in [d.page_content for d in docs]
    with pytest.raises(ValueError, match="client"):
        MembrainRetriever()
    only_async = MembrainRetriever(client=AsyncFakeMembrain(fake), container="bob")
    assert only_async.invoke("q")  # a sync client is derived from the async one
    only_async.close()
    assert [c[0] for c in fake.calls][-1] == "close"


async def test_sync_only_retriever_works_under_ainvoke(fake: FakeMembrain) -> None:
    retriever = MembrainRetriever(client=fake, container="bob", k=1)
    docs = await retriever.ainvoke("q")
    assert len(docs) == 1 and "container.bob" in docs[0].metadata["scope"]
    await retriever.aclose()
    assert [c[0] for c in fake.calls][-1] == "aclose"
