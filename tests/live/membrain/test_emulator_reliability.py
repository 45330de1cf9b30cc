"""Quotas and fault injection: retried reads, never-duplicated creates, failure replies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone

import httpx
import pytest

from membrane_integrations.core.errors import (
    BackendTimeoutError,
    IngestFailedError,
    MalformedResponseError,
    QuotaExceededError,
    ServerError,
)
from membrane_integrations.emulator import FaultConfig, FaultInjector, MembrainEmulator, QuotaConfig
from tests.support.emulator_fixtures import FAST_RETRY, Either

pytestmark = pytest.mark.live

KEY = "emu-reliability-key"
OTHER = "emu-reliability-other"


@pytest.fixture(scope="module")
def faulty() -> Iterator[MembrainEmulator]:
    with MembrainEmulator(api_keys=[KEY, OTHER], fault_injection=True) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _reset(faulty: MembrainEmulator) -> Iterator[None]:
    faulty.set_faults()
    faulty.set_quota(QuotaConfig())
    faulty.set_quota(QuotaConfig(), OTHER)
    yield
    faulty.set_faults()


@pytest.fixture(params=["sync", "async"])
async def rel(request: pytest.FixtureRequest, faulty: MembrainEmulator) -> AsyncIterator[Either]:
    if request.param == "sync":
        with faulty.client(KEY, retry_policy=FAST_RETRY) as client:
            yield Either(client)
    else:
        async with faulty.async_client(KEY, retry_policy=FAST_RETRY) as aclient:
            yield Either(aclient)


def scope_of(box: str) -> tuple[list[str], list[str]]:
    return [f"container.{box}"], [f"^container\\.{box}$"]


# ------------------------------------------------------------------------------------ quotas


async def test_memory_cap_gives_403_until_a_memory_is_deleted(
    rel: Either, faulty: MembrainEmulator, box: str
) -> None:
    tokens, only = scope_of(box)
    base = await rel.count()
    faulty.set_quota(QuotaConfig(memory_cap=base + 2))
    first = await rel.add("First capped fact about apples", scope=tokens)
    await rel.add("Second capped fact about boats", scope=tokens)
    with pytest.raises(QuotaExceededError) as err:
        await rel.add("Third capped fact about cars", scope=tokens)
    assert err.value.status_code == 403 and err.value.code == "TIER_MEMORY_CAP_REACHED"
    assert await rel.count(scope=only) == 2
    await rel.delete(first.memory_id)
    assert (await rel.add("Third capped fact about cars", scope=tokens)).action == "created"


async def test_weekly_quota_gives_429_with_the_reset_time(
    rel: Either, faulty: MembrainEmulator, box: str
) -> None:
    tokens, _ = scope_of(box)
    faulty.set_quota(QuotaConfig(weekly_creates=0))
    with pytest.raises(QuotaExceededError) as err:
        await rel.add("Over the weekly quota", scope=tokens)
    assert err.value.status_code == 429 and err.value.code == "TIER_WEEKLY_QUOTA_REACHED"
    reset = datetime.fromisoformat(str(err.value.next_weekly_reset_at).replace("Z", "+00:00"))
    assert reset > datetime.now(timezone.utc) and reset.weekday() == 0
    assert faulty.faults.injected == {}  # a quota is not a fault: nothing was retried


def test_quota_admin_endpoint_sets_only_the_callers_quota(faulty: MembrainEmulator) -> None:
    with httpx.Client(base_url=faulty.url, headers={"X-API-Key": OTHER}) as other:
        assert other.post("/_emulator/quotas", json={"weekly_creates": 0}).status_code == 200
        reply = other.post("/api/v1/memories", json={"content": "blocked"})
        assert reply.status_code == 429
        detail = reply.json()["detail"]
        assert detail["code"] == "TIER_WEEKLY_QUOTA_REACHED" and detail["next_weekly_reset_at"]
    with httpx.Client(base_url=faulty.url, headers={"X-API-Key": KEY}) as mine:
        assert mine.post("/api/v1/memories", json={"content": "allowed"}).status_code == 202
        assert mine.get("/_emulator/quotas").json() == {
            "memory_cap": None,
            "weekly_creates": None,
        }
    with httpx.Client(base_url=faulty.url) as anonymous:
        assert anonymous.post("/_emulator/quotas", json={}).status_code == 401
        assert anonymous.post("/_emulator/faults", json={"error_rate": 1}).status_code == 401


# ------------------------------------------------------------------------------------ faults


async def test_reads_are_retried_through_500_503_and_429(
    rel: Either, faulty: MembrainEmulator
) -> None:
    for fault in ("error_rate", "unavailable_rate", "rate_limit_rate"):
        faulty.set_faults(FaultConfig(**{fault: 1.0}, max_faults=2, retry_after=0))
        stats = await rel.stats()
        assert stats.total_memories >= 0
        assert sum(faulty.faults.injected.values()) == 2


async def test_reads_give_up_after_max_retries(rel: Either, faulty: MembrainEmulator) -> None:
    faulty.set_faults(error_rate=1.0)
    with pytest.raises(ServerError):
        await rel.stats()
    assert faulty.faults.injected["error"] == 3  # the first try and two retries


async def test_a_post_after_a_5xx_is_found_by_its_add_token_not_sent_again(
    rel: Either, faulty: MembrainEmulator, box: str
) -> None:
    tokens, only = scope_of(box)
    faulty.set_faults(
        error_rate=1.0, phase="after", methods=["POST"], paths=["/api/v1/memories"], max_faults=1
    )
    result = await rel.add("Created although the client saw a 500", scope=tokens)
    assert faulty.faults.injected["error"] == 1
    faulty.set_faults()
    assert faulty.engine.wait_idle()
    [memory] = (await rel.search("x", scope=only, full_scope=True)).nodes
    assert (result.memory_id, result.action) == (memory.id, "created")
    stored = await rel.get(memory.id)
    assert stored.evolution_history == []  # a re-sent POST would have merged into it


async def test_a_5xx_before_the_write_is_sent_again_and_stored_once(
    rel: Either, faulty: MembrainEmulator, box: str
) -> None:
    tokens, only = scope_of(box)
    faulty.set_faults(
        error_rate=1.0, phase="before", methods=["POST"], paths=["/api/v1/memories"], max_faults=1
    )
    result = await rel.add("Stored by the second attempt", scope=tokens)
    faulty.set_faults()
    assert faulty.engine.wait_idle()
    assert result.action == "created"
    assert await rel.count(scope=only) == 1


async def test_a_truncated_body_is_a_malformed_response(
    rel: Either, faulty: MembrainEmulator
) -> None:
    faulty.set_faults(truncate_rate=1.0, max_faults=1, methods=["GET"])
    with httpx.Client(base_url=faulty.url, headers={"X-API-Key": KEY}) as raw:
        reply = raw.get("/api/v1/stats")  # noqa: ASYNC212 (the server has its own thread)
        assert reply.status_code == 200
        with pytest.raises(ValueError):
            reply.json()
    faulty.set_faults(truncate_rate=1.0, methods=["GET"])
    with pytest.raises(MalformedResponseError):
        await rel.stats()


async def test_delayed_replies_time_out_and_are_retried(
    rel: Either, faulty: MembrainEmulator
) -> None:
    faulty.set_faults(delay_rate=1.0, delay_ms=300, max_faults=1)
    stats = await rel.stats(timeout=0.1)
    assert stats.total_memories >= 0
    assert faulty.faults.injected["delay"] == 1
    # it succeeded with a 0.1 s timeout although one reply was delayed 0.3 s: the slow
    # attempt timed out and the retry got the answer
    faulty.set_faults(delay_rate=1.0, delay_ms=300)
    with pytest.raises(BackendTimeoutError):
        await rel.stats(timeout=0.05)


async def test_failed_ingest_jobs_and_failed_synthesis(
    rel: Either, faulty: MembrainEmulator, box: str
) -> None:
    tokens, only = scope_of(box)
    faulty.set_faults(job_failure_rate=1.0, max_faults=1)
    with pytest.raises(IngestFailedError) as err:
        await rel.add("This job fails", scope=tokens)
    assert err.value.retryable is True
    job = await rel.get_job(err.value.job_id)
    assert job.status == "failed" and job.error is not None
    assert job.error.code == "INJECTED_FAILURE"
    assert (await rel.add("This job fails", scope=tokens)).action == "created"
    faulty.set_faults(synthesis_failure_rate=1.0)
    reply = await rel.search("job", scope=only, response_format="both")
    assert reply.interpreted is None and reply.interpreted_error
    assert reply.nodes  # raw evidence still comes back


def test_fault_admin_endpoint(faulty: MembrainEmulator) -> None:
    with httpx.Client(base_url=faulty.url, headers={"X-API-Key": KEY}) as raw:
        set_reply = raw.post(
            "/_emulator/faults", json={"unavailable_rate": 1.0, "max_faults": 1, "seed": 3}
        )
        assert set_reply.status_code == 200
        page = raw.get("/api/v1/stats")
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        assert raw.get("/api/v1/stats").status_code == 200
        assert raw.get("/_emulator/faults").json()["injected"] == {"unavailable": 1}
        assert raw.post("/_emulator/faults", json={"error_rate": 2}).status_code == 422
        assert raw.delete("/_emulator/faults").json()["config"]["unavailable_rate"] == 0.0
        faulty.set_faults(rate_limit_rate=1.0, retry_after=7, max_faults=1)
        limited = raw.get("/api/v1/stats")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "7"


def test_without_the_flag_no_tenant_can_switch_faults_on() -> None:
    with MembrainEmulator(api_keys=[KEY, OTHER]) as plain:
        with httpx.Client(base_url=plain.url, headers={"X-API-Key": KEY}) as raw:
            for method in ("GET", "POST", "DELETE"):
                reply = raw.request(method, "/_emulator/faults", json={"error_rate": 1.0})
                assert reply.status_code == 404, reply.text
                assert reply.json()["detail"]["code"] == "NOT_FOUND"
            assert all(raw.get("/api/v1/stats").status_code == 200 for _ in range(5))
            assert "/_emulator/faults" not in raw.get("/openapi.json").json()["paths"]
        plain.set_faults()  # turning faults off is a no-op
        with pytest.raises(RuntimeError, match="fault_injection=True"):
            plain.set_faults(error_rate=1.0)
    with pytest.raises(ValueError, match="fault_injection=True"):
        MembrainEmulator(faults=FaultConfig(error_rate=1.0))


def test_seeded_faults_are_reproducible() -> None:
    def draws(seed: int) -> list[str | None]:
        injector = FaultInjector(FaultConfig(error_rate=0.3, delay_rate=0.3, seed=seed))
        return [injector.draw("GET", "/api/v1/stats") for _ in range(50)]

    assert draws(11) == draws(11)
    assert draws(11) != draws(12)
    assert {"error", "delay", None} == set(draws(11))
