"""Tenancy (two keys, every path), regex scope semantics, validation and authentication."""

from __future__ import annotations

import httpx
import pytest

from membrane_integrations.core.errors import AuthenticationError, NotFoundError
from membrane_integrations.emulator import MembrainEmulator
from tests.support.emulator_fixtures import KEY_A, KEY_B, Either

pytestmark = pytest.mark.live


async def test_no_tenant_sees_or_touches_another_tenants_data(
    api: Either, api_b: Either, box: str, raw_b: httpx.Client
) -> None:
    scope = [f"container.{box}"]
    only = [f"^container\\.{box}$"]
    a = (await api.add("Alice manages the billing team", scope=scope)).memory_id
    b = (await api.add("The billing team owns the invoice service", scope=scope)).memory_id
    job = await api.add("Alice likes the invoice service", scope=scope, wait=False)
    await api.wait_for_job(job.job_id)

    for call in (
        api_b.get(a),
        api_b.update(a, content="hijacked"),
        api_b.delete(a),
        api_b.unlink(a, b),
        api_b.graph_path(a, b),
        api_b.graph_neighborhood(a),
        api_b.graph_traverse(a, "billing", edge_similarity_threshold=0.0),
        api_b.get_job(job.job_id),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert await api_b.get_many([a, b]) == []
    assert (await api_b.search("billing team", k=100)).results == []
    assert (await api_b.search("billing", scope=only, full_scope=True)).results == []
    assert await api_b.count(scope=only) == 0
    assert (await api_b.delete_bulk(scope=only)).deleted_count == 0
    assert (await api_b.delete_bulk(memory_id=a)).deleted_count == 0
    assert {n.id for n in (await api_b.graph_export()).nodes}.isdisjoint({a, b})
    assert {h.id for h in (await api_b.graph_hubs(limit=100)).hubs}.isdisjoint({a, b})
    stats_b = await api_b.stats()
    assert all(entry.token != scope[0] for entry in stats_b.top_scope)
    reply = raw_b.post("/api/v1/memories/batch", json={"memory_ids": [a]})  # noqa: ASYNC212
    assert reply.json() == {"memories": [], "missing_ids": [a]}

    # Tenant A still has everything, untouched.
    assert (await api.get(a)).content == "Alice manages the billing team"
    assert await api.count(scope=only) == 3
    assert (await api.graph_path(a, b)).found


async def test_ingest_never_links_across_tenants(api: Either, api_b: Either, box: str) -> None:
    scope = [f"container.{box}"]
    a = (await api.add("Alice manages the billing team", scope=scope)).memory_id
    b = await api_b.add("Alice manages the billing team", scope=scope)
    assert b.action == "created" and b.memory_id != a  # not a duplicate of A's memory
    assert b.memory is not None and b.memory.links == []


@pytest.fixture
async def tokens(api: Either, box: str) -> dict[str, str]:
    """Memories with distinct token sets under ``box``."""
    specs = {
        "pref": ["container.{b}", "scope.user", "type.preference"],
        "decision": ["container.{b}", "scope.project", "type.decision"],
        "other_box": ["container.{b}2", "scope.user", "type.preference"],
        "dotless": ["container.{b}", "typeXdecision"],
        "upper": ["CONTAINER.{b}", "Type.Preference"],
    }
    facts = {
        "pref": "User prefers window seats",
        "decision": "We decided to ship on Friday",
        "other_box": "User prefers aisle seats",
        "dotless": "A token without a dot",
        "upper": "User prefers tea in capitals",
    }
    ids = {}
    for name, toks in specs.items():
        result = await api.add(facts[name], scope=[t.format(b=box) for t in toks])
        ids[name] = result.memory_id
    return ids


async def listed(api: Either, patterns: list[str]) -> set[str]:
    reply = await api.search("anything", scope=patterns, full_scope=True)
    return {n.id for n in reply.nodes}


async def test_scope_regex_semantics(api: Either, box: str, tokens: dict[str, str]) -> None:
    anchored = f"^container\\.{box}$"
    # Anchors: the exact container only, not container.<box>2.
    assert await listed(api, [anchored]) == {
        tokens["pref"],
        tokens["decision"],
        tokens["dotless"],
        tokens["upper"],
    }
    # Unanchored: a prefix match reaches container.<box>2 too.
    assert tokens["other_box"] in await listed(api, [f"container\\.{box}"])
    # AND across patterns: same memory must match both.
    assert await listed(api, [anchored, "type\\.preference"]) == {tokens["pref"], tokens["upper"]}
    # | inside one pattern is OR.
    assert await listed(api, [anchored, "scope\\.(user|project)"]) == {
        tokens["pref"],
        tokens["decision"],
    }
    # An escaped dot is a literal dot; an unescaped one matches any character.
    assert await listed(api, [anchored, "type\\.decision"]) == {tokens["decision"]}
    assert await listed(api, [anchored, "type.decision"]) == {tokens["decision"], tokens["dotless"]}
    # Case-insensitive.
    assert tokens["upper"] in await listed(api, [anchored.upper(), "TYPE\\.PREFERENCE"])
    # A pattern nothing matches empties the result even if the others match.
    assert await listed(api, [anchored, "^nothing$"]) == set()


async def test_edges_only_when_both_endpoints_match(api: Either, box: str) -> None:
    # b's tokens, read as regexes, must all match a's tokens for ingest to link them (4.1).
    a = await api.add(
        "User likes green tea a lot", scope=[f"container.{box}", "type.pref", "type.habit"]
    )
    b = await api.add("User likes green tea every day", scope=[f"container.{box}", "type.habit"])
    assert b.memory is not None and [link.memory_id for link in b.memory.links] == [a.memory_id]
    both = await api.search("green tea", k=10, scope=[f"^container\\.{box}$"])
    assert len(both.edges) == 1
    one = await api.search("green tea", k=10, scope=[f"^container\\.{box}$", "type\\.pref"])
    assert one.edges == []
    assert [n.id for n in one.nodes] == [a.memory_id]
    assert one.nodes[0].related_memories == []  # the neighbour is outside the filter
    assert one.scope == [f"^container\\.{box}$", "type\\.pref"]


def test_invalid_regex_is_400_everywhere(raw: httpx.Client) -> None:
    for reply in (
        raw.post("/api/v1/memories/search", json={"query": "x", "scope": ["a("]}),
        raw.get("/api/v1/memories/count", params={"scope": "[z-a]"}),
        raw.delete("/api/v1/memories/bulk", params={"scope": "*x"}),
    ):
        assert reply.status_code == 400, reply.text
        detail = reply.json()["detail"]
        assert (
            detail["code"] == "INVALID_SCOPE_PATTERN"
            and "invalid scope pattern" in detail["message"]
        )


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/api/v1/memories", {"json": {"content": "x" * 20_001}}),
        ("POST", "/api/v1/memories", {"json": {"content": ""}}),
        ("POST", "/api/v1/memories", {"json": {"content": "x", "scope": ["t"] * 51}}),
        ("POST", "/api/v1/memories", {"json": {"content": "x", "scope": ["t" * 257]}}),
        ("POST", "/api/v1/memories", {"json": {"content": "x", "category": "c" * 257}}),
        ("POST", "/api/v1/memories/search", {"json": {"query": "q" * 10_001}}),
        ("POST", "/api/v1/memories/search", {"json": {"query": "q", "k": 0}}),
        ("POST", "/api/v1/memories/search", {"json": {"query": "q", "k": 101}}),
        ("POST", "/api/v1/memories/search", {"json": {"query": "q", "response_format": "x"}}),
        ("GET", "/api/v1/graph/neighborhood", {"params": {"memory_id": "m", "hops": 6}}),
        ("GET", "/api/v1/graph/neighborhood", {"params": {"memory_id": "m", "hops": 0}}),
        ("GET", "/api/v1/graph/hubs", {"params": {"limit": 101}}),
        (
            "GET",
            "/api/v1/graph/traverse",
            {"params": {"start_memory_id": "m", "query": "q", "max_hops": 6}},
        ),
        (
            "GET",
            "/api/v1/graph/traverse",
            {"params": {"start_memory_id": "m", "query": "q", "edge_similarity_threshold": 1.5}},
        ),
        ("POST", "/api/v1/memories/batch", {"json": {}}),
    ],
)
def test_documented_limits_are_enforced(
    raw: httpx.Client, method: str, path: str, kwargs: dict[str, object]
) -> None:
    reply = raw.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert reply.status_code == 422, reply.text
    detail = reply.json()["detail"]  # the one error shape: code, message, the field at fault
    assert detail["code"] == "VALIDATION_ERROR" and detail["field"], detail
    assert detail["field"] in detail["message"] and len(reply.content) < 1000


