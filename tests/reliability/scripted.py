"""Clients of both kinds wired to a scripted ``httpx.MockTransport`` (no I/O, no real waits).

For the failure shapes a server will not produce on demand (garbled JSON, a proxy's HTML page,
a connection reset after the request was sent). Backoff and polling sleeps are recorded, not
slept. The clients take the plain add path (``add_tokens=False``) unless a test passes
``add_tokens=True``: these scripts pin how one reply maps to one error; the resolution of an
ambiguous add through its token has its own scripts (``test_rel_resolve_add.py``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient

__all__ = ["BASE_URL", "SECRET", "Scripted", "job_reply"]

BASE_URL = "http://membrain.invalid"
SECRET = "mb_test_R3liabilitySecretKey"
Reply = httpx.Response | Exception


def job_reply(job_id: str, status: str, memory_id: str | None = None) -> httpx.Response:
    """A job-status reply; ``completed`` carries a created memory."""
    result = None
    if status == "completed":
        result = {"memory_id": memory_id or "m-" + job_id, "action": "created", "memory": None}
    body = {"job_id": job_id, "status": status, "result": result, "error": None}
    return httpx.Response(200, json=body)


class Scripted:
    """A sync or async client answered from ``replies`` in order; ``requests`` records traffic."""

    def __init__(self, kind: str, replies: Iterable[Reply], **kwargs: Any) -> None:
        self.kind = kind
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self._script = list(replies)
        transport = httpx.MockTransport(self._answer)
        kwargs.setdefault("retry_policy", RetryPolicy(max_retries=2, jitter=0.0))
        kwargs.setdefault("add_tokens", False)
        self.client: MembrainClient | AsyncMembrainClient
        if kind == "sync":
            sync = MembrainClient(
                SECRET, base_url=BASE_URL, http_client=httpx.Client(transport=transport), **kwargs
            )
            sync._sleep = self.sleeps.append
            self.client = sync
        else:
            asynchronous = AsyncMembrainClient(
                SECRET,
                base_url=BASE_URL,
                http_client=httpx.AsyncClient(transport=transport),
                **kwargs,
            )
            asynchronous._sleep = self._async_sleep
            self.client = asynchronous

    async def _async_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self._script:
            raise AssertionError(f"unscripted request {request.method} {request.url.path}")
        reply = self._script.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    @property
    def unused(self) -> int:
        """Replies never asked for (a retry that should have happened did not)."""
        return len(self._script)

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call a client method and await it when the client is async."""
        method: Callable[..., Any] = getattr(self.client, name)
        result = method(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result
