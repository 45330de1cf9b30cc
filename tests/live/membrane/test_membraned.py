"""Live tests against the real membraned v0.2.0 (a fresh throwaway daemon per test).

Gating (tests/support/membraned.py): the daemon binary from ``.cache/membraned.json`` or
``MEMBRANED_BIN``; skipped when Go is missing or the module cannot be had; failed under
``CI=true`` when installing failed for another reason.

The scenarios run on both stores (the ``daemon`` fixture is parametrised): SQLite, and PostgreSQL
+ pgvector with the emulator's embeddings (tests/support/membraned_pg.py).

With ``MEMBRANE_RECORD=1`` the SQLite scenario runs of both clients record every exchange into
``cassettes/membrane/<scenario>.<sync|async>.yaml`` from a daemon that requires an API key
(replayed offline by tests/cassette/membrane; ``make record-membrane-cassettes``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import grpc
import pytest

from membrane_integrations.core.errors import (
    AuthenticationError,
    BackendUnavailableError,
    InvalidRequestError,
)
from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from tests.live.membrane.daemon_scenarios import SCENARIOS
from tests.support.grpc_cassette import (
    RECORDING_API_KEY,
    Cassette,
    cassette_path,
    recording_aio_channel,
    recording_channel,
)
from tests.support.membraned import Membraned, require_daemon
from tests.support.membraned_pg import (
    SQLITE_ORDER_ONLY,
    STORES,
    PostgresStack,
    membraned_on_store,
)
from tests.support.pgvector import require_pgserver

pytestmark = [pytest.mark.live, pytest.mark.membraned]

API_KEY = "live-test-secret-9f3a"
RECORDED_FROM = "membraned v0.2.0 (SQLite store), real daemon"


@pytest.fixture
def daemon_bin() -> str:
    return require_daemon()


@pytest.fixture(scope="module")
def pg_stack() -> Iterator[PostgresStack]:
    require_pgserver()
    with PostgresStack() as stack:
        yield stack


@pytest.fixture(params=STORES)
def daemon(request: pytest.FixtureRequest, daemon_bin: str) -> Iterator[Membraned]:
    store = request.param
    scenario = getattr(request.node, "callspec", None)
    if store == "postgres" and scenario and scenario.params.get("name") in SQLITE_ORDER_ONLY:
        pytest.skip(SQLITE_ORDER_ONLY[scenario.params["name"]])
    stack = request.getfixturevalue("pg_stack") if store == "postgres" else None
    with membraned_on_store(store, daemon_bin, stack) as running:
        yield running


def _recording(request: pytest.FixtureRequest) -> bool:
    """Record this run? Only with MEMBRANE_RECORD=1, and only on SQLite (one cassette each)."""
    store = request.node.callspec.params.get("daemon")
    return os.environ.get("MEMBRANE_RECORD") == "1" and store == "sqlite"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_scenario_with_sync_client(
    request: pytest.FixtureRequest, daemon: Membraned, daemon_bin: str, name: str
) -> None:
    if not _recording(request):
        with MembraneClient(daemon.addr, timeout=10) as client:
            await SCENARIOS[name](client)
        return
    cassette = Cassette(cassette_path(name, "sync"), secrets=(RECORDING_API_KEY,))
    cassette.recorded_from = RECORDED_FROM
    with Membraned(daemon_bin, api_key=RECORDING_API_KEY) as secured:
        channel = recording_channel(grpc.insecure_channel(secured.addr), cassette)
        client = MembraneClient(
            secured.addr, api_key=RECORDING_API_KEY, channel=channel, timeout=10
        )
        with client:
            await SCENARIOS[name](client)
        channel.close()
    cassette.save()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_scenario_with_async_client(
    request: pytest.FixtureRequest, daemon: Membraned, daemon_bin: str, name: str
) -> None:
    if not _recording(request):
        async with AsyncMembraneClient(daemon.addr, timeout=10) as client:
            await SCENARIOS[name](client)
        return
    cassette = Cassette(cassette_path(name, "async"), secrets=(RECORDING_API_KEY,))
    cassette.recorded_from = RECORDED_FROM
    with Membraned(daemon_bin, api_key=RECORDING_API_KEY) as secured:
        channel = recording_aio_channel(secured.addr, cassette)
        aclient = AsyncMembraneClient(
            secured.addr, api_key=RECORDING_API_KEY, channel=channel, timeout=10
        )
        async with aclient:
            await SCENARIOS[name](aclient)
        await channel.close()
    cassette.save()


def test_api_key_auth(daemon_bin: str) -> None:
    with Membraned(daemon_bin, api_key=API_KEY) as secured:
        with MembraneClient(secured.addr, api_key=API_KEY, timeout=10) as client:
            record = client.ingest_event("e", "r")
            assert client.retrieve_by_id(record.id).id == record.id
        for key in (None, "wrong-key"):
            anonymous = MembraneClient(secured.addr, api_key=key, timeout=10)
            with anonymous, pytest.raises(AuthenticationError) as info:
                anonymous.get_metrics()
            assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
            assert "API key" in info.value.details() or "metadata" in info.value.details()  # type: ignore[attr-defined]
            assert API_KEY not in str(info.value) + repr(info.value)


async def test_api_key_auth_async(daemon_bin: str) -> None:
    with Membraned(daemon_bin, api_key=API_KEY) as secured:
        async with AsyncMembraneClient(secured.addr, api_key=API_KEY, timeout=10) as client:
            assert (await client.get_metrics())["total_records"] == 0
        async with AsyncMembraneClient(secured.addr, timeout=10) as anonymous:
            with pytest.raises(AuthenticationError):
                await anonymous.get_metrics()


async def test_tls_with_a_private_ca(daemon_bin: str) -> None:
    with Membraned(daemon_bin, tls=True, api_key=API_KEY) as secured:
        assert secured.cert is not None
        ca = str(secured.cert.ca_cert)
        with MembraneClient(secured.addr, tls_ca_cert=ca, api_key=API_KEY, timeout=10) as client:
            record = client.ingest_event("e", "r")
        async with AsyncMembraneClient(
            secured.addr, tls_ca_cert=ca, api_key=API_KEY, timeout=10
        ) as aclient:
            assert (await aclient.retrieve_by_id(record.id)).id == record.id
        plain = MembraneClient(secured.addr, api_key=API_KEY, timeout=5, max_retries=0)
        with plain, pytest.raises(BackendUnavailableError):
            plain.get_metrics()


def test_daemon_stops_cleanly(daemon_bin: str) -> None:
    running = Membraned(daemon_bin).start()
    tmp = running._tmp
    assert tmp is not None and (tmp / "membrane.db").exists()
    running.stop()
    assert not tmp.exists()
    assert "membraned: listening on" in running.stderr


REFERENCE_TO_DICT_KEYS = ("id", "type", "sensitivity", "confidence", "salience", "scope", "payload")


def test_reference_revision_idioms_do_what_was_meant(daemon_bin: str) -> None:
    """The reference client's revision idioms fail on v0.2.0; ours complete them (_revisions)."""
    with Membraned(daemon_bin) as running, MembraneClient(running.addr, timeout=10) as client:
        src = client.ingest_observation("deploy", "target", "prod")
        forked = client.fork(src.id, {**src.to_dict(), "scope": "dev"}, "agent-1", "dev env")
        assert forked.id != src.id and forked.scope == "dev"
        assert ("derived_from", src.id) in [(r.kind, r.target_id) for r in forked.relations]

        # What the reference's to_dict() sends: no lifecycle (the store's CHECK would fail).
        doc = {k: v for k, v in src.to_dict().items() if k in REFERENCE_TO_DICT_KEYS}
        doc["payload"] = {**doc["payload"], "object": "staging"}
        new = client.supersede(src.id, doc, "agent-1", "moved")
        assert new.id not in (src.id, forked.id) and new.payload.object == "staging"
        assert new.lifecycle.decay.half_life_seconds == 2592000  # ingestion's semantic default
        assert new.lifecycle.deletion_policy == "auto_prune"
        assert client.retrieve_by_id(src.id).salience == 0  # superseded

        a = client.ingest_observation("user", "likes", "tea")
        merged_doc = {"type": "semantic", "payload": {**a.to_dict()["payload"], "object": "chai"}}
        merged = client.merge([a.id], merged_doc, "agent-1", "same")
        assert merged.sensitivity.value == "low" and merged.payload.object == "chai"

        # Not guessable: the daemon's error names the field to fix.
        with pytest.raises(InvalidRequestError, match="type"):
            client.fork(forked.id, {"payload": doc["payload"]}, "agent-1", "no type")
