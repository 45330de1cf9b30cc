"""Ingest polling: queued -> processing -> completed, failure, deadline and resume."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from membrane_integrations.core.errors import (
    IngestFailedError,
    IngestTimeoutError,
    MalformedResponseError,
    NotFoundError,
)
from membrane_integrations.membrain import PollPolicy

from .conftest import json_reply

ACCEPTED = {"job_id": "job-1", "job_status": "queued", "status_url": "http://elsewhere/x"}


def job(status: str, **extra: Any) -> dict[str, Any]:
    return {"job_id": "job-1", "status": status, **extra}


COMPLETED = job(
    "completed",
    result={
        "memory_id": "m1",
        "action": "created",
        "memory": {"id": "m1", "content": "fact", "scope": ["container.bob"]},
    },
)


async def test_queued_processing_completed(make: Any) -> None:
    h = make(
        [
            json_reply(202, ACCEPTED),
            json_reply(200, job("queued")),
            json_reply(200, job("processing")),
            json_reply(200, job("processing")),
            json_reply(200, COMPLETED),
        ]
    )
    result = await h.call("add", "fact", scope=["container.bob"])
    assert (result.memory_id, result.action) == ("m1", "created")
    assert result.memory is not None and result.memory.content == "fact"
    paths = [r.url.path for r in h.requests]
    assert paths == ["/api/v1/memories"] + ["/api/v1/memories/jobs/job-1"] * 4
    # polls go to our own host, never to the server-supplied status_url
    assert {r.url.host for r in h.requests} == {"membrain.test"}
    # exponential backoff from 25 ms
    assert h.sleeps == pytest.approx([0.025, 0.05, 0.1])


async def test_backoff_is_capped_at_one_second(make: Any) -> None:
    replies = [json_reply(202, ACCEPTED)] + [json_reply(200, job("processing"))] * 9
    h = make([*replies, json_reply(200, COMPLETED)])
    await h.call("add", "fact")
    assert max(h.sleeps) == pytest.approx(1.0)
    assert h.sleeps[-3:] == pytest.approx([1.0, 1.0, 1.0])


async def test_failed_job_raises_ingest_failed(make: Any) -> None:
    failed = job(
        "failed",
        error={"code": "EMBEDDING_FAILED", "message": "embedder down", "retryable": True},
    )
    h = make([json_reply(202, ACCEPTED), json_reply(200, failed)])
    with pytest.raises(IngestFailedError) as info:
        await h.call("add", "fact")
    err = info.value
    assert err.job_id == "job-1" and err.retryable is True and err.code == "EMBEDDING_FAILED"
    assert "embedder down" in str(err)


async def test_completed_without_result_is_malformed(make: Any) -> None:
    h = make([json_reply(202, ACCEPTED), json_reply(200, job("completed"))])
    with pytest.raises(MalformedResponseError):
        await h.call("add", "fact")


async def test_deadline_then_resume_with_same_job_id(make: Any) -> None:
    h = make(
        [
            json_reply(202, ACCEPTED),
            *[json_reply(200, job("processing")) for _ in range(4)],
        ],
        poll_policy=PollPolicy(initial=0.1, maximum=0.2),
    )
    with pytest.raises(IngestTimeoutError) as info:
        await h.call("add", "fact", wait_timeout=0.5)
    err = info.value
    assert err.job_id == "job-1" and err.last_status == "processing"
    assert "wait_for_job('job-1')" in str(err)
    # the last sleep is cut to the deadline, never beyond it
    assert sum(h.sleeps) == pytest.approx(0.5)
    posts = [r for r in h.requests if r.method == "POST"]
    assert len(posts) == 1

    h._script.extend([json_reply(200, job("processing")), json_reply(200, COMPLETED)])
    result = await h.call("wait_for_job", err.job_id, wait_timeout=5)
    assert result.memory_id == "m1"
    assert [r.method for r in h.requests].count("POST") == 1
    assert h.requests[-1].url.path == "/api/v1/memories/jobs/job-1"


async def test_zero_wait_timeout_polls_once(make: Any) -> None:
    h = make([json_reply(200, job("queued"))])
    with pytest.raises(IngestTimeoutError) as info:
        await h.call("wait_for_job", "job-1", wait_timeout=0)
    assert info.value.last_status == "queued"
    assert h.sleeps == []


async def test_transient_poll_failure_is_retried(make: Any) -> None:
    h = make(
        [
            json_reply(202, ACCEPTED),
            json_reply(503, {"detail": "busy"}),
            httpx.ReadTimeout("slow"),
            json_reply(200, COMPLETED),
        ]
    )
    result = await h.call("add", "fact")
    assert result.memory_id == "m1"
    assert len(h.requests) == 4


async def test_unknown_job_is_not_found(make: Any) -> None:
    h = make([json_reply(404, {"detail": {"code": "NOT_FOUND", "message": "no such job"}})])
    with pytest.raises(NotFoundError):
        await h.call("wait_for_job", "nope")
    assert len(h.requests) == 1


async def test_get_job_returns_state(make: Any) -> None:
    h = make([json_reply(200, job("processing"))])
    state = await h.call("get_job", "job-1")
    assert state.status == "processing" and not state.done
