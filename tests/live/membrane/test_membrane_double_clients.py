"""Both Membrane clients end to end over a loopback gRPC channel.

``any_client`` tests run against a fresh real membraned. The tests that take ``double`` /
``double_client`` need a server that fails, holds or corrupts a reply on demand
(``fail_next``, ``hold``, a bad JSON field): the TEST DOUBLE (tests/support/membrane_double.py)
does that; a real daemon cannot.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc
import pytest

from benchmarks._tls import TlsFiles, make_tls_files
from membrane_integrations.core.errors import (
    AuthenticationError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConflictError,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)
from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrane import (
    AsyncMembraneClient,
    AuditAction,
    EpisodicPayload,
    MembraneClient,
    MemoryRecord,
    MemoryType,
    OutcomeStatus,
    RetrieveResult,
    SemanticPayload,
    Sensitivity,
    TrustContext,
    WorkingPayload,
)
from tests.live.membrane.conftest import API_KEY, FAST_RETRIES, resolve
from tests.support.membrane_double import MembraneDouble

pytestmark = pytest.mark.live

Client = MembraneClient | AsyncMembraneClient


def _competence(skill: str, *, confidence: float = 1.0) -> dict[str, Any]:
    return {
        "type": "competence",
        "sensitivity": "low",
        "confidence": confidence,
        "salience": 1,
        "lifecycle": {"decay": {"curve": "exponential", "half_life_seconds": 86400}},
        "provenance": {"sources": []},
        "payload": {
            "kind": "competence",
            "skill_name": skill,
            "triggers": [{"signal": "deploy"}],
            "recipe": [{"step": "run tests", "tool": "pytest"}],
            "performance": {"success_count": 3, "failure_count": 1, "success_rate": 0.75},
        },
    }


async def test_every_rpc_round_trips(any_client: Client) -> None:
    c = any_client
    event = await resolve(
        c.ingest_event(
            "file_edit", "src/main.py", summary="Refactored auth", tags=["auth", "auth", "py"]
        )
    )
    assert isinstance(event, MemoryRecord)
    assert event.type is MemoryType.EPISODIC and event.salience == 1.0
    assert event.tags == ["auth", "py"]  # de-duplicated before sending
    assert isinstance(event.payload, EpisodicPayload)
    assert event.payload.timeline[0].summary == "Refactored auth"
    assert event.audit_log[0].action is AuditAction.CREATE

    tool = await resolve(
        c.ingest_tool_output("run_tests", args={"suite": "auth"}, result={"passed": 42})
    )
    assert tool.payload.tool_graph[0].args == {"suite": "auth"}
    assert tool.payload.tool_graph[0].result == {"passed": 42}

    obs = await resolve(
        c.ingest_observation("user", "prefers", {"language": "Python"}, sensitivity="medium")
    )
    assert isinstance(obs.payload, SemanticPayload)
    assert obs.payload.object == {"language": "Python"}
    assert obs.sensitivity is Sensitivity.MEDIUM

    outcome = await resolve(c.ingest_outcome(event.id, OutcomeStatus.SUCCESS))
    assert outcome.id == event.id and outcome.payload.outcome is OutcomeStatus.SUCCESS

    working = await resolve(
        c.ingest_working_state(
            "session-001",
            "executing",
            next_actions=["run tests"],
            active_constraints=[{"type": "budget", "key": "usd", "value": 5, "required": True}],
        )
    )
    assert isinstance(working.payload, WorkingPayload)
    assert working.payload.active_constraints[0].value == 5

    trust = TrustContext(max_sensitivity=Sensitivity.MEDIUM, authenticated=True, actor_id="a")
    records = await resolve(c.retrieve("fix the login bug", trust=trust, limit=10))
    assert {r.id for r in records} >= {event.id, tool.id, obs.id, working.id}

    fetched = await resolve(c.retrieve_by_id(obs.id, trust=trust))
    assert fetched.payload.subject == "user"

    new = {**obs.to_dict(), "id": "", "payload": {**obs.to_dict()["payload"], "object": "Go"}}
    superseded = await resolve(c.supersede(obs.id, new, actor="agent-1", rationale="changed"))
    assert superseded.payload.revision.supersedes == obs.id
    assert [(r.kind, r.target_id) for r in superseded.relations] == [("supersedes", obs.id)]

    forked = await resolve(
        c.fork(superseded.id, {**superseded.to_dict(), "id": "", "scope": "dev"}, "a", "dev")
    )
    assert forked.scope == "dev"
    assert ("derived_from", superseded.id) in [(r.kind, r.target_id) for r in forked.relations]

    skill_a = await resolve(c.merge([forked.id], _competence("deploy"), "a", "consolidate"))
    assert skill_a.type is MemoryType.COMPETENCE
    assert skill_a.payload.recipe[0].tool == "pytest"

    await resolve(c.contest(superseded.id, forked.id, actor="a", rationale="conflict"))
    await resolve(c.reinforce(event.id, actor="a", rationale="useful"))
    await resolve(c.penalize(tool.id, 0.25, actor="a", rationale="noisy"))
    await resolve(c.retract(working.id, actor="a", rationale="stale"))

    selection = await resolve(c.retrieve_with_selection("deploy", trust=trust))
    assert isinstance(selection, RetrieveResult) and selection.selection is not None
    assert [r.id for r in selection.selection.selected] == [skill_a.id]
    assert selection.records[0].id == skill_a.id  # selected records first with a descriptor
    assert selection.selection.scores[skill_a.id] > 0

    metrics = await resolve(c.get_metrics())
    assert metrics["total_records"] == 7
    assert set(metrics["salience_distribution"]) == {
        "0.0-0.2",
        "0.2-0.4",
        "0.4-0.6",
        "0.6-0.8",
        "0.8-1.0",
    }


async def test_trust_gating_redacts_one_level_above_and_drops_two(any_client: Client) -> None:
    c = any_client
    low = await resolve(c.ingest_event("e", "low", sensitivity=Sensitivity.LOW))
    medium = await resolve(c.ingest_event("e", "medium", sensitivity=Sensitivity.MEDIUM))
    high = await resolve(c.ingest_event("e", "high", sensitivity=Sensitivity.HIGH))

    records = await resolve(c.retrieve("anything"))  # default trust: max_sensitivity low
    by_id = {r.id: r for r in records}
    assert not by_id[low.id].redacted and by_id[low.id].payload is not None
    assert by_id[medium.id].redacted and by_id[medium.id].payload is None
    assert by_id[medium.id].audit_log == [] and by_id[medium.id].sensitivity is Sensitivity.MEDIUM
    assert high.id not in by_id

    with pytest.raises(PermissionDeniedError) as info:
        await resolve(c.retrieve_by_id(medium.id))
    assert info.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_memory_type_and_salience_filters(any_client: Client) -> None:
    c = any_client
    event = await resolve(c.ingest_event("e", "r"))
    obs = await resolve(c.ingest_observation("s", "p", 1))
    await resolve(c.penalize(obs.id, 0.6, "a", "weak"))

    only_semantic = await resolve(c.retrieve("x", memory_types=["semantic"]))
    assert [r.id for r in only_semantic] == [obs.id]
    salient = await resolve(c.retrieve("x", min_salience=0.5))
    assert [r.id for r in salient] == [event.id]
    penalized = await resolve(c.retrieve_by_id(obs.id))
    assert penalized.salience == pytest.approx(0.4)
    assert penalized.audit_log[-1].action is AuditAction.DECAY
    assert penalized.audit_log[-1].rationale == "penalty: weak"


async def test_retract_hides_from_salient_retrieval(any_client: Client) -> None:
    c = any_client
    obs = await resolve(c.ingest_observation("s", "p", "o"))
    await resolve(c.retract(obs.id, actor="agent-1", rationale="wrong"))
    assert obs.id not in [r.id for r in await resolve(c.retrieve("x", min_salience=0.01))]
    still = await resolve(c.retrieve_by_id(obs.id))
    assert still.salience == 0
    assert still.payload.revision.status.value == "retracted"
    assert (still.audit_log[-1].action, still.audit_log[-1].actor) == (
        AuditAction.DELETE,
        "agent-1",
    )


async def test_not_found_invalid_argument_and_failed_precondition(any_client: Client) -> None:
    c = any_client
    with pytest.raises(NotFoundError) as missing:
        await resolve(c.retrieve_by_id("nonexistent-id"))
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    assert "record not found" in missing.value.details()
    assert missing.value.grpc_code == "NOT_FOUND"

    with pytest.raises(InvalidRequestError) as bad:
        await resolve(c.retrieve("x", limit=20000))
    assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "limit must be between 0 and 10000" in bad.value.details()

    with pytest.raises(InvalidRequestError, match="invalid timestamp"):
        await resolve(c.ingest_event("e", "r", timestamp="2025-01-31 12:00:00"))

    event = await resolve(c.ingest_event("e", "r"))
    with pytest.raises(ConflictError) as immutable:
        await resolve(c.retract(event.id, "a", "no"))
    assert immutable.value.code() is grpc.StatusCode.FAILED_PRECONDITION


async def test_api_key_sent_as_bearer_metadata_on_every_call(
    double_client: Client, double: MembraneDouble
) -> None:
    rec = await resolve(double_client.ingest_event("e", "r"))
    await resolve(double_client.retrieve("x"))
    await resolve(double_client.reinforce(rec.id, "a", "b"))
    await resolve(double_client.get_metrics())
    assert len(double.calls) == 4
    assert {c.metadata.get("authorization") for c in double.calls} == {f"Bearer {API_KEY}"}


@pytest.mark.parametrize("key", [None, "wrong-key-456"])
async def test_missing_or_wrong_key_is_unauthenticated(
    double: MembraneDouble, key: str | None
) -> None:
    with (
        MembraneClient(double.addr, api_key=key) as client,
        pytest.raises(AuthenticationError) as info,
    ):
        client.get_metrics()
    err = info.value
    assert isinstance(err, grpc.RpcError)
    assert err.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "invalid or missing API key" in err.details()
    assert "wrong-key-456" not in str(err) + repr(err)


async def test_reference_error_handling_example_still_works(double: MembraneDouble) -> None:
    client = MembraneClient(double.addr, api_key=API_KEY)
    seen: list[Any] = []
    try:
        client.retrieve_by_id("nonexistent-id")
    except grpc.RpcError as e:
        seen = [e.code(), e.details()]
    finally:
        client.close()
    assert seen[0] is grpc.StatusCode.NOT_FOUND and "nonexistent-id" in seen[1]


async def test_per_call_timeout_overrides_client_default(double: MembraneDouble) -> None:
    release = double.hold("Retrieve")
    try:
        with (
            MembraneClient(double.addr, api_key=API_KEY, timeout=30.0) as client,
            pytest.raises(BackendTimeoutError) as info,
        ):
            client.retrieve("slow", timeout=0.2)
        assert info.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        async with AsyncMembraneClient(double.addr, api_key=API_KEY, timeout=30.0) as aclient:
            with pytest.raises(BackendTimeoutError):
                await aclient.retrieve("slow", timeout=0.2)
    finally:
        release.set()


async def test_client_default_timeout_applies(double: MembraneDouble) -> None:
    release = double.hold("GetMetrics")
    try:
        with (
            MembraneClient(double.addr, api_key=API_KEY, timeout=0.2) as client,
            pytest.raises(BackendTimeoutError),
        ):
            client.get_metrics()
    finally:
        release.set()


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED])
async def test_idempotent_reads_are_retried(
    double_client: Client, double: MembraneDouble, code: grpc.StatusCode
) -> None:
    rec = await resolve(double_client.ingest_event("e", "r"))
    double.fail_next("RetrieveByID", code, times=2)
    assert (await resolve(double_client.retrieve_by_id(rec.id))).id == rec.id
    assert len(double.calls_of("RetrieveByID")) == 3
    double.fail_next("Retrieve", code, times=1)
    assert len(await resolve(double_client.retrieve("x"))) == 1
    double.fail_next("GetMetrics", code, times=1)
    assert (await resolve(double_client.get_metrics()))["total_records"] == 1


async def test_reads_give_up_after_max_retries(
    double_client: Client, double: MembraneDouble
) -> None:
    double.fail_next("GetMetrics", grpc.StatusCode.UNAVAILABLE, times=5)
    with pytest.raises(BackendUnavailableError):
        await resolve(double_client.get_metrics())
    assert len(double.calls_of("GetMetrics")) == 3  # FAST_RETRIES: 1 + 2 retries


@pytest.mark.parametrize("method", ["IngestEvent", "Reinforce"])
async def test_writes_are_not_retried(
    double_client: Client, double: MembraneDouble, method: str
) -> None:
    rec = await resolve(double_client.ingest_event("e", "r"))
    double.calls.clear()
    double.fail_next(method, grpc.StatusCode.UNAVAILABLE, times=1)
    with pytest.raises(BackendUnavailableError):
        if method == "IngestEvent":
            await resolve(double_client.ingest_event("e", "r2"))
        else:
            await resolve(double_client.reinforce(rec.id, "a", "b"))
    assert len(double.calls_of(method)) == 1


async def test_not_found_is_not_retried(double_client: Client, double: MembraneDouble) -> None:
    with pytest.raises(NotFoundError):
        await resolve(double_client.retrieve_by_id("nope"))
    assert len(double.calls_of("RetrieveByID")) == 1


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (grpc.StatusCode.UNAUTHENTICATED, AuthenticationError),
        (grpc.StatusCode.PERMISSION_DENIED, PermissionDeniedError),
        (grpc.StatusCode.NOT_FOUND, NotFoundError),
        (grpc.StatusCode.INVALID_ARGUMENT, InvalidRequestError),
        (grpc.StatusCode.FAILED_PRECONDITION, ConflictError),
        (grpc.StatusCode.ALREADY_EXISTS, ConflictError),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, RateLimitedError),
        (grpc.StatusCode.UNAVAILABLE, BackendUnavailableError),
        (grpc.StatusCode.DEADLINE_EXCEEDED, BackendTimeoutError),
        (grpc.StatusCode.INTERNAL, ServerError),
        (grpc.StatusCode.UNKNOWN, ServerError),
        (grpc.StatusCode.DATA_LOSS, ServerError),
    ],
)
async def test_status_mapping_over_the_wire(
    double: MembraneDouble, code: grpc.StatusCode, cls: type[Exception]
) -> None:
    double.fail_next("GetMetrics", code, message="boom detail")
    async with AsyncMembraneClient(double.addr, api_key=API_KEY, max_retries=0) as client:
        with pytest.raises(cls) as info:
            await client.get_metrics()
    err = info.value
    assert isinstance(err, grpc.RpcError)
    assert err.code() is code and err.details() == "boom detail"  # type: ignore[attr-defined]
    assert err.grpc_code == code.name  # type: ignore[attr-defined]
    assert "GetMetrics" in str(err)


@pytest.mark.parametrize("method", ["RetrieveByID", "Retrieve", "GetMetrics", "IngestEvent"])
async def test_invalid_json_in_bytes_field_is_malformed_response(
    double_client: Client, double: MembraneDouble, method: str
) -> None:
    rec = await resolve(double_client.ingest_event("e", "r"))
    double.corrupt(method)
    calls = {
        "RetrieveByID": lambda: double_client.retrieve_by_id(rec.id),
        "Retrieve": lambda: double_client.retrieve("x"),
        "GetMetrics": lambda: double_client.get_metrics(),
        "IngestEvent": lambda: double_client.ingest_event("e", "r"),
    }
    with pytest.raises(MalformedResponseError) as info:
        await resolve(calls[method]())
    assert isinstance(info.value, grpc.RpcError)
    assert info.value.code() is grpc.StatusCode.INTERNAL  # type: ignore[attr-defined]
    assert "invalid JSON" in str(info.value)


async def test_unreachable_daemon_is_backend_unavailable() -> None:
    from tests.support.membraned import free_port

    policy = RetryPolicy(max_retries=1, initial_backoff=0.0, jitter=0.0)
    addr = f"127.0.0.1:{free_port()}"
    with (
        MembraneClient(addr, retry_policy=policy, timeout=5) as client,
        pytest.raises(BackendUnavailableError) as info,
    ):
        client.get_metrics()
    assert info.value.code() is grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]


async def test_tls_with_a_private_ca(cert: TlsFiles) -> None:
    server_pem, key_pem = cert.server_cert.read_bytes(), cert.server_key.read_bytes()
    with MembraneDouble(api_key=API_KEY, tls_cert=server_pem, tls_key=key_pem) as server:
        with MembraneClient(server.addr, tls_ca_cert=str(cert.ca_cert), api_key=API_KEY) as client:
            rec = client.ingest_event("e", "r")
        async with AsyncMembraneClient(
            server.addr, tls_ca_cert=str(cert.ca_cert), api_key=API_KEY
        ) as aclient:
            assert (await aclient.retrieve_by_id(rec.id)).id == rec.id
        # Plaintext against a TLS port fails.
        plain = MembraneClient(server.addr, api_key=API_KEY, max_retries=0, timeout=5)
        with plain, pytest.raises(BackendUnavailableError):
            plain.get_metrics()


async def test_tls_rejects_an_untrusted_certificate(cert: TlsFiles, tmp_path: Path) -> None:
    other = make_tls_files(tmp_path / "other")
    server_pem, key_pem = cert.server_cert.read_bytes(), cert.server_key.read_bytes()
    with (
        MembraneDouble(tls_cert=server_pem, tls_key=key_pem) as server,
        MembraneClient(
            server.addr, tls_ca_cert=str(other.ca_cert), max_retries=0, timeout=5
        ) as client,
        pytest.raises(BackendUnavailableError),
    ):
        client.get_metrics()


async def test_one_channel_is_reused_and_concurrent_async_calls_work(
    double: MembraneDouble,
) -> None:
    async with AsyncMembraneClient(double.addr, api_key=API_KEY) as client:
        await client.ingest_event("e", "r")
        channel = client._channel
        results = await asyncio.gather(*(client.retrieve("x") for _ in range(50)))
        assert client._channel is channel
    assert all(len(r) == 1 for r in results)
    peers = {c.metadata.get("authorization") for c in double.calls}
    assert peers == {f"Bearer {API_KEY}"}


async def test_closed_async_client_refuses_calls(double: MembraneDouble) -> None:
    client = AsyncMembraneClient(double.addr, api_key=API_KEY)
    await client.get_metrics()
    await client.close()
    await client.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await client.get_metrics()


def test_reference_quick_start_runs_unchanged(double: MembraneDouble) -> None:
    # The reference's quick start, with only its import line and address changed.
    from membrane_integrations.membrane import MembraneClient, Sensitivity, TrustContext

    client = MembraneClient(double.addr, api_key=API_KEY)
    record = client.ingest_event(
        event_kind="file_edit",
        ref="src/main.py",
        summary="Refactored authentication module",
        sensitivity=Sensitivity.LOW,
    )
    trust = TrustContext(max_sensitivity=Sensitivity.MEDIUM, authenticated=True, actor_id="agent-1")
    records = client.retrieve("fix the login bug", trust=trust, limit=5)
    lines = [f"  [{r.type.value}] {r.id} (salience={r.salience:.2f})" for r in records]
    client.reinforce(record.id, actor="agent-1", rationale="Used successfully")
    client.close()
    assert lines == [f"  [episodic] {record.id} (salience=1.00)"]

    with MembraneClient(double.addr, api_key=API_KEY) as client2:
        obs = client2.ingest_observation(
            subject="user",
            predicate="prefers",
            obj={"language": "Python"},
            sensitivity=Sensitivity.LOW,
        )
        merged = client2.merge(
            [obs.id],
            {
                "type": "semantic",
                "sensitivity": "low",
                "salience": 1,
                "payload": {
                    "kind": "semantic",
                    "subject": "user",
                    "predicate": "prefers",
                    "object": "Python",
                    "validity": {"mode": "global"},
                    "evidence": [
                        {"source_type": "merge", "source_id": obs.id, "timestamp": obs.created_at}
                    ],
                },
            },
            actor="agent-1",
            rationale="Consolidating duplicate semantic records",
        )
        metrics = client2.get_metrics()
    assert merged.audit_log[-1].rationale == (
        f"merged from [{obs.id}]: Consolidating duplicate semantic records"
    )
    assert metrics["total_records"] == 3


def test_fast_retry_policy_constant_is_sane() -> None:
    assert FAST_RETRIES.max_retries == 2
