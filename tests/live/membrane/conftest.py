"""Fixtures for the Membrane live tests: the real daemon, and the TEST DOUBLE for what it cannot do.

``any_client`` is a sync or async client of a real membraned (a fresh one per test, API key on).
``double_client`` is the same on the in-process TEST DOUBLE, kept for the tests that need a
server to fail, hold or corrupt a reply on demand (``fail_next``, ``hold``, bad JSON).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks._tls import TlsFiles, make_tls_files
from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from tests.support.membrane_double import MembraneDouble
from tests.support.membraned import Membraned, require_daemon

API_KEY = "test-secret-key-123"
FAST_RETRIES = RetryPolicy(max_retries=2, initial_backoff=0.0, jitter=0.0)


async def resolve(value: Any) -> Any:
    """Await ``value`` when it came from the async client; sync results pass through."""
    return await value if inspect.isawaitable(value) else value


@pytest.fixture
def double() -> Iterator[MembraneDouble]:
    with MembraneDouble(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def cert(tmp_path: Path) -> TlsFiles:
    return make_tls_files(tmp_path / "tls")


@pytest.fixture
def live_daemon() -> Iterator[Membraned]:
    """A fresh real membraned (API key on) for each test: every test starts from no records."""
    with Membraned(require_daemon(), api_key=API_KEY) as daemon:
        yield daemon


async def _clients(kind: str, addr: str) -> AsyncIterator[MembraneClient | AsyncMembraneClient]:
    if kind == "sync":
        with MembraneClient(addr, api_key=API_KEY, retry_policy=FAST_RETRIES) as client:
            yield client
    else:
        async with AsyncMembraneClient(addr, api_key=API_KEY, retry_policy=FAST_RETRIES) as aclient:
            yield aclient


@pytest.fixture(params=["sync", "async"])
async def any_client(
    request: pytest.FixtureRequest, live_daemon: Membraned
) -> AsyncIterator[MembraneClient | AsyncMembraneClient]:
    """A sync or an async client of the real daemon; tests wrap every call in ``resolve``."""
    async for client in _clients(request.param, live_daemon.addr):
        yield client


@pytest.fixture(params=["sync", "async"])
async def double_client(
    request: pytest.FixtureRequest, double: MembraneDouble
) -> AsyncIterator[MembraneClient | AsyncMembraneClient]:
    """A sync or an async client of the TEST DOUBLE (for injected failures only)."""
    async for client in _clients(request.param, double.addr):
        yield client
