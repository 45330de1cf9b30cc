"""Fixtures of the emulator live tests: one emulator for the session, two tenants.

Tests share the emulator and stay independent by writing under their own container token
(the ``box`` fixture); tests that need special configuration start their own emulator.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from membrane_integrations.emulator import MembrainEmulator
from tests.support.emulator_fixtures import FAST_RETRY, KEY_A, KEY_B, Either

pytestmark = pytest.mark.live


@pytest.fixture(scope="session")
def emu() -> Iterator[MembrainEmulator]:
    with MembrainEmulator(api_keys=[KEY_A, KEY_B]) as emulator:
        yield emulator


@pytest.fixture
def box() -> str:
    """A fresh container id: the scope token is ``container.<box>``."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def raw(emu: MembrainEmulator) -> Iterator[httpx.Client]:
    """Plain httpx with tenant A's key: for server-side checks the clients refuse to send."""
    with httpx.Client(base_url=emu.url, headers={"X-API-Key": KEY_A}, timeout=10) as client:
        yield client


@pytest.fixture
def raw_b(emu: MembrainEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.url, headers={"X-API-Key": KEY_B}, timeout=10) as client:
        yield client


async def _either(kind: str, emu: MembrainEmulator, key: str) -> AsyncIterator[Either]:
    if kind == "sync":
        with emu.client(key, retry_policy=FAST_RETRY) as client:
            yield Either(client)
    else:
        async with emu.async_client(key, retry_policy=FAST_RETRY) as aclient:
            yield Either(aclient)


@pytest.fixture(params=["sync", "async"])
async def api(request: pytest.FixtureRequest, emu: MembrainEmulator) -> AsyncIterator[Either]:
    """Tenant A through the sync client, then through the async client."""
    async for either in _either(request.param, emu, KEY_A):
        yield either


@pytest.fixture
async def api_b(api: Either, emu: MembrainEmulator) -> AsyncIterator[Either]:
    """Tenant B through the same kind of client as ``api``."""
    async for either in _either(api.kind, emu, KEY_B):
        yield either
