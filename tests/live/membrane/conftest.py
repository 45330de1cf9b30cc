"""Fixtures for the Membrane live tests: the in-process TEST DOUBLE and the real daemon."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from tests.support.membrane_double import MembraneDouble
from tests.support.membraned import SelfSignedCert, make_self_signed_cert

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
def cert(tmp_path: Path) -> SelfSignedCert:
    return make_self_signed_cert(tmp_path / "tls")


@pytest.fixture(params=["sync", "async"])
async def any_client(
    request: pytest.FixtureRequest, double: MembraneDouble
) -> AsyncIterator[MembraneClient | AsyncMembraneClient]:
    """A sync or an async client for the double; tests wrap every call in ``resolve``."""
    if request.param == "sync":
        with MembraneClient(double.addr, api_key=API_KEY, retry_policy=FAST_RETRIES) as client:
            yield client
    else:
        async with AsyncMembraneClient(
            double.addr, api_key=API_KEY, retry_policy=FAST_RETRIES
        ) as aclient:
            yield aclient
