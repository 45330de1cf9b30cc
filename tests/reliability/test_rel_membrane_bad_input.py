# ruff: noqa: E501  (one row per line keeps the table of cases readable)
"""Membrane bad input and bad replies, through both clients.

Bad input and bad credentials run against the real membraned: each row ends in its typed error
and leaves every stored record as it was (read back from the daemon). A garbled reply (invalid
JSON in a bytes field) is something only the TEST DOUBLE can produce on demand, so those tests
keep it.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from membrane_integrations.core.errors import (
    AuthenticationError,
    BackendUnavailableError,
    InvalidRequestError,
    MalformedResponseError,
    MembraneIntegrationsError,
    NotFoundError,
)
from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrane import (
    AsyncMembraneClient,
    MembraneClient,
    Sensitivity,
    TrustContext,
)
from tests.reliability.membrane_servers import DEADLINE, DaemonServer, DoubleServer, poll
from tests.support.membraned import require_daemon

pytestmark = pytest.mark.live

KEY = "rel-membrane-bad-input"
WRONG = "wrong-membrane-key-123"
FAST = RetryPolicy(max_retries=2, initial_backoff=0.0, jitter=0.0)
Client = MembraneClient | AsyncMembraneClient
Act = Callable[[Client, str], Any]

ROWS: list[tuple[str, Act, type[MembraneIntegrationsError]]] = [
    ("invalid-sensitivity", lambda c, rid: c.ingest_event("e", "r", sensitivity="ultra"), InvalidRequestError),
    ("missing-ref", lambda c, rid: c.ingest_event("e", ""), InvalidRequestError),
    ("bad-timestamp", lambda c, rid: c.ingest_event("e", "r", timestamp="yesterday"), InvalidRequestError),
    ("tag-too-long", lambda c, rid: c.ingest_event("e", "r", tags=["t" * 300]), InvalidRequestError),
    ("limit-negative", lambda c, rid: c.retrieve("x", limit=-1), InvalidRequestError),
    ("unknown-memory-type", lambda c, rid: c.retrieve("x", memory_types=["dream"]), InvalidRequestError),
    ("supersede-without-payload", lambda c, rid: c.supersede(rid, {"type": "semantic"}, "me", "why"), InvalidRequestError),
    ("unknown-id-read", lambda c, rid: c.retrieve_by_id("no-such-record"), NotFoundError),
    ("unknown-id-retract", lambda c, rid: c.retract("no-such-record", "me", "why"), NotFoundError),
    ("unknown-id-reinforce", lambda c, rid: c.reinforce("no-such-record", "me", "why"), NotFoundError),
]  # fmt: skip


@pytest.fixture
def server() -> Any:
    srv = DoubleServer(KEY)
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def daemon() -> Any:
    srv = DaemonServer(require_daemon(), api_key=KEY).start()
    try:
        yield srv
    finally:
        srv.close()


async def _clients(kind: str, addr: str) -> AsyncIterator[Client]:
    if kind == "sync":
        with MembraneClient(addr, api_key=KEY, retry_policy=FAST) as sync:
            yield sync
    else:
        async with AsyncMembraneClient(addr, api_key=KEY, retry_policy=FAST) as aclient:
            yield aclient


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest, server: DoubleServer) -> AsyncIterator[Client]:
    async for c in _clients(request.param, server.addr):
        yield c


@pytest.fixture(params=["sync", "async"])
async def live_client(
    request: pytest.FixtureRequest, daemon: DaemonServer
) -> AsyncIterator[Client]:
    async for c in _clients(request.param, daemon.addr):
        yield c


def stored(daemon: DaemonServer) -> list[dict[str, Any]]:
    """Every record the daemon holds, as dicts, in id order (highest trust, all scopes)."""
    trust = TrustContext(max_sensitivity=Sensitivity.HYPER)
    with MembraneClient(daemon.addr, api_key=KEY) as admin:
        records = admin.retrieve("", trust=trust, limit=1000)
        assert admin.get_metrics()["total_records"] == len(records)
    return sorted((r.to_dict() for r in records), key=lambda r: r["id"])


async def resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _other(client: Client, addr: str, **kwargs: Any) -> Client:
    kind = MembraneClient if isinstance(client, MembraneClient) else AsyncMembraneClient
    return kind(addr, retry_policy=FAST, **kwargs)


@pytest.mark.parametrize(("act", "error"), [pytest.param(a, e, id=i) for i, a, e in ROWS])
async def test_bad_input_is_refused_and_nothing_changes(
    daemon: DaemonServer, live_client: Client, act: Act, error: type[MembraneIntegrationsError]
) -> None:
    record = await resolve(live_client.ingest_event("e", "seed", summary="seed record"))
    before = stored(daemon)
    with pytest.raises(error):
        await resolve(act(live_client, record.id))
    assert stored(daemon) == before


@pytest.mark.parametrize("key", [WRONG, None], ids=["wrong-key", "missing-key"])
async def test_bad_credentials_write_nothing(
    daemon: DaemonServer, live_client: Client, key: str | None
) -> None:
    other = _other(live_client, daemon.addr, api_key=key)
    try:
        with pytest.raises(AuthenticationError) as info:
            await resolve(other.ingest_event("e", "r"))
    finally:
        await resolve(other.close())
    assert WRONG not in f"{info.value} {info.value!r}"
    assert stored(daemon) == []


@pytest.mark.parametrize("method", ["Retrieve", "RetrieveByID", "GetMetrics"])
async def test_invalid_json_in_a_bytes_field_is_malformed(
    server: DoubleServer, client: Client, method: str
) -> None:
    record = await resolve(client.ingest_event("e", "seed"))
    before = copy.deepcopy(server.double.records)
    server.double.corrupt(method)
    calls = {
        "Retrieve": lambda: client.retrieve("seed"),
        "RetrieveByID": lambda: client.retrieve_by_id(record.id),
        "GetMetrics": lambda: client.get_metrics(),
    }
    with pytest.raises(MalformedResponseError, match="invalid JSON"):
        await resolve(calls[method]())
    assert len(server.double.calls_of(method)) == 1  # a garbled reply is not a reason to resend
    assert server.double.records == before


async def test_a_write_with_a_garbled_reply_is_stored_once_and_not_resent(
    server: DoubleServer, client: Client
) -> None:
    server.double.corrupt("IngestEvent")
    with pytest.raises(MalformedResponseError):
        await resolve(client.ingest_event("e", "garbled", tags=["w-garbled"]))
    assert len(server.double.calls_of("IngestEvent")) == 1
    assert [r["tags"] for r in server.double.records.values()] == [["w-garbled"]]


def test_a_daemon_that_stops_mid_read_and_stays_down_is_unavailable(server: DoubleServer) -> None:
    with (
        MembraneClient(server.addr, api_key=KEY, retry_policy=FAST, timeout=5) as sync,
        ThreadPoolExecutor(1) as pool,
    ):
        record = sync.ingest_event("e", "seed")
        before = copy.deepcopy(server.double.records)
        old = server.double
        old.hold("Retrieve")
        read = pool.submit(sync.retrieve, "seed")
        poll(lambda: len(old.calls_of("Retrieve")) == 1, "the read to reach the daemon")
        server.down()
        with pytest.raises(BackendUnavailableError):
            read.result(timeout=DEADLINE)
        with pytest.raises(BackendUnavailableError):
            sync.retrieve_by_id(record.id)
    assert old.records == before
