"""Fault injection for reliability tests; off by default.

A :class:`FaultConfig` says which fraction of API requests is answered ``500``, ``503`` (an HTML
page, as a proxy would send), ``429`` with ``Retry-After``, delayed, or cut off mid-body, and
whether an error fault strikes ``before`` the route runs (nothing is written) or ``after`` it
(the write happened, the client still sees the error: the case where a POST must not be
retried). ``max_faults`` stops injecting after that many faults, and ``seed`` makes the draws
reproducible. The same switch can fail ingest jobs and interpreted synthesis.

Fault injection exists only on an emulator started with it on (``fault_injection=True``, the
CLI's ``--fault-injection``): then the config is set in the constructor, by CLI flags, or at
runtime with ``POST /_emulator/faults`` (any tenant key; faults apply to every tenant). Without
it there is no middleware and no route (``404``): no tenant can switch faults on.

Example:
    >>> injector = FaultInjector(FaultConfig(error_rate=1.0, max_faults=1, seed=7))
    >>> injector.draw("GET", "/api/v1/stats"), injector.draw("GET", "/api/v1/stats")
    ('error', None)
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .json_types import JsonInt, NonNegativeJsonInt

__all__ = [
    "FaultConfig",
    "FaultInjector",
    "FaultMiddleware",
    "InjectedJobFailure",
    "failed_synthesis",
]

Fault = Literal["error", "unavailable", "rate_limited", "delay", "truncate"]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_RATE = Field(default=0.0, ge=0.0, le=1.0)
_FAULTED_PREFIXES = ("/api/v1/", "/v1/")
_HTML_503 = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    b"<center><h1>503 Service Temporarily Unavailable</h1></center><hr>"
    b"<center>emulated proxy</center></body></html>"
)


class FaultConfig(BaseModel):
    """What to inject (every rate is a fraction of matching requests, 0 to 1)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    error_rate: float = _RATE
    unavailable_rate: float = _RATE
    rate_limit_rate: float = _RATE
    retry_after: float = Field(default=0.0, ge=0.0)
    delay_rate: float = _RATE
    delay_ms: JsonInt = Field(default=0, ge=0, le=60_000)
    truncate_rate: float = _RATE
    phase: Literal["before", "after"] = "before"
    methods: list[str] | None = None
    paths: list[str] | None = None
    max_faults: NonNegativeJsonInt | None = None
    job_failure_rate: float = _RATE
    synthesis_failure_rate: float = _RATE
    seed: JsonInt | None = None


class InjectedJobFailure(RuntimeError):
    """Raised inside an ingest job chosen to fail; the job records it as ``failed``."""

    code = "INJECTED_FAILURE"
    retryable = True


class FaultInjector:
    """Draws faults from a :class:`FaultConfig` with a seedable RNG (thread-safe)."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self.injected = Counter()

    def _spent(self) -> bool:
        limit = self.config.max_faults
        return limit is not None and sum(self.injected.values()) >= limit

    def _applies(self, method: str, path: str) -> bool:
        cfg = self.config
        if not path.startswith(_FAULTED_PREFIXES):
            return False
        if cfg.methods is not None and method.upper() not in {m.upper() for m in cfg.methods}:
            return False
        return cfg.paths is None or any(path.startswith(p) for p in cfg.paths)

    def draw(self, method: str, path: str) -> Fault | None:
        """The fault for one request, or ``None``."""
        with self._lock:
            if not self._applies(method, path) or self._spent():
                return None
            cfg = self.config
            roll = self._rng.random()
            edge = 0.0
            table: tuple[tuple[Fault, float], ...] = (
                ("error", cfg.error_rate),
                ("unavailable", cfg.unavailable_rate),
                ("rate_limited", cfg.rate_limit_rate),
                ("truncate", cfg.truncate_rate),
                ("delay", cfg.delay_rate),
            )
            for fault, rate in table:
                edge += rate
                if rate and roll < edge:
                    self.injected[fault] += 1
                    return fault
            return None

    def _chance(self, kind: str, rate: float) -> bool:
        with self._lock:
            if not rate or self._spent() or self._rng.random() >= rate:
                return False
            self.injected[kind] += 1
            return True

    def synthesis_fails(self) -> bool:
        """Whether this search's interpreted synthesis should fail."""
        return self._chance("synthesis", self.config.synthesis_failure_rate)

    def job_hook(self, tenant: str, payload: dict[str, Any]) -> None:
        """Engine hook: raise inside an ingest job chosen to fail."""
        if self._chance("job_failure", self.config.job_failure_rate):
            raise InjectedJobFailure("injected ingest failure; adding again may succeed")

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"config": self.config.model_dump(), "injected": dict(self.injected)}


def failed_synthesis(reply: dict[str, Any]) -> dict[str, Any]:
    """A search reply whose interpreted synthesis failed (what the search route sends when
    :meth:`FaultInjector.synthesis_fails` drew a fault)."""
    return {
        **reply,
        "interpreted": None,
        "interpreted_error": "interpreted synthesis failed (injected fault)",
    }


def _json_error(status: int, code: str, message: str) -> bytes:
    return json.dumps({"detail": {"code": code, "message": message}}).encode()


class FaultMiddleware:
    """ASGI middleware applying the injector's faults to ``/api/v1`` and ``/v1`` requests."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fault = self.injector.draw(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault == "delay":
            await asyncio.sleep(self.injector.config.delay_ms / 1000)
            await self.app(scope, receive, send)
            return
        if fault == "truncate":
            await self._truncated(scope, receive, send)
            return
        if self.injector.config.phase == "after":
            await self.app(scope, receive, _discard)
        await self._error(fault, send)

    async def _error(self, fault: Fault, send: Send) -> None:
        headers: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json")]
        if fault == "error":
            status, body = 500, _json_error(500, "INTERNAL", "injected fault: internal error")
        elif fault == "unavailable":
            status, body = 503, _HTML_503
            headers = [(b"content-type", b"text/html")]
        else:
            status = 429
            body = _json_error(429, "RATE_LIMITED", "injected fault: too many requests")
            retry = self.injector.config.retry_after
            text = str(int(retry)) if retry == int(retry) else str(retry)
            headers.append((b"retry-after", text.encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send(
            {"type": "http.response.start", "status": start.get("status", 200), "headers": headers}
        )
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": False}
        )


async def _discard(message: Message) -> None:
    return None
