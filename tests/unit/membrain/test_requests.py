"""Every client method sends exactly the documented method, path, query and JSON body."""

from __future__ import annotations

from typing import Any

import pytest

from membrane_integrations.membrain._add_token import is_add_token

from .conftest import API_KEY, body_of, json_reply, query_of

MEMORY = {"id": "m1", "content": "User likes tea", "scope": ["container.bob"]}
JOB_DONE = {
    "job_id": "j1",
    "status": "completed",
    "result": {"memory_id": "m1", "action": "created", "memory": MEMORY},
}

CASES: list[tuple[str, tuple[Any, ...], dict[str, Any], Any, str, str, list[Any], Any]] = [
    # method, args, kwargs, reply body, HTTP method, raw path, query, JSON body
    (
        "add",
        ("User likes tea",),
        {"scope": ["container.bob", "type.preference"], "category": "prefs", "wait": False},
        {"job_id": "j1", "job_status": "queued", "status_url": "http://x/api/v1/memories/jobs/j1"},
        "POST",
        "/api/v1/memories",
        [],
        {
            "content": "User likes tea",
            "scope": ["container.bob", "type.preference"],
            "category": "prefs",
        },
    ),
    (
        "add",
        ("Plain fact",),
        {"wait": False},
        {"job_id": "j1", "job_status": "queued"},
        "POST",
        "/api/v1/memories",
        [],
        {"content": "Plain fact"},
    ),
    ("get_job", ("j/1",), {}, JOB_DONE, "GET", "/api/v1/memories/jobs/j%2F1", [], None),
    (
        "search",
        ("What does the user drink?",),
        {},
        {"results": []},
        "POST",
        "/api/v1/memories/search",
        [],
        {
            "query": "What does the user drink?",
            "k": 5,
            "response_format": "raw",
            "rerank": False,
            "full_scope": False,
        },
    ),
    (
        "search",
        ("List all",),
        {
            "k": 100,
            "scope": ["^container\\.bob$", "type\\.(a|b)"],
            "response_format": "both",
            "rerank": True,
            "full_scope": True,
        },
        {"results": []},
        "POST",
        "/api/v1/memories/search",
        [],
        {
            "query": "List all",
            "k": 100,
            "response_format": "both",
            "rerank": True,
            "full_scope": True,
            "scope": ["^container\\.bob$", "type\\.(a|b)"],
        },
    ),
    ("get", ("m1",), {}, MEMORY, "GET", "/api/v1/memories/m1", [], None),
    ("get", ("../stats",), {}, MEMORY, "GET", "/api/v1/memories/%2E%2E%2Fstats", [], None),
    ("get", ("..",), {}, MEMORY, "GET", "/api/v1/memories/%2E%2E", [], None),
    ("get", ("a b?c#d",), {}, MEMORY, "GET", "/api/v1/memories/a%20b%3Fc%23d", [], None),
    (
        "get_many",
        (["m1", "m2"],),
        {},
        {"memories": [MEMORY], "missing_ids": ["m2"]},
        "POST",
        "/api/v1/memories/batch",
        [],
        {"memory_ids": ["m1", "m2"]},
    ),
    (
        "update",
        ("m1",),
        {"content": "User likes green tea"},
        MEMORY,
        "PUT",
        "/api/v1/memories/m1",
        [],
        {"content": "User likes green tea"},
    ),
    (
        "update",
        ("m1",),
        {"scope": ["container.bob"]},
        MEMORY,
        "PUT",
        "/api/v1/memories/m1",
        [],
        {"scope": ["container.bob"]},
    ),
    (
        "update",
        ("m1",),
        {"content": "c", "scope": []},
        MEMORY,
        "PUT",
        "/api/v1/memories/m1",
        [],
        {"content": "c", "scope": []},
    ),
    (
        "delete",
        ("m/1",),
        {},
        {"deleted": True, "memory_id": "m/1"},
        "DELETE",
        "/api/v1/memories/m%2F1",
        [],
        None,
    ),
    (
        "delete_bulk",
        (),
        {"scope": ["^container\\.bob$", "type\\.x"], "category": "prefs"},
        {"deleted_count": 2, "memory_ids": ["m1", "m2"]},
        "DELETE",
        "/api/v1/memories/bulk",
        [("scope", "^container\\.bob$"), ("scope", "type\\.x"), ("category", "prefs")],
        None,
    ),
    (
        "delete_bulk",
        (),
        {"memory_id": "m1"},
        {"deleted_count": 1, "memory_ids": ["m1"]},
        "DELETE",
        "/api/v1/memories/bulk",
        [("memory_id", "m1")],
        None,
    ),
    (
        "unlink",
        ("m1", "m2"),
        {},
        {"unlinked": True, "memory_id_1": "m1", "memory_id_2": "m2"},
        "POST",
        "/api/v1/memories/unlink",
        [],
        {"memory_id_1": "m1", "memory_id_2": "m2"},
    ),
    (
        "stats",
        (),
        {},
        {"total_memories": 3, "total_links": 2, "avg_links_per_memory": 1.33, "top_scope": []},
        "GET",
        "/api/v1/stats",
        [],
        None,
    ),
    (
        "count",
        (),
        {"scope": ["^container\\.bob$"], "category": "prefs"},
        {"count": 4},
        "GET",
        "/api/v1/memories/count",
        [("scope", "^container\\.bob$"), ("category", "prefs")],
        None,
    ),
    ("count", (), {}, {"count": 0}, "GET", "/api/v1/memories/count", [], None),
    (
        "graph_path",
        ("m1", "m3"),
        {},
        {"from_id": "m1", "to_id": "m3", "found": True, "path": ["m1", "m2", "m3"], "hops": 2},
        "GET",
        "/api/v1/graph/path",
        [("from_id", "m1"), ("to_id", "m3")],
        None,
    ),
    ("graph_hubs", (), {}, {"hubs": []}, "GET", "/api/v1/graph/hubs", [("limit", "10")], None),
    (
        "graph_hubs",
        (100,),
        {},
        {"hubs": []},
        "GET",
        "/api/v1/graph/hubs",
        [("limit", "100")],
        None,
    ),
    (
        "graph_neighborhood",
        ("m1",),
        {"hops": 3},
        {"memory_id": "m1", "hops": 3, "nodes": [], "edges": []},
        "GET",
        "/api/v1/graph/neighborhood",
        [("memory_id", "m1"), ("hops", "3")],
        None,
    ),
    (
        "graph_export",
        (),
        {},
        {"nodes": [], "edges": []},
        "GET",
        "/api/v1/graph/export",
        [],
        None,
    ),
    (
        "graph_traverse",
        ("m1", "Why did we pick tea?"),
        {"max_hops": 4, "edge_similarity_threshold": 0.5, "scope": ["^container\\.bob$"]},
        {"start_memory_id": "m1", "query": "Why did we pick tea?", "visited": [], "edges": []},
        "GET",
        "/api/v1/graph/traverse",
        [
            ("start_memory_id", "m1"),
            ("query", "Why did we pick tea?"),
            ("max_hops", "4"),
            ("edge_similarity_threshold", "0.5"),
            ("scope", "^container\\.bob$"),
        ],
        None,
    ),
    ("health", (), {}, {"status": "ok"}, "GET", "/health", [], None),
    ("ready", (), {}, {"status": "ready"}, "GET", "/ready", [], None),
]


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "reply", "http_method", "path", "query", "body"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
async def test_request_shape(
    make: Any,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    reply: Any,
    http_method: str,
    path: str,
    query: list[Any],
    body: Any,
) -> None:
    h = make([json_reply(202 if method == "add" else 200, reply)])
    await h.call(method, *args, **kwargs)
    assert len(h.requests) == 1
    sent = h.last
    assert sent.method == http_method
    assert sent.url.raw_path.split(b"?")[0].decode() == path
    assert sent.url.host == "membrain.test"
    assert query_of(sent) == query
    sent_body = body_of(sent)
    if method == "add":  # every add stores one add token last (membrain/_add_token.py)
        *rest, token = sent_body.pop("scope")
        assert is_add_token(token)
        if rest:
            sent_body["scope"] = rest
    assert sent_body == body
    assert sent.headers["x-api-key"] == API_KEY
    assert "authorization" not in sent.headers


