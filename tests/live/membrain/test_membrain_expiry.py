"""Forgetting on the emulator (``membrain.expiry``): what a capture path with a TTL relies on.

Memories carry the expiry in their scope tokens; a sweep deletes the expired ones on the
server, leaves live and untagged ones alone, and never touches another container.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from membrane_integrations.core.ttl import Expiry
from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain import expiry as membrain_expiry
from membrane_integrations.membrain.tenancy import Tenancy

pytestmark = pytest.mark.live

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def emu() -> Iterator[MembrainEmulator]:
    with MembrainEmulator() as emulator:
        yield emulator


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_sweep_deletes_the_expired_memories_of_its_container_only(
    mode: str, emu: MembrainEmulator
) -> None:
    bob, eve = Tenancy(f"bob-{mode}"), Tenancy(f"eve-{mode}")
    just_gone = Expiry.start(NOW - timedelta(minutes=30), 30)  # expires exactly at NOW
    alive = Expiry(NOW + timedelta(milliseconds=1), 30)
    with emu.client() as client:
        for text, tenancy, expiry in [
            ("Bob is in Paris", bob, just_gone),
            ("Bob has a cold", bob, Expiry.start(NOW - timedelta(days=400), 1)),
            ("Bob likes tea", bob, alive),
            ("Bob owns a cat", bob, None),
            ("Eve is in Rome", eve, just_gone),
        ]:
            scope = tenancy.write_tokens(membrain_expiry.with_expiry(["note"], expiry))
            client.add(text, scope=scope)
        if mode == "sync":
            swept = membrain_expiry.sweep(client, bob, NOW)
        else:

            async def run() -> int:
                async with emu.async_client() as aclient:
                    return await membrain_expiry.asweep(aclient, bob, NOW)

            swept = asyncio.run(run())
        assert swept == 2
        left = client.search("Bob", k=10, scope=bob.read_scope(None)).results
        assert {m.content for m in left} == {"Bob likes tea", "Bob owns a cat"}  # type: ignore[union-attr]
        assert {membrain_expiry.expiry_of(m.scope) for m in left} == {alive, None}  # type: ignore[union-attr]
        assert client.count(scope=eve.read_scope(None)) == 1
        assert membrain_expiry.sweep(client, bob, NOW) == 0
