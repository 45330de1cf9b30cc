"""Overhead of the Membrane clients over a bare generated-stub call, measured in the same run.

Usage::

    .venv/bin/python benchmarks/membrane_overhead.py [--calls 2000] [--concurrency 64]

Target: the real membraned when installed (``MEMBRANED_BIN`` or ``.cache/bin/membraned``),
started on 127.0.0.1 with a throwaway database. Otherwise it FALLS BACK to the TEST DOUBLE
(tests/support/membrane_double.py) run as a separate process with membraned's command line, and
every figure is labelled so: the double's server-side cost differs from the daemon's, so the
ratios are indicative of client overhead only.

Measured, interleaved in alternating batches so drift hits both sides equally:
- per-call latency of ``retrieve`` (limit 5 over 5 stored records) and ``ingest_event``:
  bare ``MembraneServiceStub`` call with a prebuilt request (reply left as raw bytes) versus
  ``MembraneClient`` / ``AsyncMembraneClient`` (build the request, send, parse the records into
  typed dataclasses); the ratio client / bare (aim <= 1.10); for retrieve also against a
  baseline that at least decodes the JSON records (``json.loads``), to show how much of the
  overhead is the typed parse itself;
- concurrent ``retrieve`` throughput of ``AsyncMembraneClient`` versus bare aio stub calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
import grpc.aio  # noqa: E402

from membrane_integrations.membrane import (  # noqa: E402
    AsyncMembraneClient,
    MembraneClient,
    _codec,
)
from membrane_integrations.membrane.proto import membrane_pb2_grpc  # noqa: E402
from tests.support.membraned import Membraned  # noqa: E402

BATCH = 50


def _daemon_binary() -> str | None:
    explicit = os.environ.get("MEMBRANED_BIN")
    if explicit and Path(explicit).is_file():
        return explicit
    cached = ROOT / ".cache" / "bin" / "membraned"
    return str(cached) if cached.is_file() else None


def _time_sync(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


async def _time_async(fn: Callable[[], Awaitable[Any]], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - start)
    return out


def _interleave_sync(
    bare: Callable[[], Any], ours: Callable[[], Any], calls: int
) -> tuple[list[float], list[float]]:
    _time_sync(bare, 100), _time_sync(ours, 100)  # warm-up
    b: list[float] = []
    o: list[float] = []
    for _ in range(calls // BATCH):
        b += _time_sync(bare, BATCH)
        o += _time_sync(ours, BATCH)
    return b, o


async def _interleave_async(
    bare: Callable[[], Awaitable[Any]], ours: Callable[[], Awaitable[Any]], calls: int
) -> tuple[list[float], list[float]]:
    await _time_async(bare, 100)
    await _time_async(ours, 100)
    b: list[float] = []
    o: list[float] = []
    for _ in range(calls // BATCH):
        b += await _time_async(bare, BATCH)
        o += await _time_async(ours, BATCH)
    return b, o


def _row(label: str, bare: list[float], ours: list[float]) -> str:
    mb, mo = statistics.median(bare), statistics.median(ours)
    mean_ratio = statistics.fmean(ours) / statistics.fmean(bare)
    return (
        f"{label:<34} bare {mb * 1e6:8.1f} us   ours {mo * 1e6:8.1f} us   "
        f"ratio {mo / mb:5.2f}   (mean ratio {mean_ratio:5.2f})"
    )


async def _throughput(fn: Callable[[], Awaitable[Any]], total: int, concurrency: int) -> float:
    queue = iter(range(total))

    async def worker() -> None:
        for _ in queue:
            await fn()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - start)


def run_sync(addr: str, calls: int) -> list[str]:
    channel = grpc.insecure_channel(addr)
    stub: Any = membrane_pb2_grpc.MembraneServiceStub(channel)
    rows = []
    with MembraneClient(addr, timeout=10) as client:
        for i in range(5):
            client.ingest_event("bench", f"seed-{i}", summary="seed record")
        retrieve_req = _codec.retrieve("benchmark", limit=5).request
        b, o = _interleave_sync(
            lambda: stub.Retrieve(retrieve_req, timeout=10),
            lambda: client.retrieve("benchmark", limit=5),
            calls,
        )
        rows.append(_row("sync  retrieve (5 records)", b, o))
        b, o = _interleave_sync(
            lambda: [json.loads(r) for r in stub.Retrieve(retrieve_req, timeout=10).records],
            lambda: client.retrieve("benchmark", limit=5),
            calls,
        )
        rows.append(_row("  vs bare + json.loads of records", b, o))
        ingest_req = _codec.ingest_event("bench", "ref", summary="s").request
        b, o = _interleave_sync(
            lambda: stub.IngestEvent(ingest_req, timeout=10),
            lambda: client.ingest_event("bench", "ref", summary="s"),
            calls,
        )
        rows.append(_row("sync  ingest_event", b, o))
    channel.close()
    return rows


async def run_async(addr: str, calls: int, concurrency: int) -> list[str]:
    channel = grpc.aio.insecure_channel(addr)
    stub: Any = membrane_pb2_grpc.MembraneServiceStub(channel)
    rows = []
    async with AsyncMembraneClient(addr, timeout=10) as client:
        retrieve_req = _codec.retrieve("benchmark", limit=5).request
        b, o = await _interleave_async(
            lambda: stub.Retrieve(retrieve_req, timeout=10),
            lambda: client.retrieve("benchmark", limit=5),
            calls,
        )
        rows.append(_row("async retrieve (5 records)", b, o))
        total = calls * 2
        bare_rps = await _throughput(
            lambda: stub.Retrieve(retrieve_req, timeout=10), total, concurrency
        )
        ours_rps = await _throughput(
            lambda: client.retrieve("benchmark", limit=5), total, concurrency
        )
        rows.append(
            f"async retrieve x{concurrency} concurrent    bare {bare_rps:8.0f} calls/s   "
            f"ours {ours_rps:8.0f} calls/s   ratio {bare_rps / ours_rps:5.2f} (time per call)"
        )
        ingest_req = _codec.ingest_event("bench", "ref", summary="s").request
        b, o = await _interleave_async(
            lambda: stub.IngestEvent(ingest_req, timeout=10),
            lambda: client.ingest_event("bench", "ref", summary="s"),
            calls,
        )
        rows.append(_row("async ingest_event", b, o))
    await channel.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    ns = parser.parse_args(argv)

    binary = _daemon_binary()
    if binary is not None:
        target: str | list[str] = binary
        label = f"membraned ({binary})"
    else:
        target = [sys.executable, str(ROOT / "tests" / "support" / "membrane_double.py")]
        label = (
            "TEST DOUBLE (membraned is not installed here; in-repo gRPC double in a separate "
            "process; figures show client overhead against the double, NOT the daemon)"
        )
    print(f"target: {label}")
    print(f"calls per measurement: {ns.calls} (interleaved batches of {BATCH}); medians shown")
    with Membraned(target) as daemon:
        for line in run_sync(daemon.addr, ns.calls):
            print(line)
    with Membraned(target) as daemon:  # fresh store for the async half
        with MembraneClient(daemon.addr) as seed:
            for i in range(5):
                seed.ingest_event("bench", f"seed-{i}", summary="seed record")
        for line in asyncio.run(run_async(daemon.addr, ns.calls, ns.concurrency)):
            print(line)
    print("aim: ratio <= 1.10")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
