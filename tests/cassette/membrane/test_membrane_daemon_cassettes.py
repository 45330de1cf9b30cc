"""Replay the committed cassettes recorded from the real membraned through both clients.

Re-record (needs the daemon): ``make record-membrane-cassettes``, i.e.
``MEMBRANE_RECORD=1 .venv/bin/python -m pytest tests/live/membrane/test_membraned.py -m membraned``.
"""

from __future__ import annotations

import pytest

from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from tests.live.membrane.daemon_scenarios import SCENARIOS
from tests.support.grpc_cassette import (
    CASSETTE_DIR,
    AsyncReplayChannel,
    Cassette,
    ReplayChannel,
    no_network,
)

pytestmark = pytest.mark.cassette
__all__ = ["no_network"]  # the fixture, imported for these tests

CASSETTES = sorted(CASSETTE_DIR.glob("*.yaml")) if CASSETTE_DIR.is_dir() else []
NONE_REASON = (
    "cassettes/membrane/ holds no cassettes recorded from the real membraned (it could not be "
    "installed where this suite was written); record them with `make record-membrane-cassettes`"
)


@pytest.mark.skipif(not CASSETTES, reason=NONE_REASON)
@pytest.mark.parametrize("path", CASSETTES, ids=[p.stem for p in CASSETTES])
async def test_replay_daemon_cassette(path, no_network) -> None:  # type: ignore[no-untyped-def]
    scenario = SCENARIOS.get(path.stem)
    assert scenario is not None, f"{path.name} has no scenario in daemon_scenarios.SCENARIOS"
    sync_cassette = Cassette.load(path)
    with MembraneClient(channel=ReplayChannel(sync_cassette)) as client:
        await scenario(client)
    assert sync_cassette.unused == [], "recorded exchanges were not replayed"
    async_cassette = Cassette.load(path)
    async with AsyncMembraneClient(channel=AsyncReplayChannel(async_cassette)) as aclient:
        await scenario(aclient)
    assert async_cassette.unused == []


def test_every_scenario_has_a_committed_cassette_once_any_exist() -> None:
    if not CASSETTES:
        pytest.skip(NONE_REASON)
    assert {p.stem for p in CASSETTES} == set(SCENARIOS)
