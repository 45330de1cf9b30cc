"""Each branch of the ambiguous-add resolution (``membrain/_resolve.py``), scripted reply by reply.

The fault-proxy run shows the whole holds against a real server; these pin the branches a
random run may not reach: a resend that merges into the copy an earlier attempt left, the sweep
of a second copy, a job that fails while an earlier attempt landed, every attempt ambiguous.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from membrane_integrations.core.errors import (
    AddOutcomeUnknownError,
    BackendUnavailableError,
    IngestFailedError,
    RateLimitedError,
    ServerError,
)
from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrain._add_token import add_token_filter, is_add_token
from tests.reliability.scripted import Scripted

CONTENT = "User keeps bees"


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _boom() -> httpx.Response:
    return httpx.Response(500, json={"detail": {"code": "INTERNAL", "message": "boom"}})


def _accepted(job: str) -> httpx.Response:
    return httpx.Response(202, json={"job_id": job, "job_status": "queued", "status_url": ""})


def _hits(*ids: str) -> httpx.Response:
    nodes = [
        {"type": "memory_node", "id": i, "content": CONTENT, "semantic_score": 1.0} for i in ids
    ]
    return httpx.Response(200, json={"results": nodes})


def _memory(memory_id: str, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"id": memory_id, "content": CONTENT, "evolution_history": history or []}


def _done(job: str, memory: dict[str, Any], action: str) -> httpx.Response:
    result = {"memory_id": memory["id"], "action": action, "memory": memory}
    return httpx.Response(200, json={"job_id": job, "status": "completed", "result": result})


def _body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def _posts(s: Scripted) -> list[httpx.Request]:
    return [r for r in s.requests if r.method == "POST" and r.url.path == "/api/v1/memories"]


def _scripted(kind: str, replies: list[Any], **kwargs: Any) -> Scripted:
    kwargs.setdefault("retry_policy", RetryPolicy(max_retries=2, jitter=0.0))
    return Scripted(kind, replies, add_tokens=True, **kwargs)


async def test_a_resend_that_merges_into_the_first_attempt_is_reported_created(kind: str) -> None:
    merged = _memory("m1", [{"previous_content": CONTENT, "new_content": CONTENT}])
    s = _scripted(
        kind,
        [_boom(), _hits(), _accepted("j2"), _done("j2", merged, "updated"), _hits("m1")],
    )
    result = await s.call("add", CONTENT, scope=["container.bob"])
    assert (result.memory_id, result.action) == ("m1", "created")
    first, second = (_body(r) for r in _posts(s))
    assert first == second and is_add_token(first["scope"][-1])  # the same token both times
    lookup = _body(s.requests[1])
    assert lookup["scope"] == [add_token_filter(first["scope"][-1])] and lookup["full_scope"]
    assert s.unused == 0


async def test_a_second_copy_under_the_token_is_deleted(kind: str) -> None:
    deleted = httpx.Response(200, json={"deleted": True, "memory_id": "m1"})
    s = _scripted(
        kind,
        [
            httpx.ReadTimeout("no answer"),
            _hits(),
            _accepted("j2"),
            _done("j2", _memory("m2"), "created"),
            _hits("m1", "m2"),
            deleted,
        ],
    )
    result = await s.call("add", CONTENT)
    assert (result.memory_id, result.action) == ("m2", "created")
    assert [(r.method, r.url.path) for r in s.requests][-1] == ("DELETE", "/api/v1/memories/m1")
    assert s.unused == 0


async def test_a_merge_into_someone_elses_memory_stays_updated(kind: str) -> None:
    other = {"id": "m0", "content": "User keeps bees and wasps", "evolution_history": []}
    s = _scripted(kind, [_boom(), _hits(), _accepted("j2"), _done("j2", other, "updated"), _hits()])
    result = await s.call("add", CONTENT)
    assert (result.memory_id, result.action) == ("m0", "updated")


async def test_a_failed_resend_looks_for_the_earlier_attempt(kind: str) -> None:
    failed = httpx.Response(
        200,
        json={
            "job_id": "j2",
            "status": "failed",
            "error": {"code": "X", "message": "no", "retryable": True},
        },
    )
    s = _scripted(
        kind,
        [
            _boom(),
            _hits(),
            _accepted("j2"),
            failed,
            _hits("m1"),
            httpx.Response(200, json=_memory("m1")),
        ],
    )
    result = await s.call("add", CONTENT)
    assert (result.memory_id, result.action) == ("m1", "created")
    s = _scripted(kind, [_boom(), _hits(), _accepted("j2"), failed, _hits()])
    with pytest.raises(IngestFailedError):
        await s.call("add", CONTENT)


async def test_every_attempt_ambiguous_waits_for_the_token_then_says_unknown(kind: str) -> None:
    # max_retries=1: two creates, each 500 and absent; then the token is asked for once more and
    # the deadline has passed (a clock that jumps, so nothing waits for real).
    s = _scripted(
        kind,
        [_boom(), _hits(), _boom(), _hits(), _hits()],
        retry_policy=RetryPolicy(max_retries=1, jitter=0.0),
    )
    ticks = iter([0.0])
    s.client._clock = lambda: next(ticks, 5.0)
    with pytest.raises(AddOutcomeUnknownError) as info:
        await s.call("add", CONTENT, wait_timeout=1.0)
    assert is_add_token(info.value.add_token)
    assert isinstance(info.value.__cause__, ServerError)
    assert info.value.add_token not in str(info.value)  # the token stays out of messages
    assert len(_posts(s)) == 2


async def test_the_token_found_late_is_returned(kind: str) -> None:
    s = _scripted(
        kind,
        [_boom(), _hits(), _hits("m1"), httpx.Response(200, json=_memory("m1"))],
        retry_policy=RetryPolicy(max_retries=0, jitter=0.0),
    )
    result = await s.call("add", CONTENT)
    assert result.memory_id == "m1" and len(_posts(s)) == 1


async def test_a_refusal_is_not_ambiguous(kind: str) -> None:
    slow = httpx.Response(429, json={"detail": "slow down"}, headers={"Retry-After": "0"})
    s = _scripted(kind, [slow])
    with pytest.raises(RateLimitedError):
        await s.call("add", CONTENT)
    assert len(s.requests) == 1  # no lookup, no resend


async def test_a_create_that_never_left_the_client_is_not_looked_up(kind: str) -> None:
    s = _scripted(kind, [httpx.ConnectError("refused") for _ in range(3)])
    with pytest.raises(BackendUnavailableError):
        await s.call("add", CONTENT)
    assert [r.url.path for r in s.requests] == ["/api/v1/memories"] * 3  # retried, no lookup
