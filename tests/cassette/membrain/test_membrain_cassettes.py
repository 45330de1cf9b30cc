"""Recorded Membrain traffic, replayed through both clients with the network blocked.

Every endpoint of the guide's section 4 and the documented error replies (404, 400 for an
invalid regex, 422, 401, quota 403 and 429). Re-record with ``make record-cassettes``. The
assertions hold for any server that follows the guide, so a recording from the hosted service
replays too; what only the emulator guarantees (its links) is not asserted here.
"""

from __future__ import annotations

import httpx
import pytest

from membrane_integrations.core.errors import (
    AuthenticationError,
    NotFoundError,
    QuotaExceededError,
)
from membrane_integrations.emulator import QuotaConfig
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient
from membrane_integrations.membrain.models import IngestAccepted
from tests.support.emulator_fixtures import Either, Target

pytestmark = [pytest.mark.cassette, pytest.mark.block_network, pytest.mark.vcr]


async def every_endpoint(api: Either, box: str) -> None:
    token, only = f"container.{box}", [f"^container\\.{box}$"]
    await api.delete_bulk(scope=only)  # a clean slate when recording against a hosted service

    tea = await api.add("User likes green tea, especially sencha", scope=[token], category="pref")
    assert tea.action == "created"
    tea2 = await api.add("User drinks green tea every morning", scope=[token])
    deploy = await api.add("The deploy is on Friday", scope=[token, "type.decision"])
    accepted = await api.add("The billing team owns the deploy", scope=[token], wait=False)
    assert isinstance(accepted, IngestAccepted)
    billing = await api.wait_for_job(accepted.job_id)
    job = await api.get_job(accepted.job_id)
    assert job.status == "completed"

    raw = await api.search("What drinks does the user like?", k=5, scope=only)
    assert raw.nodes[0].id in {tea.memory_id, tea2.memory_id}
    assert raw.scope == only  # edges depend on the server's linking, so they are not required
    reranked = await api.search("green tea", k=2, scope=only, rerank=True)
    assert {n.id for n in reranked.nodes} == {tea.memory_id, tea2.memory_id}
    listed = await api.search("everything", scope=only, full_scope=True)
    assert len(listed.nodes) == 4
    interpreted = await api.search(
        "What does the user drink?", scope=only, response_format="interpreted"
    )
    block = interpreted.interpreted
    assert (block is not None and block.answer_summary) or interpreted.interpreted_error
    both = await api.search("When is the deploy?", scope=only, response_format="both")
    assert both.results

    memory = await api.get(tea.memory_id)
    assert memory.category == "pref"
    many = await api.get_many([tea.memory_id, deploy.memory_id])
    assert len(many) == 2
    updated = await api.update(deploy.memory_id, content="The deploy moved to Monday")
    assert updated.content == "The deploy moved to Monday"
    unlinked = await api.unlink(tea.memory_id, tea2.memory_id)
    assert isinstance(unlinked.unlinked, bool)  # True on the emulator, which linked them
    stats = await api.stats()
    assert stats.total_memories >= 4
    assert await api.count(scope=only) == 4

    path = await api.graph_path(deploy.memory_id, billing.memory_id)
    assert path.from_id == deploy.memory_id
    hubs = await api.graph_hubs(limit=5)
    assert len(hubs.hubs) <= 5
    hood = await api.graph_neighborhood(billing.memory_id, hops=2)
    assert billing.memory_id in {n.id for n in hood.nodes}
    export = await api.graph_export()
    assert {tea.memory_id, billing.memory_id} <= {n.id for n in export.nodes}
    walk = await api.graph_traverse(
        billing.memory_id, "deploy", max_hops=2, edge_similarity_threshold=0.1, scope=only
    )
    assert billing.memory_id in {v.id for v in walk.visited}

    deleted = await api.delete(tea2.memory_id)
    assert deleted.deleted
    with pytest.raises(NotFoundError):
        await api.get(tea2.memory_id)
    removed = await api.delete_bulk(scope=only, category="pref")
    assert removed.memory_ids == [tea.memory_id]
    rest = await api.delete_bulk(scope=only)
    assert rest.deleted_count == 2
    assert (await api.health()).status == "ok"
    assert (await api.ready()).status == "ready"


