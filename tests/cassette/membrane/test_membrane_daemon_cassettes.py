"""Replay the committed cassettes recorded from the real membraned through both clients.

``cassettes/membrane/<scenario>.<sync|async>.yaml`` were recorded from membraned v0.2.0 (SQLite
store, a daemon requiring :data:`RECORDING_API_KEY`) through our sync and our async client. Each
is replayed through BOTH clients with no server and the network blocked; the scenario asserts the
values the daemon returned, so a replay passes only if the clients decode the daemon's replies.

Re-record (needs the daemon): ``make record-membrane-cassettes``.
"""

from __future__ import annotations

import base64
import copy
from pathlib import Path

import pytest

from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from membrane_integrations.membrane.proto import membrane_pb2
from tests.live.membrane.daemon_scenarios import SCENARIOS
from tests.support.grpc_cassette import (
    CASSETTE_DIR,
    RECORDERS,
    RECORDING_API_KEY,
    AsyncReplayChannel,
    Cassette,
    ReplayChannel,
    cassette_path,
    no_network,
)

pytestmark = pytest.mark.cassette
__all__ = ["no_network"]  # the fixture, imported for these tests

CASES = [(name, recorder) for name in sorted(SCENARIOS) for recorder in RECORDERS]


async def _replay(cassette: Cassette, name: str) -> None:
    with MembraneClient(channel=ReplayChannel(cassette)) as client:
        await SCENARIOS[name](client)


@pytest.mark.parametrize(("name", "recorder"), CASES, ids=[f"{n}.{r}" for n, r in CASES])
async def test_replay_daemon_cassette(name: str, recorder: str, no_network: None) -> None:
    path = cassette_path(name, recorder)
    assert path.is_file(), f"{path} is missing: run `make record-membrane-cassettes`"
    sync_cassette = Cassette.load(path)
    assert sync_cassette.recorded_from.startswith("membraned v0.2.0")
    await _replay(sync_cassette, name)
    assert sync_cassette.unused == [], "recorded exchanges were not replayed"
    async_cassette = Cassette.load(path)
    async with AsyncMembraneClient(channel=AsyncReplayChannel(async_cassette)) as aclient:
        await SCENARIOS[name](aclient)
    assert async_cassette.unused == []


def test_committed_cassettes_are_exactly_the_scenarios() -> None:
    committed = {p.name for p in CASSETTE_DIR.glob("*.yaml")}
    assert committed == {cassette_path(n, r).name for n, r in CASES}


def test_the_cassettes_cover_every_rpc_and_the_error_statuses() -> None:
    methods: set[str] = set()
    statuses: set[str] = set()
    for path in CASSETTE_DIR.glob("*.yaml"):
        for entry in Cassette.load(path).interactions:
            methods.add(entry["method"])
            if "status" in entry:
                statuses.add(entry["status"]["code"])
    service = membrane_pb2.DESCRIPTOR.services_by_name["MembraneService"]
    assert methods == {m.name for m in service.methods}
    expected = {"INVALID_ARGUMENT", "NOT_FOUND", "PERMISSION_DENIED", "FAILED_PRECONDITION"}
    assert statuses == expected


def _decoded_text(path: Path) -> str:
    """The cassette text plus every base64 value decoded (a key could hide in bytes)."""
    text = path.read_text()
    decoded = []
    for token in text.split():
        try:
            decoded.append(base64.b64decode(token, validate=True).decode("utf-8", "replace"))
        except ValueError:
            continue
    return text + "\n".join(decoded)


@pytest.mark.parametrize("path", sorted(CASSETTE_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_no_credential_in_any_cassette(path: Path) -> None:
    text = _decoded_text(path).lower()
    assert RECORDING_API_KEY.lower() not in text
    assert "authorization" not in text and "bearer" not in text


async def test_a_changed_daemon_reply_fails_the_replay(tmp_path: Path, no_network: None) -> None:
    """The replay asserts recorded values: alter one (the event's confidence) and it fails."""
    original = Cassette.load(cassette_path("ingestion", "sync"))
    await _replay(original, "ingestion")  # as recorded: passes
    tampered = Cassette(tmp_path / "tampered.yaml", copy.deepcopy(original.interactions))
    record = tampered.interactions[0]["response"]["record"]["json"]
    assert record["confidence"] == 0.8
    record["confidence"] = 0.5
    with pytest.raises(AssertionError):
        await _replay(tampered, "ingestion")
