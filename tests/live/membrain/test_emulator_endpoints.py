"""Every endpoint of the guide's section 4, through the sync and the async client."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from membrane_integrations.core.errors import NotFoundError
from membrane_integrations.membrain._add_token import is_add_token
from membrane_integrations.membrain.models import IngestAccepted, MemoryNode
from tests.support.emulator_fixtures import Either

pytestmark = pytest.mark.live

TEA = "User likes green tea, especially sencha"
TEA2 = "User drinks green tea every morning"
DEPLOY = "The deploy is on Friday"


def token(box: str) -> str:
    return f"container.{box}"


def only(box: str) -> list[str]:
    return [f"^container\\.{box}$"]


async def seed(api: Either, box: str, *facts: str, category: str | None = None) -> list[str]:
    ids = []
    for fact in facts:
        result = await api.add(fact, scope=[token(box)], category=category)
        ids.append(result.memory_id)
    return ids


async def test_add_polls_a_job_to_a_created_memory(api: Either, box: str) -> None:
    result = await api.add(TEA, scope=[token(box), "type.preference"], category="drinks")
    assert result.action == "created"
    memory = result.memory
    assert memory is not None and memory.id == result.memory_id
    assert memory.content == TEA
    *scope, add_token = memory.scope  # the client's add token comes last
    assert scope == [token(box), "type.preference"] and is_add_token(add_token)
    assert memory.category == "drinks"
    assert isinstance(memory.created_at, datetime)


async def test_add_without_waiting_returns_the_job_and_an_absolute_status_url(
    api: Either, box: str, raw: httpx.Client
) -> None:
    accepted = await api.add(TEA, scope=[token(box)], wait=False)
    assert isinstance(accepted, IngestAccepted)
    assert accepted.job_status in ("queued", "processing")
    assert accepted.status_url is not None
    assert accepted.status_url.startswith("http://127.0.0.1:")
    assert accepted.status_url.endswith(f"/api/v1/memories/jobs/{accepted.job_id}")
    result = await api.wait_for_job(accepted.job_id)
    job = await api.get_job(accepted.job_id)
    assert job.status == "completed" and job.result is not None
    assert job.result.memory_id == result.memory_id
    # The emulator runs in its own thread, so a blocking call here cannot deadlock.
    assert raw.get(accepted.status_url).json()["status"] == "completed"  # noqa: ASYNC212


async def test_raw_search_ranks_related_wording_first_and_returns_edges(
    api: Either, box: str
) -> None:
    tea, tea2, deploy = await seed(api, box, TEA, TEA2, DEPLOY)
    reply = await api.search("What drinks does the user like?", k=10, scope=only(box))
    ranked = [n.id for n in reply.nodes]
    assert ranked.index(tea) < ranked.index(deploy)
    node = next(n for n in reply.nodes if n.id == tea)
    assert [r.id for r in node.related_memories] == [tea2]
    assert node.related_memories[0].description
    assert reply.edges, "the link between the two tea facts is a search hit of its own"
    edge = reply.edges[0]
    assert {edge.source.id, edge.target.id} == {tea, tea2}
    assert "tea" in edge.description.lower()
    scores = [r.semantic_score if isinstance(r, MemoryNode) else r.score for r in reply.results]
    assert scores == sorted(scores, reverse=True)
    assert reply.scope == only(box)


async def test_k_caps_the_unified_results(api: Either, box: str) -> None:
    await seed(api, box, TEA, TEA2, DEPLOY)
    reply = await api.search("green tea", k=2, scope=only(box))
    assert len(reply.results) == 2


async def test_rerank_folds_edges_into_unique_sorted_nodes(api: Either, box: str) -> None:
    tea, tea2, _ = await seed(api, box, TEA, TEA2, DEPLOY)
    reply = await api.search("green tea every morning", k=2, scope=only(box), rerank=True)
    assert all(isinstance(r, MemoryNode) for r in reply.results)
    ids = [n.id for n in reply.nodes]
    assert sorted(ids) == sorted({tea, tea2})
    scores = [n.semantic_score for n in reply.nodes]
    assert scores == sorted(scores, reverse=True)


async def test_full_scope_lists_every_match_with_score_one(api: Either, box: str) -> None:
    ids = await seed(api, box, TEA, TEA2, DEPLOY)
    reply = await api.search("anything", k=1, scope=only(box), full_scope=True, rerank=True)
    assert sorted(n.id for n in reply.nodes) == sorted(ids)
    assert all(n.semantic_score == 1.0 and n.related_memories == [] for n in reply.nodes)
    assert not reply.edges


def test_full_scope_without_scope_is_400(raw: httpx.Client) -> None:
    reply = raw.post("/api/v1/memories/search", json={"query": "x", "full_scope": True})
    assert reply.status_code == 400
    assert reply.json()["detail"]["code"] == "SCOPE_REQUIRED"


async def test_interpreted_and_both(api: Either, box: str) -> None:
    tea, tea2, _ = await seed(api, box, TEA, TEA2, DEPLOY)
    question = "What does the user drink?"
    interpreted = await api.search(question, scope=only(box), response_format="interpreted")
    assert interpreted.results == []
    block = interpreted.interpreted
    assert block is not None and interpreted.interpreted_error is None
    assert "green tea" in block.answer_summary
    assert set(block.supporting_memory_ids[:2]) == {tea, tea2}
    assert block.key_facts and block.important_relationships
    assert block.confidence is not None and 0.0 < block.confidence <= 1.0
    both = await api.search(question, scope=only(box), response_format="both")
    assert both.interpreted == block
    assert both.results


async def test_interpreted_flags_conflicting_memories(api: Either, box: str) -> None:
    await seed(api, box, "The user likes coffee", "The user does not like coffee")
    reply = await api.search(
        "Does the user like coffee?", scope=only(box), response_format="interpreted"
    )
    assert reply.interpreted is not None
    assert any("negates" in c for c in reply.interpreted.conflicts_or_uncertainties)


async def test_get_and_get_many(api: Either, box: str) -> None:
    tea, deploy = await seed(api, box, TEA, DEPLOY)
    memory = await api.get(tea)
    assert memory.content == TEA and memory.links == []
    many = await api.get_many([deploy, "missing-id", tea])
    assert [m.id for m in many] == [deploy, tea]


def test_batch_reports_missing_ids(raw: httpx.Client) -> None:
    reply = raw.post("/api/v1/memories/batch", json={"memory_ids": ["nope-1"]})
    assert reply.status_code == 200
    assert reply.json() == {"memories": [], "missing_ids": ["nope-1"]}


async def test_update_re_embeds_relinks_and_records_history(api: Either, box: str) -> None:
    tea, deploy = await seed(api, box, TEA, DEPLOY)
    updated = await api.update(deploy, content="User drinks green tea at the deploy party")
    assert updated.content == "User drinks green tea at the deploy party"
    assert updated.evolution_history[-1]["previous_content"] == DEPLOY
    assert [link.memory_id for link in updated.links] == [tea]
    hits = await api.search("green tea deploy party", k=1, scope=only(box), rerank=True)
    assert hits.nodes[0].id == deploy
    rescoped = await api.update(deploy, scope=[token(box), "type.event"])
    assert rescoped.scope == [token(box), "type.event"]
    assert rescoped.content == updated.content


async def test_delete_and_bulk_delete(api: Either, box: str) -> None:
    a, b, c = await seed(api, box, TEA, TEA2, DEPLOY, category="facts")
    deleted = await api.delete(a)
    assert deleted.deleted and deleted.memory_id == a
    with pytest.raises(NotFoundError):
        await api.get(a)
    assert (await api.get(b)).links == []  # the link went with the memory
    by_id = await api.delete_bulk(memory_id=b, scope=["^nothing$"])
    assert by_id.memory_ids == [b]  # memory_id takes precedence over scope
    wrong_category = await api.delete_bulk(scope=only(box), category="other")
    assert wrong_category.deleted_count == 0
    rest = await api.delete_bulk(scope=only(box), category="facts")
    assert rest.deleted_count == 1 and rest.memory_ids == [c]
    assert await api.count(scope=only(box)) == 0


def test_bulk_delete_without_any_filter_is_refused(raw: httpx.Client) -> None:
    reply = raw.delete("/api/v1/memories/bulk")
    assert reply.status_code == 400
    assert reply.json()["detail"]["code"] == "MISSING_FILTER"


async def test_unlink(api: Either, box: str) -> None:
    tea, tea2 = await seed(api, box, TEA, TEA2)
    first = await api.unlink(tea, tea2)
    assert first.unlinked is True
    assert (await api.get(tea)).links == []
    again = await api.unlink(tea2, tea)
    assert again.unlinked is False
    with pytest.raises(NotFoundError):
        await api.unlink(tea, "missing-id")


async def test_stats_and_count(api: Either, box: str) -> None:
    await seed(api, box, TEA, TEA2, DEPLOY, category="facts")
    assert await api.count(scope=only(box)) == 3
    assert await api.count(scope=only(box), category="facts") == 3
    assert await api.count(scope=only(box), category="other") == 0
    stats = await api.stats()
    assert stats.total_memories >= 3 and stats.total_links >= 1
    assert stats.avg_links_per_memory > 0
    assert any(entry.token == token(box) and entry.count == 3 for entry in stats.top_scope) or (
        len(stats.top_scope) == 10
    )


async def test_graph_path_hubs_neighborhood_export(api: Either, box: str) -> None:
    a = (await api.add("Alice manages the billing team", scope=[token(box)])).memory_id
    b = (await api.add("The billing team owns the invoice service", scope=[token(box)])).memory_id
    c = (await api.add("The invoice service runs on Postgres", scope=[token(box)])).memory_id
    lonely = (await api.add("Zebras graze in Kenya", scope=[token(box)])).memory_id
    path = await api.graph_path(a, c)
    assert path.found and path.path == [a, b, c] and path.hops == 2
    assert [n.id for n in path.nodes] == [a, b, c]
    none = await api.graph_path(a, lonely)
    assert not none.found and none.path == []
    hubs = await api.graph_hubs(limit=100)
    assert hubs.hubs[0].degree >= 2
    assert [h.degree for h in hubs.hubs] == sorted((h.degree for h in hubs.hubs), reverse=True)
    assert len((await api.graph_hubs(limit=1)).hubs) == 1
    one = await api.graph_neighborhood(a, hops=1)
    assert {n.id: n.distance for n in one.nodes} == {a: 0, b: 1}
    two = await api.graph_neighborhood(a, hops=2)
    assert {n.id: n.distance for n in two.nodes} == {a: 0, b: 1, c: 2}
    assert {(e.source, e.target) for e in two.edges} >= {tuple(sorted((a, b)))}
    export = await api.graph_export()
    assert {a, b, c, lonely} <= {n.id for n in export.nodes}
    mine = [e for e in export.edges if {e.source, e.target} <= {a, b, c}]
    assert len(mine) == 2 and all(e.description for e in mine)


async def test_traverse_follows_edges_similar_to_the_query(api: Either, box: str) -> None:
    a = (await api.add("Alice manages the billing team", scope=[token(box)])).memory_id
    b = (await api.add("The billing team owns the invoice service", scope=[token(box)])).memory_id
    c = (await api.add("The invoice service runs on Postgres", scope=[token(box)])).memory_id
    wide = await api.graph_traverse(
        a, "billing team invoice service", max_hops=2, edge_similarity_threshold=0.1
    )
    assert {v.id: v.hop for v in wide.visited} == {a: 0, b: 1, c: 2}
    assert wide.visited_count == 3 and wide.edge_count == 2
    assert all(e.similarity >= 0.1 for e in wide.edges)
    short = await api.graph_traverse(
        a, "billing team invoice service", max_hops=1, edge_similarity_threshold=0.1
    )
    assert {v.id for v in short.visited} == {a, b}
    strict = await api.graph_traverse(a, "billing team", edge_similarity_threshold=1.0)
    assert [v.id for v in strict.visited] == [a]
    scoped = await api.graph_traverse(
        a, "billing team invoice service", edge_similarity_threshold=0.1, scope=["^nothing$"]
    )
    assert scoped.visited == [] and scoped.visited_count == 0


async def test_health_and_ready(api: Either) -> None:
    assert (await api.health()).status == "ok"
    assert (await api.ready()).status == "ready"


async def test_duplicate_ingest_updates_instead_of_copying(api: Either, box: str) -> None:
    first = await api.add(TEA, scope=[token(box)])
    # The new memory's scope tokens, read as regexes, select the candidates (guide 4.1).
    again = await api.add(TEA + ".", scope=[token(box)], category="drinks")
    assert again.action == "updated" and again.memory_id == first.memory_id
    assert again.memory is not None
    assert again.memory.content == TEA + "." and again.memory.category == "drinks"
    assert again.memory.evolution_history[-1]["previous_content"] == TEA
    assert await api.count(scope=only(box)) == 1


async def test_a_duplicate_in_another_scope_is_a_new_memory(api: Either, box: str) -> None:
    first = await api.add(TEA, scope=[token(box)])
    other = await api.add(TEA, scope=[token(box) + "-other"])
    assert other.action == "created" and other.memory_id != first.memory_id


def test_openapi_docs_are_served(raw: httpx.Client) -> None:
    assert raw.get("/docs").status_code == 200
    assert raw.get("/redoc").status_code == 200
    paths = raw.get("/openapi.json").json()["paths"]
    assert "/api/v1/memories/search" in paths and "/api/v1/graph/traverse" in paths
