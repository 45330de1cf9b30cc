"""Once the server has given a job id, no polling failure may lose it (bug found by the
fault-injection run: a poll that used up its retries raised a bare ``ServerError`` or
``MalformedResponseError``, leaving the caller no way to learn what became of the job)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from membrane_integrations.core.errors import (
    BackendTimeoutError,
    IngestTimeoutError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from tests.reliability.scripted import Scripted, job_reply

BOOM = {"detail": {"code": "INTERNAL", "message": "boom"}}


def accepted() -> httpx.Response:
    return httpx.Response(202, json={"job_id": "job-7", "job_status": "queued", "status_url": ""})


def boom() -> httpx.Response:
    return httpx.Response(500, json=BOOM)


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize(
    ("failure", "times", "cause"),
    [
        (lambda: httpx.Response(500, json=BOOM), 3, ServerError),
        (lambda: httpx.Response(503, text="<html>503</html>"), 3, ServerError),
        (
            lambda: httpx.Response(429, json={"detail": "slow"}, headers={"Retry-After": "0"}),
            3,
            RateLimitedError,
        ),
        (lambda: httpx.ReadTimeout("no answer"), 3, BackendTimeoutError),
        (
            lambda: httpx.Response(200, content=b'{"job_id": "job-7", "stat'),
            3,
            MalformedResponseError,
        ),
    ],
    ids=["500", "503-html", "429", "read-timeout", "truncated"],
)
async def test_a_failed_poll_raises_ingest_timeout_with_the_job_id(
    kind: str,
    failure: Callable[[], httpx.Response | Exception],
    times: int,
    cause: type[Exception],
) -> None:
    failures = [failure() for _ in range(times)]
    s = Scripted(kind, [accepted(), job_reply("job-7", "processing"), *failures])
    with pytest.raises(IngestTimeoutError) as info:
        await s.call("add", "User keeps bees")
    err = info.value
    assert err.job_id == "job-7" and err.last_status == "processing"
    assert isinstance(err.__cause__, cause)
    assert "wait_for_job('job-7')" in str(err)
    assert [r.method for r in s.requests].count("POST") == 1  # the create was never re-sent
    assert s.unused == 0


async def test_the_job_id_survives_a_failure_on_the_very_first_poll(kind: str) -> None:
    s = Scripted(kind, [accepted(), *[boom() for _ in range(3)]])
    with pytest.raises(IngestTimeoutError) as info:
        await s.call("add", "User keeps bees")
    assert info.value.job_id == "job-7" and info.value.last_status is None


async def test_resuming_the_job_id_gives_the_result(kind: str) -> None:
    s = Scripted(
        kind,
        [accepted(), *[boom() for _ in range(3)], job_reply("job-7", "completed", "m9")],
    )
    with pytest.raises(IngestTimeoutError) as info:
        await s.call("add", "User keeps bees")
    result = await s.call("wait_for_job", info.value.job_id)
    assert (result.memory_id, result.action) == ("m9", "created")


async def test_a_job_that_does_not_exist_is_still_not_found(kind: str) -> None:
    missing = httpx.Response(404, json={"detail": {"code": "NOT_FOUND", "message": "no job"}})
    s = Scripted(kind, [missing])
    with pytest.raises(NotFoundError):
        await s.call("wait_for_job", "job-unknown")