def test_update_without_fields_is_400_and_unknown_ids_are_404(raw: httpx.Client) -> None:
    assert raw.put("/api/v1/memories/nope", json={}).status_code == 400
    for path in ("/api/v1/memories/nope", "/api/v1/memories/jobs/job_nope"):
        reply = raw.get(path)
        assert reply.status_code == 404
        assert reply.json()["detail"]["code"] == "NOT_FOUND"
    assert raw.get("/api/v1/graph/path", params={"from_id": "a", "to_id": "b"}).status_code == 404


def test_missing_or_unknown_key_is_401_json_without_the_key(emu: MembrainEmulator) -> None:
    with httpx.Client(base_url=emu.url) as bare:
        missing = bare.get("/api/v1/stats")
        wrong = bare.get("/api/v1/stats", headers={"X-API-Key": "emu-wrong-secret-key"})
        bad_bearer = bare.get("/api/v1/stats", headers={"Authorization": "Bearer emu-wrong-tok"})
        assert bare.get("/health").status_code == 200  # health needs no key
    for reply in (missing, wrong, bad_bearer):
        assert reply.status_code == 401
        assert reply.json()["detail"]["code"] == "UNAUTHORIZED"
        assert "emu-wrong" not in reply.text


def test_bearer_token_is_the_same_tenant_as_the_key(emu: MembrainEmulator, box: str) -> None:
    with emu.client(KEY_B) as by_key:
        memory = by_key.add("A bearer fact", scope=[f"container.{box}"])
    with httpx.Client(base_url=emu.url) as bare:
        reply = bare.get(
            f"/api/v1/memories/{memory.memory_id}", headers={"Authorization": f"Bearer {KEY_B}"}
        )
    assert reply.status_code == 200 and reply.json()["content"] == "A bearer fact"


async def test_clients_raise_authentication_error(emu: MembrainEmulator) -> None:
    with emu.client("emu-not-a-tenant") as client, pytest.raises(AuthenticationError) as err:
        client.stats()
    assert "emu-not-a-tenant" not in str(err.value)
    async with emu.async_client("emu-not-a-tenant") as aclient:
        with pytest.raises(AuthenticationError):
            await aclient.stats()
    assert KEY_A not in repr(emu)