async def test_every_endpoint_sync_client(sync_api: Either) -> None:
    await every_endpoint(sync_api, "cassette-sync")


async def test_every_endpoint_async_client(async_api: Either) -> None:
    await every_endpoint(async_api, "cassette-async")


async def error_replies(api: Either, target: Target, unknown_key: Either) -> None:
    with pytest.raises(NotFoundError) as missing:
        await api.get("00000000-0000-4000-8000-000000000000")
    assert missing.value.status_code == 404
    with pytest.raises(AuthenticationError) as denied:
        await unknown_key.stats()
    assert denied.value.status_code == 401


async def test_error_replies_sync_client(sync_api: Either, target: Target) -> None:
    with MembrainClient(target.other_key(), base_url=target.base_url, max_retries=0) as other:
        await error_replies(sync_api, target, Either(other))


async def test_error_replies_async_client(async_api: Either, target: Target) -> None:
    async with AsyncMembrainClient(
        target.other_key(), base_url=target.base_url, max_retries=0
    ) as other:
        await error_replies(async_api, target, Either(other))


async def quota_replies(api: Either, target: Target) -> None:
    if target.recording and target.emulator is None:
        pytest.skip("a hosted service cannot be put over quota on demand; keep the recording")
    emulator = target.emulator
    if emulator is not None:
        emulator.set_quota(QuotaConfig(memory_cap=0), target.api_key)
    with pytest.raises(QuotaExceededError) as cap:
        await api.add("Over the memory cap", scope=["container.cassette-quota"])
    assert cap.value.status_code == 403 and cap.value.code == "TIER_MEMORY_CAP_REACHED"
    if emulator is not None:
        emulator.set_quota(QuotaConfig(weekly_creates=0), target.api_key)
    with pytest.raises(QuotaExceededError) as weekly:
        await api.add("Over the weekly quota", scope=["container.cassette-quota"])
    assert weekly.value.status_code == 429 and weekly.value.code == "TIER_WEEKLY_QUOTA_REACHED"
    assert weekly.value.next_weekly_reset_at
    if emulator is not None:
        emulator.set_quota(QuotaConfig(), target.api_key)


async def test_quota_replies_sync_client(sync_api: Either, target: Target) -> None:
    await quota_replies(sync_api, target)


async def test_quota_replies_async_client(async_api: Either, target: Target) -> None:
    await quota_replies(async_api, target)


def test_server_side_validation_replies(target: Target) -> None:
    """What the clients refuse to send, sent raw: the server's own 400 and 422 replies."""
    with httpx.Client(base_url=target.base_url, headers={"X-API-Key": target.api_key}) as raw:
        bad_regex = raw.post(
            "/api/v1/memories/search", json={"query": "x", "scope": ["container\\.(unclosed"]}
        )
        assert bad_regex.status_code == 400
        assert "detail" in bad_regex.json()
        no_scope = raw.post("/api/v1/memories/search", json={"query": "x", "full_scope": True})
        assert no_scope.status_code == 400
        too_many = raw.post("/api/v1/memories/search", json={"query": "x", "k": 101})
        assert too_many.status_code == 422
        detail = too_many.json()["detail"]  # FastAPI's list (recorded), or the emulator's shape
        assert isinstance(detail, list) or detail["code"] == "VALIDATION_ERROR"
        too_long = raw.post("/api/v1/memories", json={"content": "x" * 20_001})
        assert too_long.status_code == 422
        hops = raw.get("/api/v1/graph/neighborhood", params={"memory_id": "m", "hops": 6})
        assert hops.status_code == 422
