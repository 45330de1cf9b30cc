"""Every reply shape parses into its model, including the variants servers send."""

from __future__ import annotations

from typing import Any

import pytest

from membrane_integrations.core.errors import MalformedResponseError
from membrane_integrations.membrain._add_token import add_token_filter
from membrane_integrations.membrain.models import (
    IngestAccepted,
    IngestResult,
    MemoryNode,
    RelationshipEdge,
)

from .conftest import body_of, json_reply

NODE = {
    "type": "memory_node",
    "id": "m1",
    "content": "User likes tea",
    "scope": ["container.bob"],
    "category": "prefs",
    "semantic_score": 0.91,
    "related_memories": [
        {"id": "m2", "content": "User is vegan", "description": "diet", "scope": ["x"]}
    ],
}
EDGE_IDS = {
    "type": "relationship_edge",
    "description": "Why does the user avoid milk?",
    "source": "m1",
    "target": "m2",
    "score": 0.8,
}
EDGE_OBJECTS = {
    "type": "relationship_edge",
    "description": "d",
    "source": {"id": "m3", "content": "c3", "scope": ["s"]},
    "target": {"id": "m4", "content": "c4"},
    "score": 0.7,
}
INTERPRETED = {
    "answer_summary": "The user drinks tea.",
    "key_facts": ["likes tea"],
    "important_relationships": ["tea -> vegan"],
    "conflicts_or_uncertainties": [],
    "supporting_memory_ids": ["m1"],
    "confidence": 0.8,
}


async def test_raw_nodes_and_edges_with_id_or_object_endpoints(make: Any) -> None:
    reply = {"results": [NODE, EDGE_IDS, EDGE_OBJECTS], "interpreted": None, "scope": None}
    h = make([json_reply(200, reply)])
    res = await h.call("search", "What does the user drink?")
    assert [type(r) for r in res.results] == [MemoryNode, RelationshipEdge, RelationshipEdge]
    node = res.nodes[0]
    assert (node.id, node.semantic_score, node.category) == ("m1", 0.91, "prefs")
    assert node.related_memories[0].id == "m2"
    assert node.related_memories[0].description == "diet"
    first, second = res.edges
    assert (first.source.id, first.target.id, first.score) == ("m1", "m2", 0.8)
    assert (second.source.id, second.source.content, second.target.id) == ("m3", "c3", "m4")
    assert res.interpreted is None


async def test_rerank_and_full_scope_replies_are_nodes_only(make: Any) -> None:
    full = dict(NODE, semantic_score=1.0, related_memories=[])
    h = make(
        [
            json_reply(200, {"results": [NODE]}),
            json_reply(200, {"results": [full], "scope": ["^container\\.bob$"]}),
        ]
    )
    reranked = await h.call("search", "q", rerank=True)
    assert reranked.edges == [] and reranked.nodes[0].id == "m1"
    listed = await h.call("search", "q", scope=["^container\\.bob$"], full_scope=True)
    assert listed.nodes[0].semantic_score == 1.0
    assert listed.scope == ["^container\\.bob$"]


async def test_interpreted_only(make: Any) -> None:
    h = make([json_reply(200, {"results": [], "interpreted": INTERPRETED})])
    res = await h.call("search", "q", response_format="interpreted")
    assert res.results == []
    assert res.interpreted is not None
    assert res.interpreted.answer_summary == "The user drinks tea."
    assert res.interpreted.supporting_memory_ids == ["m1"]
    assert res.interpreted.confidence == 0.8


async def test_both_keeps_summary_and_evidence(make: Any) -> None:
    h = make([json_reply(200, {"results": [NODE, EDGE_IDS], "interpreted": INTERPRETED})])
    res = await h.call("search", "q", response_format="both")
    assert res.interpreted is not None and len(res.results) == 2


async def test_interpreted_error_is_surfaced_not_raised(make: Any) -> None:
    h = make(
        [json_reply(200, {"results": [NODE], "interpreted": None, "interpreted_error": "LLM down"})]
    )
    res = await h.call("search", "q", response_format="both")
    assert res.interpreted is None
    assert res.interpreted_error == "LLM down"
    assert res.nodes[0].id == "m1"


async def test_unknown_fields_survive(make: Any) -> None:
    h = make([json_reply(200, {"results": [dict(NODE, novelty=0.3)], "took_ms": 12})])
    res = await h.call("search", "q")
    assert res.model_extra == {"took_ms": 12}
    assert res.nodes[0].model_extra == {"novelty": 0.3}


async def test_memory_with_links_and_history(make: Any) -> None:
    memory = {
        "id": "m1",
        "content": "c",
        "scope": ["container.bob"],
        "category": None,
        "timestamp": "2026-03-01T10:00:00Z",
        "created_at": "2026-03-01T10:00:00Z",
        "updated_at": "2026-03-02T10:00:00+00:00",
        "links": [{"memory_id": "m2", "description": "same topic"}],
        "evolution_history": [{"action": "updated", "at": "2026-03-02"}],
    }
    h = make([json_reply(200, memory)])
    got = await h.call("get", "m1")
    assert got.links[0].memory_id == "m2"
    assert got.updated_at is not None and got.updated_at.day == 2
    assert got.evolution_history[0]["action"] == "updated"


