# ruff: noqa: E501  (one row per line keeps the table of cases readable)
"""Replies a server will not produce on demand (``httpx.MockTransport``, no I/O), both clients.

Each row: the call, the scripted replies, the typed error expected, and how many requests may
be sent. For a create, that number is the proof that nothing was written twice: a create whose
request may have reached the server is never sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from membrane_integrations.core.errors import (
    AuthenticationError,
    BackendUnavailableError,
    MalformedResponseError,
    MembraneIntegrationsError,
    RateLimitedError,
    ServerError,
)
from tests.reliability.scripted import SECRET, Scripted, job_reply

PROXY_502 = (
    b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
    b"<p>upstream sent X-API-Key: " + SECRET.encode() + b"</p><hr>nginx</body></html>"
)
ACCEPTED = {"job_id": "job-1", "job_status": "queued", "status_url": "http://x/jobs/job-1"}


def html_502() -> httpx.Response:
    return httpx.Response(502, content=PROXY_502, headers={"content-type": "text/html"})


def ok(
    body: bytes, status: int = 200, kind: str = "application/json"
) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(status, content=body, headers={"content-type": kind})


def js(status: int, body: Any, **headers: str) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(status, json=body, headers=headers)


def fail(exc: type[httpx.RequestError], text: str) -> Callable[[], Exception]:
    return lambda: exc(text)


@dataclass(frozen=True)
class Row:
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    replies: tuple[Callable[[], httpx.Response | Exception], ...]
    error: type[MembraneIntegrationsError]
    requests: int
    says: str = ""


def row(
    id: str,
    method: str,
    args: tuple[Any, ...],
    replies: list[Any],
    error: Any,
    requests: int,
    says: str = "",
    **kwargs: Any,
) -> Any:
    return pytest.param(Row(method, args, kwargs, tuple(replies), error, requests, says), id=id)


ADD = ("User keeps bees",)
Q = ("What does the user keep?",)
ROWS = [
    # a create is sent once whenever it may have arrived
    row("add-202-not-json", "add", ADD, [ok(b"<html>ok</html>", 202, "text/html")], MalformedResponseError, 1, "not JSON"),
    row("add-202-truncated", "add", ADD, [ok(b'{"job_id": "job-1", "job_st', 202)], MalformedResponseError, 1),
    row("add-202-no-job-id", "add", ADD, [js(202, {"job_status": "queued"})], MalformedResponseError, 1),
    row("add-502-html-page", "add", ADD, [html_502], ServerError, 1, "non-JSON body (text/html)"),
    row("add-reset-after-send", "add", ADD, [fail(httpx.ReadError, "connection reset by peer")], BackendUnavailableError, 1),
    row("add-closed-mid-reply", "add", ADD, [fail(httpx.RemoteProtocolError, "peer closed connection without sending complete message body")], MalformedResponseError, 1, "cut off"),
    row("add-refused-3x", "add", ADD, [fail(httpx.ConnectError, "connection refused")] * 3, BackendUnavailableError, 3, "could not be reached"),
    # reads are retried, then the typed error
    row("search-502-html-3x", "search", Q, [html_502] * 3, ServerError, 3, "502"),
    row("search-200-truncated-3x", "search", Q, [ok(b'{"results": [{"type": "memory_node", "id": "m')] * 3, MalformedResponseError, 3),
    row("search-200-html", "search", Q, [ok(b"<html>maintenance</html>", kind="text/html")], MalformedResponseError, 1, "not JSON"),
    row("search-results-not-list", "search", Q, [js(200, {"results": "none"})], MalformedResponseError, 1),
    row("search-top-level-array", "search", Q, [js(200, [1, 2, 3])], MalformedResponseError, 1),
    row("search-unknown-node-type", "search", Q, [js(200, {"results": [{"type": "memory_node"}]})], MalformedResponseError, 1),
    row("get-json-null", "get", ("m1",), [js(200, None)], MalformedResponseError, 1),
    row("stats-invalid-utf8-3x", "stats", (), [ok(b'{"total_memories": "\xff\xfe"}')] * 3, MalformedResponseError, 3),
    row("stats-500-detail-string", "stats", (), [js(500, {"detail": "database is locked"})] * 3, ServerError, 3, "database is locked"),
    row("stats-500-top-level-code", "stats", (), [js(500, {"code": "DB_DOWN", "message": "db down"})] * 3, ServerError, 3, "db down"),
    row("stats-503-error-key", "stats", (), [js(503, {"error": "overloaded"})] * 3, ServerError, 3, "overloaded"),
    row("count-401-html", "count", (), [ok(b"<h1>401</h1>", 401, "text/html")], AuthenticationError, 1, "MEMBRAIN_API_KEY"),
    row("search-429-retry-after-1h", "search", Q, [js(429, {"detail": "slow down"}, **{"Retry-After": "3600"})], RateLimitedError, 1, "3600"),
    row("get-many-reset-3x", "get_many", (["m1"],), [fail(httpx.ReadError, "reset")] * 3, BackendUnavailableError, 3),
]  # fmt: skip


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("case", ROWS)
async def test_bad_reply_gives_a_typed_error(kind: str, case: Row) -> None:
    s = Scripted(kind, [make() for make in case.replies])
    with pytest.raises(case.error) as info:
        await s.call(case.method, *case.args, **case.kwargs)
    err = info.value
    assert type(err) is case.error
    assert len(s.requests) == case.requests and s.unused == 0
    assert case.says in str(err)
    shown = f"{err} {err!r} {err.server_message} {err.body}"
    assert SECRET not in shown


async def test_a_proxy_page_quoting_the_key_is_redacted(kind: str) -> None:
    s = Scripted(kind, [html_502()])
    with pytest.raises(ServerError) as info:
        await s.call("add", "User keeps bees")
    err = info.value
    shown = f"{err} {err!r} {err.server_message} {err.body}"
    assert SECRET not in shown and "X-API-Key: [redacted]" in str(err)


async def test_a_create_that_never_left_is_sent_again_once(kind: str) -> None:
    s = Scripted(
        kind,
        [
            httpx.ConnectError("refused"),
            httpx.Response(202, json=ACCEPTED),
            job_reply("job-1", "completed"),
        ],
    )
    result = await s.call("add", "User keeps bees")
    assert result.action == "created"
    assert [r.method for r in s.requests] == ["POST", "POST", "GET"]