async def test_bearer_token_sent_as_authorization(make: Any) -> None:
    h = make([json_reply(200, {"status": "ok"})], bearer_token="jwt.token.value")
    await h.call("health")
    assert h.last.headers["authorization"] == "Bearer jwt.token.value"
    assert "x-api-key" not in h.last.headers


async def test_base_url_with_api_prefix_is_not_doubled(make: Any) -> None:
    h = make([json_reply(200, {"count": 1})], base_url="http://membrain.test:8080/api/v1/")
    await h.call("count")
    assert str(h.last.url) == "http://membrain.test:8080/api/v1/memories/count"


async def test_per_call_timeout_overrides_client_timeout(make: Any) -> None:
    h = make([json_reply(200, {"count": 1}), json_reply(200, {"count": 1})], timeout=12.0)
    await h.call("count")
    assert h.last.extensions["timeout"]["read"] == 12.0
    await h.call("count", timeout=0.5)
    assert h.last.extensions["timeout"] == {"connect": 0.5, "read": 0.5, "write": 0.5, "pool": 0.5}


async def test_get_many_returns_found_memories(make: Any) -> None:
    h = make([json_reply(200, {"memories": [MEMORY], "missing_ids": ["m2"]})])
    memories = await h.call("get_many", ["m1", "m2"])
    assert [m.id for m in memories] == ["m1"]


async def test_count_returns_int(make: Any) -> None:
    h = make([json_reply(200, {"count": 7})])
    assert await h.call("count", scope=["^container\\.bob$"]) == 7
