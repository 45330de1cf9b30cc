"""Every HTTP status, error body shape and httpx failure maps into core.errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from membrane_integrations.core.errors import (
    AuthenticationError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConflictError,
    InvalidRequestError,
    MalformedResponseError,
    MembraneIntegrationsError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    ServerError,
)

from .conftest import json_reply


def err(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"detail": {"code": code, "message": message, **extra}}


STATUS_CASES = [
    (400, err("BAD_SCOPE", "bad pattern"), InvalidRequestError, "BAD_SCOPE"),
    (401, err("UNAUTHORIZED", "unknown key"), AuthenticationError, "UNAUTHORIZED"),
    (403, err("FORBIDDEN", "nope"), PermissionDeniedError, "FORBIDDEN"),
    (404, err("NOT_FOUND", "no memory"), NotFoundError, "NOT_FOUND"),
    (409, err("CONFLICT", "busy"), ConflictError, "CONFLICT"),
    (
        413,
        err("PAYLOAD_TOO_LARGE", "too big", field="body"),
        PayloadTooLargeError,
        "PAYLOAD_TOO_LARGE",
    ),
    (
        422,
        {"detail": [{"loc": ["body", "k"], "msg": "too big", "type": "x"}]},
        InvalidRequestError,
        "VALIDATION_ERROR",
    ),
    (500, err("INTERNAL", "boom"), ServerError, "INTERNAL"),
    (502, err("BAD_GATEWAY", "upstream"), ServerError, "BAD_GATEWAY"),
    (418, err("TEAPOT", "short and stout"), InvalidRequestError, "TEAPOT"),
    (302, {}, MalformedResponseError, None),
]


@pytest.mark.parametrize(("status", "body", "cls", "code"), STATUS_CASES)
async def test_status_maps_to_class(
    make: Any, status: int, body: Any, cls: type[Exception], code: str | None
) -> None:
    h = make([json_reply(status, body)] * 3, max_retries=0, retry_policy=None)
    with pytest.raises(cls) as info:
        await h.call("get", "m1")
    error = info.value
    assert isinstance(error, MembraneIntegrationsError)
    assert error.status_code == status
    assert error.code == code
    assert "/api/v1/memories/m1" in str(error)


async def test_the_emulators_error_shape_names_the_field(make: Any) -> None:
    body = err("VALIDATION_ERROR", "query.k: must be <= 100", field="k")
    h = make([json_reply(422, body)])
    with pytest.raises(InvalidRequestError) as info:
        await h.call("search", "q")
    assert info.value.field == "k" and info.value.code == "VALIDATION_ERROR"


async def test_413_says_sending_again_will_not_help(make: Any) -> None:
    h = make([json_reply(413, err("PAYLOAD_TOO_LARGE", "too big", field="body"))] * 3)
    with pytest.raises(PayloadTooLargeError) as info:
        await h.call("get", "m1")
    assert isinstance(info.value, InvalidRequestError) and info.value.field == "body"
    assert "will not help" in str(info.value)


async def test_validation_list_names_the_field(make: Any) -> None:
    body = {"detail": [{"loc": ["body", "k"], "msg": "must be <= 100", "type": "value_error"}]}
    h = make([json_reply(422, body)])
    with pytest.raises(InvalidRequestError) as info:
        await h.call("search", "q")
    assert info.value.field == "k"
    # a field literally named like a location keeps its name
    query = {"detail": [{"loc": ["body", "query"], "msg": "too long", "type": "value_error"}]}
    h = make([json_reply(422, query)])
    with pytest.raises(InvalidRequestError) as named:
        await h.call("search", "q")
    assert named.value.field == "query"
    assert "k: must be <= 100" in str(info.value)


async def test_memory_cap_is_quota_not_permission(make: Any) -> None:
    h = make([json_reply(403, err("TIER_MEMORY_CAP_REACHED", "cap of 1000 reached"))])
    with pytest.raises(QuotaExceededError) as info:
        await h.call("add", "fact")
    assert info.value.code == "TIER_MEMORY_CAP_REACHED"
    assert "delete memories or upgrade" in str(info.value)
    assert len(h.requests) == 1


async def test_weekly_quota_carries_reset_and_is_not_retried(make: Any) -> None:
    body = err(
        "TIER_WEEKLY_QUOTA_REACHED", "weekly quota", next_weekly_reset_at="2026-03-16T00:00:00Z"
    )
    h = make([json_reply(429, body, Retry_After="1")] * 3)
    with pytest.raises(QuotaExceededError) as info:
        await h.call("search", "q")
    assert info.value.next_weekly_reset_at == "2026-03-16T00:00:00Z"
    assert info.value.status_code == 429
    assert "2026-03-16" in str(info.value)
    assert len(h.requests) == 1


async def test_quota_code_sent_as_plain_detail_string(make: Any) -> None:
    h = make([json_reply(403, {"detail": "TIER_MEMORY_CAP_REACHED"})])
    with pytest.raises(QuotaExceededError):
        await h.call("add", "fact")


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        ({"detail": "memory not found"}, "memory not found", None),
        ({"code": "NOT_FOUND", "message": "top-level"}, "top-level", "NOT_FOUND"),
        ({"error": "plain error"}, "plain error", None),
        ({"error": {"code": "E1", "message": "nested"}}, "nested", "E1"),
    ],
)
async def test_error_body_variants(make: Any, body: Any, message: str, code: str | None) -> None:
    h = make([json_reply(404, body)])
    with pytest.raises(NotFoundError) as info:
        await h.call("get", "m1")
    assert info.value.server_message == message
    assert info.value.code == code


async def test_proxy_html_502_page(make: Any) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    replies = [httpx.Response(502, text=page, headers={"content-type": "text/html"})] * 3
    h = make(replies)
    with pytest.raises(ServerError) as info:
        await h.call("stats")
    assert "non-JSON body (text/html)" in str(info.value)
    assert "502 Bad Gateway" in str(info.value)
    assert len(h.requests) == 3


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx.ConnectError("connection refused"), BackendUnavailableError),
        (httpx.ConnectTimeout("connect timed out"), BackendTimeoutError),
        (httpx.ReadTimeout("read timed out"), BackendTimeoutError),
        (httpx.PoolTimeout("pool"), BackendTimeoutError),
        (httpx.ReadError("reset by peer"), BackendUnavailableError),
        (httpx.RemoteProtocolError("peer closed connection"), MalformedResponseError),
    ],
)
async def test_transport_errors(make: Any, exc: Exception, cls: type[Exception]) -> None:
    h = make([exc], max_retries=0, retry_policy=None)
    with pytest.raises(cls) as info:
        await h.call("stats")
    assert info.value.__cause__ is exc
    assert "/api/v1/stats" in str(info.value)


async def test_unreachable_message_says_what_to_do(make: Any) -> None:
    h = make([httpx.ConnectError("refused")], max_retries=0, retry_policy=None)
    with pytest.raises(BackendUnavailableError, match="MEMBRAIN_BASE_URL"):
        await h.call("health")


async def test_authentication_message_names_the_env_var(make: Any) -> None:
    h = make([json_reply(401, err("UNAUTHORIZED", "bad key"))])
    with pytest.raises(AuthenticationError, match="MEMBRAIN_API_KEY"):
        await h.call("stats")
    assert len(h.requests) == 1
