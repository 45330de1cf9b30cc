"""The gRPC record/replay machinery, tested by recording the TEST DOUBLE into a temp dir.

Every daemon scenario is recorded through the sync (interceptor) or async (aio interceptor)
recording channel, the double is stopped, and the cassette is replayed through both clients with
no server and the network blocked. Committed cassettes must come from the real daemon only, so
these recordings live in tmp_path.
"""

from __future__ import annotations

import socket
import warnings
from pathlib import Path

import grpc
import pytest
from pytest_socket import SocketBlockedError, disable_socket, enable_socket

from membrane_integrations.core.errors import NotFoundError
from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from tests.live.membrane.daemon_scenarios import SCENARIOS
from tests.support.grpc_cassette import (
    AsyncReplayChannel,
    Cassette,
    CassetteMiss,
    ReplayChannel,
    no_network,
    recording_aio_channel,
    recording_channel,
)
from tests.support.membrane_double import MembraneDouble

pytestmark = pytest.mark.cassette
__all__ = ["no_network"]  # the fixture, imported for these tests

SECRET = "cassette-secret-key-77"


async def _record(name: str, path: Path, *, use_async: bool) -> Cassette:
    cassette = Cassette(path, secrets=(SECRET,))
    with MembraneDouble(api_key=SECRET) as double:
        if use_async:
            channel = recording_aio_channel(double.addr, cassette)
            async with AsyncMembraneClient(double.addr, api_key=SECRET, channel=channel) as ac:
                await SCENARIOS[name](ac)
            await channel.close()
        else:
            sync_channel = recording_channel(grpc.insecure_channel(double.addr), cassette)
            with MembraneClient(double.addr, api_key=SECRET, channel=sync_channel) as client:
                await SCENARIOS[name](client)
            sync_channel.close()
    cassette.save()
    return cassette


@pytest.mark.parametrize("recorder", ["sync", "async"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_record_then_replay_through_both_clients(
    tmp_path: Path, name: str, recorder: str
) -> None:
    path = tmp_path / f"{name}.yaml"
    recorded = await _record(name, path, use_async=recorder == "async")
    assert path.exists() and len(recorded.interactions) > 0
    text = path.read_text()
    assert SECRET not in text and "authorization" not in text.lower()

    disable_socket(allow_unix_socket=True)  # no server and no network from here on
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(SocketBlockedError):
                socket.create_connection(("127.0.0.1", 9))
        sync_cassette = Cassette.load(path)
        with MembraneClient("replay:0", channel=ReplayChannel(sync_cassette)) as client:
            await SCENARIOS[name](client)
        assert sync_cassette.unused == []

        async_cassette = Cassette.load(path)
        async with AsyncMembraneClient(
            "replay:0", channel=AsyncReplayChannel(async_cassette)
        ) as aclient:
            await SCENARIOS[name](aclient)
        assert async_cassette.unused == []
    finally:
        enable_socket()


async def test_statuses_replay_as_typed_errors(tmp_path: Path, no_network: None) -> None:
    path = tmp_path / "status.yaml"
    path.write_text(
        "version: 1\n"
        "interactions:\n"
        "- method: RetrieveByID\n"
        "  request: {id: gone, trust: {max_sensitivity: low}}\n"
        "  status: {code: NOT_FOUND, details: 'record not found: gone'}\n"
    )
    client = MembraneClient(channel=ReplayChannel(Cassette.load(path)))
    with client, pytest.raises(NotFoundError) as info:
        client.retrieve_by_id("gone")
    assert info.value.code() is grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]
    assert info.value.details() == "record not found: gone"  # type: ignore[attr-defined]


async def test_an_unrecorded_call_is_a_cassette_miss(tmp_path: Path, no_network: None) -> None:
    path = tmp_path / "empty.yaml"
    Cassette(path).save()
    async with AsyncMembraneClient(channel=AsyncReplayChannel(Cassette.load(path))) as client:
        with pytest.raises(CassetteMiss, match="GetMetrics"):
            await client.get_metrics()


def test_a_cassette_holding_a_secret_is_not_written(tmp_path: Path) -> None:
    cassette = Cassette(tmp_path / "leak.yaml", secrets=(SECRET,))
    cassette.interactions.append({"method": "GetMetrics", "request": {"x": SECRET}})
    with pytest.raises(AssertionError, match="secret"):
        cassette.save()
    assert not (tmp_path / "leak.yaml").exists()