async def test_graph_replies(make: Any) -> None:
    h = make(
        [
            json_reply(
                200,
                {
                    "from_id": "a",
                    "to_id": "c",
                    "found": True,
                    "path": ["a", "b", "c"],
                    "hops": 2,
                    "nodes": [{"id": "a", "content": "A"}],
                },
            ),
            json_reply(200, {"hubs": [{"id": "a", "content": "A", "degree": 3}]}),
            json_reply(
                200,
                {
                    "memory_id": "a",
                    "hops": 1,
                    "nodes": [{"id": "b", "content": "B", "distance": 1}],
                    "edges": [{"source": {"id": "a"}, "target": "b", "description": "d"}],
                },
            ),
            json_reply(
                200,
                {
                    "start_memory_id": "a",
                    "query": "q",
                    "visited": [{"id": "a", "content": "A", "hop": 0}],
                    "edges": [
                        {"source": "a", "target": "b", "description": "d", "similarity": 0.9}
                    ],
                    "visited_count": 1,
                    "edge_count": 1,
                },
            ),
        ]
    )
    path = await h.call("graph_path", "a", "c")
    assert path.found and path.hops == 2 and path.path == ["a", "b", "c"]
    hubs = await h.call("graph_hubs")
    assert hubs.hubs[0].degree == 3
    hood = await h.call("graph_neighborhood", "a")
    assert hood.nodes[0].distance == 1 and hood.edges[0].source == "a"
    walk = await h.call("graph_traverse", "a", "q")
    assert walk.edges[0].similarity == 0.9 and walk.visited[0].hop == 0


async def test_add_without_wait_returns_the_accepted_job(make: Any) -> None:
    h = make([json_reply(202, {"job_id": "j9", "job_status": "queued", "status_url": "u"})])
    accepted = await h.call("add", "fact", wait=False)
    assert isinstance(accepted, IngestAccepted) and accepted.job_id == "j9"


@pytest.mark.parametrize(
    ("reply", "pattern"),
    [
        ({"results": [{"type": "memory_node"}]}, "SearchResponse"),
        ([1, 2], "SearchResponse"),
        ({"results": [{"type": "mystery", "id": "x"}]}, "SearchResponse"),
    ],
)
async def test_wrong_shape_is_malformed(make: Any, reply: Any, pattern: str) -> None:
    h = make([json_reply(200, reply)])
    with pytest.raises(MalformedResponseError, match=pattern):
        await h.call("search", "q")


async def test_non_json_success_is_malformed(make: Any) -> None:
    import httpx

    h = make(
        [httpx.Response(200, text="<html>hello</html>", headers={"content-type": "text/html"})]
    )
    with pytest.raises(MalformedResponseError, match="not JSON"):
        await h.call("stats")


async def test_truncated_json_on_a_read_is_retried_then_raised(make: Any) -> None:
    import httpx

    cut = httpx.Response(200, content=b'{"total_memories": 3, "top_sc')
    h = make([cut, cut, cut])
    with pytest.raises(MalformedResponseError):
        await h.call("stats")
    assert len(h.requests) == 3  # the first try and max_retries=2 retries


async def test_truncated_json_on_a_read_recovers_on_retry(make: Any) -> None:
    import httpx

    good = {"total_memories": 3, "total_links": 0, "avg_links_per_memory": 0.0, "top_scope": []}
    h = make([httpx.Response(200, content=b'{"total_memories": 3, "top_sc'), json_reply(200, good)])
    stats = await h.call("stats")
    assert stats.total_memories == 3
    assert len(h.requests) == 2


async def test_truncated_202_of_a_create_is_not_sent_again(make: Any) -> None:
    import httpx

    h = make([httpx.Response(202, content=b'{"job_id": "j')], add_tokens=False)
    with pytest.raises(MalformedResponseError):
        await h.call("add", "fact")
    assert len(h.requests) == 1


async def test_truncated_202_is_resolved_through_the_add_token(make: Any) -> None:
    import httpx

    memory = {"id": "m1", "content": "fact", "scope": []}
    hit = {"type": "memory_node", "id": "m1", "content": "fact", "semantic_score": 1.0}
    h = make(
        [
            httpx.Response(202, content=b'{"job_id": "j'),
            json_reply(200, {"results": [hit]}),
            json_reply(200, memory),
        ]
    )
    result = await h.call("add", "fact")
    assert (result.memory_id, result.action) == ("m1", "created")
    posts = [r for r in h.requests if r.url.path == "/api/v1/memories"]
    assert len(posts) == 1  # found, so never sent again
    lookup = body_of(h.requests[1])
    token = body_of(h.requests[0])["scope"][-1]
    assert lookup["full_scope"] is True
    assert lookup["scope"] == [add_token_filter(token)]


async def test_ingest_result_model(make: Any) -> None:
    job = {
        "job_id": "j1",
        "status": "completed",
        "result": {"memory_id": "m1", "action": "updated", "memory": None},
    }
    h = make([json_reply(202, {"job_id": "j1"}), json_reply(200, job)])
    result = await h.call("add", "fact")
    assert isinstance(result, IngestResult)
    assert (result.memory_id, result.action, result.memory) == ("m1", "updated", None)
