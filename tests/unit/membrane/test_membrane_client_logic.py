"""Client send loop with an in-memory channel: metadata, deadlines, retry decisions (no I/O)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from membrane_integrations.core.errors import BackendUnavailableError, RateLimitedError
from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from membrane_integrations.membrane import client as client_module
from membrane_integrations.membrane.proto import membrane_pb2 as pb


class _Status(grpc.RpcError):  # type: ignore[misc]
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "scripted"


class ScriptedChannel:
    """Answers each method from a script: an exception to raise or a reply to return."""

    def __init__(self, script: dict[str, list[Any]], *, aio: bool = False) -> None:
        self.script = script
        self.aio = aio
        self.seen: list[tuple[str, float | None, Any]] = []

    def unary_unary(self, path: str, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        method = path.rsplit("/", 1)[-1]

        def call(request: Any, timeout: float | None = None, metadata: Any = None) -> Any:
            self.seen.append((method, timeout, metadata))
            step = self.script[method].pop(0)
            if isinstance(step, Exception):
                raise step
            return step

        if not self.aio:
            return call

        def acall(request: Any, **kw: Any) -> Any:
            async def run() -> Any:
                return call(request, **kw)

            return run()

        return acall

    def close(self) -> None:
        pass


METRICS = pb.MetricsResponse(snapshot=b'{"total_records": 1}')
NO_WAIT = RetryPolicy(max_retries=2, initial_backoff=0.5, jitter=0.0)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", waited.append)

    async def fake_sleep(delay: float) -> None:
        waited.append(delay)

    monkeypatch.setattr(client_module.asyncio, "sleep", fake_sleep)
    return waited


def test_bearer_metadata_and_deadlines(sleeps: list[float]) -> None:
    channel = ScriptedChannel({"GetMetrics": [METRICS, METRICS]})
    client = MembraneClient(api_key="k-123", timeout=7.0, channel=channel)  # type: ignore[arg-type]
    client.get_metrics()
    client.get_metrics(timeout=0.5)
    assert channel.seen == [
        ("GetMetrics", 7.0, (("authorization", "Bearer k-123"),)),
        ("GetMetrics", 0.5, (("authorization", "Bearer k-123"),)),
    ]
    assert "k-123" not in repr(client)


def test_reads_retry_with_policy_backoff(sleeps: list[float]) -> None:
    unavailable = _Status(grpc.StatusCode.UNAVAILABLE)
    exhausted = _Status(grpc.StatusCode.RESOURCE_EXHAUSTED)
    channel = ScriptedChannel({"GetMetrics": [unavailable, exhausted, METRICS]})
    client = MembraneClient(retry_policy=NO_WAIT, channel=channel)  # type: ignore[arg-type]
    assert client.get_metrics() == {"total_records": 1}
    assert sleeps == [0.5, 1.0]


def test_reads_stop_after_max_retries(sleeps: list[float]) -> None:
    channel = ScriptedChannel({"GetMetrics": [_Status(grpc.StatusCode.RESOURCE_EXHAUSTED)] * 3})
    client = MembraneClient(retry_policy=NO_WAIT, channel=channel)  # type: ignore[arg-type]
    with pytest.raises(RateLimitedError):
        client.get_metrics()
    assert len(channel.seen) == 3


def test_writes_and_other_statuses_are_not_retried(sleeps: list[float]) -> None:
    channel = ScriptedChannel(
        {
            "IngestEvent": [_Status(grpc.StatusCode.UNAVAILABLE)],
            "GetMetrics": [_Status(grpc.StatusCode.INTERNAL)],
        }
    )
    client = MembraneClient(retry_policy=NO_WAIT, channel=channel)  # type: ignore[arg-type]
    with pytest.raises(BackendUnavailableError):
        client.ingest_event("e", "r")
    with pytest.raises(grpc.RpcError):
        client.get_metrics()
    assert len(channel.seen) == 2 and sleeps == []


async def test_async_client_shares_the_retry_decisions(sleeps: list[float]) -> None:
    channel = ScriptedChannel(
        {"GetMetrics": [_Status(grpc.StatusCode.UNAVAILABLE), METRICS]}, aio=True
    )
    client = AsyncMembraneClient(retry_policy=NO_WAIT, channel=channel)  # type: ignore[arg-type]
    assert await client.get_metrics() == {"total_records": 1}
    assert sleeps == [0.5]
    await client.close()


def test_importing_the_package_does_not_import_grpc() -> None:
    saved = {
        name: mod
        for name, mod in sys.modules.items()
        if name == "grpc" or name.startswith(("grpc.", "membrane_integrations"))
    }
    for name in saved:
        del sys.modules[name]
    try:
        import membrane_integrations  # noqa: F401

        assert "grpc" not in sys.modules
    finally:
        for name in [n for n in sys.modules if n.startswith("membrane_integrations")]:
            del sys.modules[name]
        sys.modules.update(saved)
