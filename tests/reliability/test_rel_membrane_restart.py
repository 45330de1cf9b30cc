"""Membrane: the daemon stopped and restarted during a run of retrieves.

Reads recover through the client's retries (UNAVAILABLE is retried for idempotent RPCs); a write
while the daemon is down raises a typed error at once and is never re-sent, so nothing is
written twice. Every scenario runs against the real membraned (SIGTERM, then the same binary on
the same address and database). Only a stop while a call is *held in flight* needs the
in-process TEST DOUBLE: a real daemon cannot be paused in the middle of one call on demand.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from membrane_integrations.core.errors import (
    BackendTimeoutError,
    BackendUnavailableError,
    MembraneIntegrationsError,
)
from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from tests.reliability.membrane_servers import (
    DEADLINE,
    DaemonServer,
    DoubleServer,
    Restartable,
    poll,
)
from tests.support.membraned import require_daemon

pytestmark = pytest.mark.live

KEY = "rel-membrane-key"
# Patient enough to outlast a restart and gRPC's reconnect backoff (about 6 s of waits in all).
PATIENT = RetryPolicy(max_retries=10, initial_backoff=0.05, max_backoff=0.8, jitter=0.25)


@pytest.fixture
def server() -> Iterator[Restartable]:
    random.seed(8)  # the retry jitter
    srv: Restartable = DaemonServer(require_daemon(), api_key=KEY).start()
    try:
        yield srv
    finally:
        srv.close()


class Reader:
    """Retrieves in a loop on a thread; notes every outcome and whether it spanned a restart."""

    def __init__(self, client: MembraneClient, ids: list[str]) -> None:
        self.client = client
        self.ids = ids
        self.outcomes: Counter[str] = Counter()
        self.server_down = threading.Event()
        self.started_while_down = threading.Event()
        self.recovered_across_restart = 0
        self.go = threading.Event()
        self.go.set()
        self.paused = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            if not self.go.is_set():  # the test stops the daemon between two reads
                self.paused.set()
                self.go.wait(DEADLINE)
                self.paused.clear()
            record_id = self.ids[i % len(self.ids)]
            began_down = self.server_down.is_set()
            if began_down:
                self.started_while_down.set()
            try:
                if i % 2:
                    assert self.client.retrieve_by_id(record_id).id == record_id
                else:
                    self.client.retrieve("reliability run", limit=5)
                self.outcomes["ok"] += 1
                self.recovered_across_restart += began_down
            except MembraneIntegrationsError as exc:
                down = isinstance(exc, (BackendUnavailableError, BackendTimeoutError))
                self.outcomes["unavailable" if down else type(exc).__name__] += 1
            i += 1

    def __enter__(self) -> Reader:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=DEADLINE)


def test_reads_recover_and_writes_are_not_repeated_across_a_restart(
    server: Restartable,
) -> None:
    with MembraneClient(server.addr, api_key=KEY, retry_policy=PATIENT, timeout=5) as client:
        written = [client.ingest_event("rel", f"ref-{i}", tags=[f"w-{i}"]) for i in range(10)]
        base = client.get_metrics()["total_records"]
        with Reader(client, [r.id for r in written]) as reader:
            poll(lambda: reader.outcomes["ok"] >= 20, "reads before the stop")
            reader.go.clear()
            poll(reader.paused.is_set, "the reader to pause between two reads")
            server.down()
            with pytest.raises(BackendUnavailableError):
                client.ingest_event("rel", "ref-while-down", tags=["w-down"])
            reader.server_down.set()
            reader.go.set()
            poll(reader.started_while_down.is_set, "a read that starts while the daemon is down")
            server.up()
            reader.server_down.clear()
            poll(lambda: reader.recovered_across_restart >= 1, "a read to recover after restart")
            ok = reader.outcomes["ok"]
            poll(lambda: reader.outcomes["ok"] >= ok + 20, "reads after the restart")
        after = client.ingest_event("rel", "ref-after", tags=["w-after"])
        assert client.retrieve_by_id(after.id).id == after.id
        for record in written:
            assert client.retrieve_by_id(record.id).id == record.id
        assert client.get_metrics()["total_records"] == base + 1  # the refused write is absent
    assert set(reader.outcomes) <= {"ok", "unavailable"}, reader.outcomes
    assert reader.outcomes["ok"] >= 40 and reader.recovered_across_restart >= 1
    print(f"\n{server.label}: retrieves {dict(reader.outcomes)}")


async def test_an_async_read_in_flight_across_a_restart_recovers(server: Restartable) -> None:
    async with AsyncMembraneClient(
        server.addr, api_key=KEY, retry_policy=PATIENT, timeout=5
    ) as client:
        record = await client.ingest_event("rel", "ref-async", tags=["w-async"])
        await asyncio.to_thread(server.down)
        with pytest.raises(BackendUnavailableError):
            await client.ingest_event("rel", "ref-async-down", tags=["w-async-down"])
        read = asyncio.ensure_future(client.retrieve_by_id(record.id))
        await asyncio.sleep(0)  # let the read make its first attempt against the stopped daemon
        await asyncio.to_thread(server.up)
        assert (await asyncio.wait_for(read, DEADLINE)).id == record.id
        assert (await client.get_metrics())["total_records"] == 1


# ---------------------------------------------------------------- mid-call stops (double only)


@pytest.fixture
def double_server() -> Iterator[DoubleServer]:
    random.seed(9)
    srv = DoubleServer(KEY)
    try:
        yield srv
    finally:
        srv.close()


def test_a_write_in_flight_when_the_daemon_stops_is_not_sent_again(
    double_server: DoubleServer,
) -> None:
    old = double_server.double
    old.hold("IngestEvent")
    with (
        MembraneClient(double_server.addr, api_key=KEY, retry_policy=PATIENT, timeout=5) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        write = pool.submit(client.ingest_event, "rel", "ref-mid", tags=["w-mid"])
        poll(lambda: len(old.calls_of("IngestEvent")) == 1, "the write to reach the daemon")
        double_server.down()
        with pytest.raises((BackendUnavailableError, BackendTimeoutError)):
            write.result(timeout=DEADLINE)
        double_server.up()
        assert client.get_metrics()["total_records"] <= 1
    assert len(old.calls_of("IngestEvent")) == 1
    assert double_server.double.calls_of("IngestEvent") == []  # never re-sent after the restart
    tagged = [r for r in double_server.double.records.values() if "w-mid" in r["tags"]]
    assert len(tagged) <= 1  # its outcome was unknown to the client; it exists at most once


def test_a_read_in_flight_when_the_daemon_stops_is_retried_after_restart(
    double_server: DoubleServer,
) -> None:
    with (
        MembraneClient(double_server.addr, api_key=KEY, retry_policy=PATIENT, timeout=5) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        record = client.ingest_event("rel", "ref-read", tags=["w-read"])
        old = double_server.double
        old.hold("RetrieveByID")
        read = pool.submit(client.retrieve_by_id, record.id)
        poll(lambda: len(old.calls_of("RetrieveByID")) == 1, "the read to reach the daemon")
        double_server.down()
        double_server.up()
        assert read.result(timeout=DEADLINE).id == record.id
        assert len(double_server.double.calls_of("RetrieveByID")) >= 1  # answered by the new one


# -------------------------------------------------- recovery with the client's default settings


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_read_just_after_a_restart_succeeds_with_default_settings(
    server: Restartable, kind: str
) -> None:
    """Bug found here: gRPC waits 1 s (±20%) before reconnecting after a failure and backs off
    up to 120 s, and calls made meanwhile fail at once, so with the default retry budget
    (about 0.75 s) reads kept failing after the daemon was back. The client now caps the
    reconnect backoff (100 ms initial, 1 s at most)."""
    if kind == "sync":
        with MembraneClient(server.addr, api_key=KEY) as client:
            record = client.ingest_event("rel", "ref-default", tags=["w-default"])
            server.down()
            with pytest.raises(BackendUnavailableError):  # one attempt: writes are not retried
                client.ingest_event("rel", "ref-while-down")
            server.up()
            assert client.retrieve_by_id(record.id).id == record.id
    else:
        async with AsyncMembraneClient(server.addr, api_key=KEY) as aclient:
            record = await aclient.ingest_event("rel", "ref-default", tags=["w-default"])
            await asyncio.to_thread(server.down)
            with pytest.raises(BackendUnavailableError):
                await aclient.ingest_event("rel", "ref-while-down")
            await asyncio.to_thread(server.up)
            assert (await aclient.retrieve_by_id(record.id)).id == record.id


def test_the_daemon_restart_keeps_the_address_and_the_records() -> None:
    """``restart(keep_data=True)`` of the launcher: same address, same SQLite file, same record."""
    server = DaemonServer(require_daemon(), api_key=KEY).start()
    try:
        with MembraneClient(server.addr, api_key=KEY, retry_policy=PATIENT, timeout=5) as client:
            record = client.ingest_event("rel", "ref-process")
            addr = server.addr
            server.down()
            with pytest.raises(BackendUnavailableError):
                client.ingest_event("rel", "ref-process-down")
            server.up()
            assert server.addr == addr
            assert client.get_metrics()["total_records"] == 1
            server.restart(keep_data=True)
            assert client.retrieve_by_id(record.id).id == record.id
            server.restart(keep_data=False)
            assert client.get_metrics()["total_records"] == 0
    finally:
        server.close()
