"""The recall's follow-up search on the real emulator: a memory only a rare word of the query
finds joins the pool, under the same container filter.

The container holds more memories than the first pool (so the pool is full) and many of them
share the query's meaning; one memory shares only a rare made-up word with it. The first pool
misses that memory (checked first: without that the test would prove nothing); the recall,
sync and async, finds it, and never the neighbour container's copy of it.
"""

from __future__ import annotations

import pytest

from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain.recall import (
    arecall,
    follow_up_query,
    pool_size,
    recall,
    search_args,
)
from membrane_integrations.membrain.tenancy import Tenancy
from tests.support.emulator_fixtures import KEY_A

pytestmark = pytest.mark.live

K = 3
PLACES = ("lake", "coast", "forest", "desert", "valley", "island", "canyon", "glacier")
FILLERS = [
    f"Alice planned a weekend trip to the {place} with her sister, trip number {n}"
    for n, place in enumerate(PLACES * 6, start=1)
]
RARE = "The plumber Quzzlewick fixed the leaking kitchen sink on Tuesday"
QUERY = "Which trip did Alice plan with Quzzlewick?"


@pytest.fixture
def seeded(emu: MembrainEmulator, box: str) -> str:
    """``box`` with more memories than the first pool holds; a neighbour with the rare one."""
    assert len(FILLERS) + 1 > pool_size(K)
    with emu.client(KEY_A) as client:
        tokens = Tenancy(box).write_tokens(None)
        for text in [*FILLERS, RARE]:
            client.add(text, scope=tokens)
        client.add(RARE + " again", scope=Tenancy(box + "x").write_tokens(None))
        first = client.search(QUERY, **search_args(Tenancy(box), K))
    assert len(first.results) == pool_size(K)  # the pool is full
    assert RARE not in {node.content for node in first.nodes}  # the meaning alone misses it
    assert "quzzlewick" in follow_up_query(QUERY, first.nodes).split()
    return box


async def test_recall_finds_the_rare_word_memory_sync_and_async(
    emu: MembrainEmulator, seeded: str
) -> None:
    with emu.client(KEY_A) as client:
        found = recall(client, Tenancy(seeded), QUERY, K)
    async with emu.async_client(KEY_A) as aclient:
        afound = await arecall(aclient, Tenancy(seeded), QUERY, K)
    for reply in (found, afound):
        contents = [node.content for node in reply.nodes]
        assert len(contents) == K and RARE in contents
        assert all(Tenancy(seeded).owns(node.scope) for node in reply.nodes)
        assert not any(Tenancy(seeded + "x").owns(node.scope) for node in reply.nodes)
    assert [n.id for n in found.nodes] == [n.id for n in afound.nodes]


async def test_retriever_finds_the_rare_word_memory(emu: MembrainEmulator, seeded: str) -> None:
    from membrane_integrations.langchain import MembrainRetriever

    with emu.client(KEY_A) as client:
        docs = MembrainRetriever(client=client, container=seeded, k=K).invoke(QUERY)
    assert RARE in [d.page_content for d in docs] and len(docs) == K
