"""Which requests are retried, how often, and how long the client waits between tries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from membrane_integrations.core.errors import (
    BackendTimeoutError,
    BackendUnavailableError,
    MalformedResponseError,
    RateLimitedError,
    ServerError,
)
from membrane_integrations.core.retry import RetryPolicy

from .conftest import json_reply

STATS = {"total_memories": 1}
ACCEPTED = {"job_id": "j1", "job_status": "queued"}


@pytest.mark.parametrize(
    "failure",
    [
        lambda: json_reply(500, {"detail": "boom"}),
        lambda: json_reply(503, {"detail": "busy"}),
        lambda: json_reply(429, {"detail": "slow down"}),
        lambda: httpx.ConnectError("refused"),
        lambda: httpx.ReadTimeout("slow"),
        lambda: httpx.ReadError("reset"),
    ],
    ids=["500", "503", "429", "connect", "read-timeout", "read-error"],
)
@pytest.mark.parametrize(
    ("method", "args", "reply"),
    [
        ("stats", (), STATS),
        ("search", ("q",), {"results": []}),
        ("get_many", (["m1"],), {"memories": []}),
        ("unlink", ("a", "b"), {"unlinked": True}),
        ("update", ("m1",), {"id": "m1", "content": "c"}),
        ("delete", ("m1",), {"deleted": True}),
    ],
)
async def test_idempotent_calls_are_retried(
    make: Any, failure: Any, method: str, args: tuple[Any, ...], reply: Any
) -> None:
    kwargs = {"content": "c"} if method == "update" else {}
    h = make([failure(), failure(), json_reply(200, reply)])
    await h.call(method, *args, **kwargs)
    assert len(h.requests) == 3
    assert h.sleeps == pytest.approx([0.25, 0.5])


async def test_gives_up_after_max_retries(make: Any) -> None:
    h = make([json_reply(500, {"detail": "boom"})] * 5, retry_policy=RetryPolicy(max_retries=3))
    with pytest.raises(ServerError):
        await h.call("stats")
    assert len(h.requests) == 4


async def test_max_retries_zero_sends_once(make: Any) -> None:
    h = make([json_reply(503, {})] * 2, max_retries=0, retry_policy=None)
    with pytest.raises(ServerError):
        await h.call("stats")
    assert len(h.requests) == 1 and h.sleeps == []


async def test_client_max_retries_is_used(make: Any) -> None:
    h = make([httpx.ConnectError("x")] * 5, max_retries=1, retry_policy=None)
    with pytest.raises(BackendUnavailableError):
        await h.call("stats")
    assert len(h.requests) == 2


async def test_retry_after_seconds_is_honoured(make: Any) -> None:
    h = make([json_reply(429, {"detail": "slow"}, Retry_After="7"), json_reply(200, STATS)])
    await h.call("stats")
    assert h.sleeps == [7.0]


async def test_retry_after_http_date_is_honoured(make: Any) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    h = make(
        [
            json_reply(503, {"detail": "maintenance"}, Retry_After=format_datetime(when, True)),
            json_reply(200, STATS),
        ]
    )
    await h.call("stats")
    assert len(h.sleeps) == 1
    assert 25.0 <= h.sleeps[0] <= 30.0


async def test_retry_after_beyond_the_cap_is_raised(make: Any) -> None:
    h = make([json_reply(429, {"detail": "slow"}, Retry_After="3600")])
    with pytest.raises(RateLimitedError) as info:
        await h.call("stats")
    assert info.value.retry_after == 3600.0
    assert h.sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        lambda: json_reply(500, {"detail": "boom"}),
        lambda: json_reply(502, {"detail": "bad gateway"}),
        lambda: json_reply(429, {"detail": "slow"}, Retry_After="1"),
        lambda: httpx.ReadError("reset after send"),
        lambda: httpx.ReadTimeout("no answer"),
        lambda: httpx.WriteError("broken pipe"),
        lambda: httpx.RemoteProtocolError("peer closed"),
    ],
    ids=["500", "502", "429", "read-error", "read-timeout", "write-error", "protocol"],
)
async def test_create_is_never_resent_once_it_may_have_arrived(make: Any, failure: Any) -> None:
    h = make([failure(), json_reply(202, ACCEPTED)])
    with pytest.raises(
        (
            ServerError,
            RateLimitedError,
            BackendUnavailableError,
            BackendTimeoutError,
            MalformedResponseError,
        )
    ):
        await h.call("add", "fact", wait=False)
    assert len(h.requests) == 1
    assert h.remaining == 1


@pytest.mark.parametrize(
    "failure",
    [
        lambda: httpx.ConnectError("refused"),
        lambda: httpx.ConnectTimeout("connect timed out"),
        lambda: httpx.PoolTimeout("no free connection"),
    ],
    ids=["connect-error", "connect-timeout", "pool-timeout"],
)
async def test_create_is_resent_when_it_never_left(make: Any, failure: Any) -> None:
    h = make([failure(), json_reply(202, ACCEPTED)])
    accepted = await h.call("add", "fact", wait=False)
    assert accepted.job_id == "j1"
    assert [r.method for r in h.requests] == ["POST", "POST"]


async def test_bad_request_is_not_retried(make: Any) -> None:
    h = make([json_reply(400, {"detail": "bad"}), json_reply(200, STATS)])
    with pytest.raises(Exception, match="invalid"):
        await h.call("stats")
    assert len(h.requests) == 1


async def test_backoff_has_jitter_and_cap_from_policy(make: Any) -> None:
    policy = RetryPolicy(max_retries=4, initial_backoff=1.0, max_backoff=2.0, jitter=0.0)
    h = make([httpx.ConnectError("x")] * 4 + [json_reply(200, STATS)], retry_policy=policy)
    await h.call("stats")
    assert h.sleeps == [1.0, 2.0, 2.0, 2.0]
