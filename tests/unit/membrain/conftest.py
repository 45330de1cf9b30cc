"""A sync/async facade over the Membrain clients, wired to ``httpx.MockTransport``.

Every client test takes the ``make`` fixture, which is parametrised over both clients, so each
behaviour is asserted once and checked for both. Time is fake: the clients' sleep and clock are
replaced, so backoff and polling never wait for real.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest

from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient

API_KEY = "mb_test_Sup3rS3cretKeyValue"
BASE_URL = "http://membrain.test"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def json_reply(status: int = 200, body: Any = None, **headers: str) -> httpx.Response:
    """A JSON reply (``headers`` use ``_`` for ``-``)."""
    return httpx.Response(status, json=body if body is not None else {}, headers=_headers(headers))


def _headers(headers: dict[str, str]) -> dict[str, str]:
    return {k.replace("_", "-"): v for k, v in headers.items()}


class Harness:
    """One client (sync or async) with a scripted server, a fake clock and recorded traffic."""

    def __init__(self, kind: str, replies: Iterable[Reply] | Callable[..., Any], **kwargs: Any):
        self.kind = kind
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.now = 1000.0
        if callable(replies):
            self._handler: Callable[[httpx.Request], httpx.Response] | None = replies
            self._script: list[Reply] = []
        else:
            self._handler = None
            self._script = list(replies)
        transport = httpx.MockTransport(self._handle)
        kwargs.setdefault("base_url", BASE_URL)
        kwargs.setdefault("retry_policy", RetryPolicy(max_retries=2, jitter=0.0))
        if "api_key" not in kwargs and "bearer_token" not in kwargs:
            kwargs["api_key"] = API_KEY
        self.client: MembrainClient | AsyncMembrainClient
        if kind == "sync":
            self.client = MembrainClient(http_client=httpx.Client(transport=transport), **kwargs)
            self.client._sleep = self._sleep_sync
        else:
            self.client = AsyncMembrainClient(
                http_client=httpx.AsyncClient(transport=transport), **kwargs
            )
            self.client._sleep = self._sleep_async
        self.client._clock = lambda: self.now

    def _handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if self._handler is not None:
            return self._handler(request)
        if not self._script:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        reply = self._script.pop(0)
        if isinstance(reply, Exception):
            if isinstance(reply, httpx.RequestError):
                reply.request = request
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    def _sleep_sync(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def _sleep_async(self, seconds: float) -> None:
        self._sleep_sync(seconds)

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``method`` on the client, awaiting it for the async client."""
        result = getattr(self.client, method)(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    @property
    def remaining(self) -> int:
        return len(self._script)


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


def query_of(request: httpx.Request) -> list[tuple[str, str]]:
    return list(request.url.params.multi_items())


@pytest.fixture(params=["sync", "async"])
def make(request: pytest.FixtureRequest) -> Callable[..., Harness]:
    """``make(replies_or_handler, **client_kwargs)`` builds a :class:`Harness`."""

    def factory(replies: Any = (), **kwargs: Any) -> Harness:
        return Harness(request.param, replies, **kwargs)

    return factory
