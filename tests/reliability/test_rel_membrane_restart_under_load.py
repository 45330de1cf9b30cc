"""Membrane: the real daemon restarted several times while async tasks ingest and retrieve.

membraned v0.2.0 stops with ``grpc.Server.Stop()`` on SIGTERM (cmd/membraned/main.go), which
cancels calls in flight, so an ingest cut by the stop may or may not have been committed. The
client never re-sends a write, so each ingest is stored at most once; the test reads the whole
store afterwards and accounts for every ingest: it returned a record that is there (by id and
by its unique tag), or it raised a typed "daemon unavailable" error (any other error fails the
test) and is then absent, or there once ("ambiguous": cut by the stop after it was committed).
Reads (Retrieve, RetrieveByID) are retried on UNAVAILABLE and none may fail. Found here: a
Retrieve racing an ingest could fail with ``MalformedResponseError`` (the daemon's SQLite
``Create`` is several autocommit INSERTs and a listing can catch a record before its decay row
exists); the client now leaves such a record out (test_rel_membrane_concurrent_writers.py).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from membrane_integrations.core.errors import (
    BackendTimeoutError,
    BackendUnavailableError,
    MembraneIntegrationsError,
)
from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrane import AsyncMembraneClient
from tests.reliability.membrane_servers import DEADLINE
from tests.support.membraned import Membraned, require_daemon

pytestmark = pytest.mark.live

KEY = "rel-membrane-load-key"
WRITERS = 4
READERS = 3
RESTARTS = 5
WRITES_BETWEEN = 40  # successful ingests between two restarts
# About 10 s of waits in all: outlasts a restart (SIGTERM, exec, schema, first GetMetrics).
PATIENT = RetryPolicy(max_retries=14, initial_backoff=0.05, max_backoff=1.0, jitter=0.25)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Yield to the load tasks until ``condition`` holds, under a deadline (never a fixed wait)."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@dataclass
class Ledger:
    stored: dict[str, str] = field(default_factory=dict)  # tag -> record id the client got
    failed: dict[str, str] = field(default_factory=dict)  # tag -> error class
    reads: Counter[str] = field(default_factory=Counter)
    reads_during_restart_ok: int = 0
    restarting: bool = False


async def writer(client: AsyncMembraneClient, ledger: Ledger, w: int, stop: asyncio.Event) -> None:
    i = 0
    while not stop.is_set():
        tag = f"load-w{w}-{i}"
        i += 1
        try:
            record = await client.ingest_event("rel_load", f"ref-{tag}", tags=[tag])
        except (BackendUnavailableError, BackendTimeoutError) as exc:
            ledger.failed[tag] = type(exc).__name__
            await asyncio.sleep(0.02)  # an application's pause after a failed write, not a wait
        else:
            ledger.stored[tag] = record.id


async def reader(client: AsyncMembraneClient, ledger: Ledger, r: int, stop: asyncio.Event) -> None:
    rng = random.Random(r)
    while not stop.is_set():
        began_in_restart = ledger.restarting
        ids = list(ledger.stored.values())
        by_id = bool(ids) and rng.random() < 0.6
        kind = "RetrieveByID" if by_id else "Retrieve"
        try:
            if by_id:
                record_id = rng.choice(ids)
                assert (await client.retrieve_by_id(record_id)).id == record_id
            else:
                await client.retrieve("reliability under load", limit=5)
        except MembraneIntegrationsError as exc:
            ledger.reads[f"{kind} {type(exc).__name__}"] += 1
        else:
            ledger.reads[f"{kind} ok"] += 1
            ledger.reads_during_restart_ok += began_in_restart


async def test_a_mixed_load_across_daemon_restarts_loses_and_repeats_nothing(
    rel_figures: Callable[[str], None],
) -> None:
    random.seed(16)  # the retry jitter
    daemon = Membraned(require_daemon(), api_key=KEY).start()
    try:
        async with AsyncMembraneClient(
            daemon.addr, api_key=KEY, retry_policy=PATIENT, timeout=5
        ) as client:
            ledger = Ledger()
            stop = asyncio.Event()
            tasks = [asyncio.create_task(writer(client, ledger, w, stop)) for w in range(WRITERS)]
            tasks += [asyncio.create_task(reader(client, ledger, r, stop)) for r in range(READERS)]
            try:
                for n in range(RESTARTS):
                    goal = (n + 1) * WRITES_BETWEEN
                    await until(lambda g=goal: len(ledger.stored) >= g, f"{goal} ingests")
                    ledger.restarting = True
                    await asyncio.to_thread(daemon.restart, keep_data=True)
                    ledger.restarting = False
                goal = (RESTARTS + 1) * WRITES_BETWEEN
                await until(lambda: len(ledger.stored) >= goal, "ingests after the last restart")
                reads = ledger.reads["RetrieveByID ok"]
                await until(
                    lambda: ledger.reads["RetrieveByID ok"] >= reads + 10, "reads after the restart"
                )
            finally:
                stop.set()
                await asyncio.wait_for(asyncio.gather(*tasks), DEADLINE)

            everything = await client.retrieve("all", limit=0)
            on_daemon = Counter(t for rec in everything for t in rec.tags if t.startswith("load-"))
            total = (await client.get_metrics())["total_records"]
            for tag, record_id in ledger.stored.items():
                assert (await client.retrieve_by_id(record_id)).id == record_id, tag
    finally:
        daemon.stop()

    assert not set(ledger.stored) & set(ledger.failed)
    duplicated = {tag: n for tag, n in on_daemon.items() if n > 1}
    assert duplicated == {}, duplicated  # no ingest was silently repeated
    assert all(on_daemon[tag] == 1 for tag in ledger.stored)
    unknown = set(on_daemon) - set(ledger.stored) - set(ledger.failed)
    assert unknown == set(), unknown  # nothing stored that the client never sent
    ambiguous = sorted(tag for tag in ledger.failed if on_daemon[tag])
    assert total == len(everything) == len(ledger.stored) + len(ambiguous)
    errors = Counter(ledger.failed.values())
    # Reads recover within the retry budget: every one succeeded, some of them across a restart.
    assert set(ledger.reads) <= {"RetrieveByID ok", "Retrieve ok"}, ledger.reads  # none failed
    assert ledger.reads_during_restart_ok >= 1
    sent = len(ledger.stored) + len(ledger.failed)
    rel_figures(
        f"{RESTARTS} restarts of membraned v0.2.0 (SQLite file) under {WRITERS} ingesting and "
        f"{READERS} retrieving tasks: {sent} ingests -> {len(ledger.stored)} returned a record "
        f"(all on the daemon after), {len(ledger.failed)} typed errors {dict(errors)} "
        f"({len(ambiguous)} of them stored anyway, once; {len(ledger.failed) - len(ambiguous)} "
        f"absent), 0 duplicated; reads {dict(ledger.reads)}, none failed "
        f" ({ledger.reads_during_restart_ok} ok reads began during a restart)"
    )
