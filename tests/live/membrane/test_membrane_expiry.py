"""Forgetting on the real daemon (``membrane.expiry``): what a capture path with a TTL relies on.

Records of every writable kind carry the expiry in their tags; a sweep retracts the expired
semantic ones, decays the expired episodic ones to their floor (the daemon refuses to retract
those), leaves live and untagged records alone, and never touches another scope.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from membrane_integrations.core.ttl import Expiry
from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from membrane_integrations.membrane import expiry as membrane_expiry
from membrane_integrations.membrane.tenancy import MembraneView
from membrane_integrations.membrane.types import RevisionStatus, TrustContext
from tests.support.membraned import Membraned, require_daemon

pytestmark = pytest.mark.live

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon()) as server:
        yield server


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_sweep_retracts_or_decays_the_expired_records_of_its_scope_only(
    mode: str, daemon: Membraned
) -> None:
    scope, other = f"s-{uuid.uuid4().hex[:8]}", f"s-{uuid.uuid4().hex[:8]}"
    gone = membrane_expiry.with_expiry(["note"], Expiry.start(NOW - timedelta(hours=1), 30))
    alive = membrane_expiry.with_expiry(["note"], Expiry.start(NOW, 30))
    view = MembraneView(TrustContext(), actor="app", scope=scope)
    with MembraneClient(daemon.addr, timeout=10) as client:
        fact = client.ingest_observation("bob", "is in", "Paris", scope=scope, tags=gone)
        event = client.ingest_event("visit", "trip-1", summary="Paris", scope=scope, tags=gone)
        kept = client.ingest_observation("bob", "likes", "tea", scope=scope, tags=alive)
        plain = client.ingest_observation("bob", "owns", "a cat", scope=scope)
        foreign = client.ingest_observation("eve", "is in", "Rome", scope=other, tags=gone)
        if mode == "sync":
            swept = membrane_expiry.sweep(client, view, NOW)
            again = membrane_expiry.sweep(client, view, NOW)
        else:

            async def run() -> tuple[int, int]:
                async with AsyncMembraneClient(daemon.addr, timeout=10) as aclient:
                    first = await membrane_expiry.asweep(aclient, view, NOW)
                    return first, await membrane_expiry.asweep(aclient, view, NOW)

            swept, again = asyncio.run(run())
        assert (swept, again) == (2, 0)
        trust = view.trust
        retracted = client.retrieve_by_id(fact.id, trust=trust)
        assert retracted.payload.revision.status == RevisionStatus.RETRACTED  # type: ignore[union-attr]
        assert retracted.audit_log[-1].action == "delete"
        assert client.retrieve_by_id(event.id, trust=trust).salience == 0.0  # decayed
        live = {r.id for r in client.retrieve("", trust=trust, limit=0, min_salience=0.01)}
        assert live == {kept.id, plain.id}
        foreign_trust = TrustContext(scopes=[other])
        assert client.retrieve_by_id(foreign.id, trust=foreign_trust).salience == 1.0
        assert membrane_expiry.is_expired(foreign, NOW)
        assert (
            not membrane_expiry.is_expired(kept, NOW) and membrane_expiry.expiry_of(plain) is None
        )
