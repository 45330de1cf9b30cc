"""Overhead of the Membrane clients on the real membraned, against baselines of the same run.

Usage::

    MEMBRANED_BIN=/path/to/membraned .venv/bin/python benchmarks/membrane_overhead.py \
        [--calls 1000] [--concurrency 64] [--no-reference]

Target: the real membraned v0.2.0 found by ``membrane_integrations.membrane.daemon
.find_membraned`` (``MEMBRANED_BIN``, ``.cache/bin``, ``PATH``), started on 127.0.0.1 with a
throwaway SQLite database (a fresh daemon for the sync half, the async half and the reference
half). Without a daemon the script says how to get one and exits 2: there is no fallback.

Measured, interleaved in rotating batches so drift hits every side alike (medians shown):
- per-call latency of ``retrieve`` (limit 5 over 5 stored records) and of every ingest
  (``ingest_event``, ``ingest_tool_output``, ``ingest_observation``, ``ingest_working_state``,
  ``ingest_outcome``), through ``MembraneClient`` and ``AsyncMembraneClient``, against (a) a
  bare generated-stub call with a prebuilt request whose reply is left as bytes, and (b) that
  bare call plus ``json.loads`` of the same reply bytes (the least any client must do to read a
  record); ratios ours/bare (aim <= 1.10) and ours/(bare+json);
- concurrent ``retrieve`` throughput, 64 tasks, ``AsyncMembraneClient`` against bare aio stubs;
- the REFERENCE client (``membrane-client`` 0.2.0, in its own venv made by
  ``scripts/reference_client_venv.py``; ``_reference_worker.py`` runs in that venv): sequential
  retrieve and 64 concurrent retrieves from a thread pool, reference against our sync client
  timed in the same process (both import beside each other), plus the reference's bare stub.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
import grpc.aio  # noqa: E402

from membrane_integrations.membrane import (  # noqa: E402
    AsyncMembraneClient,
    MembraneClient,
)
from membrane_integrations.membrane import _protocol as ops  # noqa: E402
from membrane_integrations.membrane.daemon import (  # noqa: E402
    INSTALL_HINT,
    LocalMembraned,
    find_membraned,
)
from membrane_integrations.membrane.proto import membrane_pb2_grpc  # noqa: E402

BATCH = 50
WARMUP = 50
OUTCOME_TARGETS = 200
WORKER = ROOT / "benchmarks" / "_reference_worker.py"

SyncFn = Callable[[], Any]
AsyncFn = Callable[[], Awaitable[Any]]


def _time_sync(fn: SyncFn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


async def _time_async(fn: AsyncFn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - start)
    return out


def interleave_sync(fns: list[SyncFn], calls: int) -> list[list[float]]:
    """Time each callable ``calls`` times in rotating batches of ``BATCH``."""
    for fn in fns:
        _time_sync(fn, WARMUP)
    samples: list[list[float]] = [[] for _ in fns]
    for round_ in range(calls // BATCH):
        for k in range(len(fns)):
            i = (round_ + k) % len(fns)
            samples[i] += _time_sync(fns[i], BATCH)
    return samples


async def interleave_async(fns: list[AsyncFn], calls: int) -> list[list[float]]:
    for fn in fns:
        await _time_async(fn, WARMUP)
    samples: list[list[float]] = [[] for _ in fns]
    for round_ in range(calls // BATCH):
        for k in range(len(fns)):
            i = (round_ + k) % len(fns)
            samples[i] += await _time_async(fns[i], BATCH)
    return samples


def row(label: str, bare: list[float], bare_json: list[float], ours: list[float]) -> str:
    mb, mj, mo = (statistics.median(s) for s in (bare, bare_json, ours))
    return (
        f"{label:<28} bare {mb * 1e6:7.1f} us  bare+json {mj * 1e6:7.1f} us  "
        f"ours {mo * 1e6:7.1f} us  ours/bare {mo / mb:5.2f}  ours/(bare+json) {mo / mj:5.2f}"
    )


def _loads_record(reply: Any) -> Any:
    return json.loads(reply.record)


def _loads_records(reply: Any) -> Any:
    return [json.loads(r) for r in reply.records]


class Workload:
    """The calls of one half: (label, stub method, request factory, our call, decode).

    ``ingest_outcome`` cycles over :data:`OUTCOME_TARGETS` episodic records made by
    :meth:`add_outcome_targets` just before it runs (each target then gets only a few outcomes,
    and the retrieve measured first still sees 5 records).
    """

    def __init__(self, client: MembraneClient | AsyncMembraneClient) -> None:
        c: Any = client
        requests = {
            "Retrieve": ops.retrieve("benchmark", limit=5).request,
            "IngestEvent": ops.ingest_event("bench", "ref", summary="s").request,
            "IngestToolOutput": ops.ingest_tool_output("t", args={"a": 1}, result=[1]).request,
            "IngestObservation": ops.ingest_observation("s", "p", {"o": 1}).request,
            "IngestWorkingState": ops.ingest_working_state(
                "t1", "executing", next_actions=["x"]
            ).request,
        }
        self._outcome_requests: Iterator[Any] = iter(())
        self._outcome_ids: Iterator[str] = iter(())
        self.cases: list[tuple[str, str, Callable[[], Any], Callable[[], Any], Any]] = [
            (
                "retrieve (5 records)",
                "Retrieve",
                lambda: requests["Retrieve"],
                lambda: c.retrieve("benchmark", limit=5),
                _loads_records,
            ),
            (
                "ingest_event",
                "IngestEvent",
                lambda: requests["IngestEvent"],
                lambda: c.ingest_event("bench", "ref", summary="s"),
                _loads_record,
            ),
            (
                "ingest_tool_output",
                "IngestToolOutput",
                lambda: requests["IngestToolOutput"],
                lambda: c.ingest_tool_output("t", args={"a": 1}, result=[1]),
                _loads_record,
            ),
            (
                "ingest_observation",
                "IngestObservation",
                lambda: requests["IngestObservation"],
                lambda: c.ingest_observation("s", "p", {"o": 1}),
                _loads_record,
            ),
            (
                "ingest_working_state",
                "IngestWorkingState",
                lambda: requests["IngestWorkingState"],
                lambda: c.ingest_working_state("t1", "executing", next_actions=["x"]),
                _loads_record,
            ),
            (
                "ingest_outcome",
                "IngestOutcome",
                lambda: next(self._outcome_requests),
                lambda: c.ingest_outcome(next(self._outcome_ids), "success"),
                _loads_record,
            ),
        ]

    def add_outcome_targets(self, addr: str) -> None:
        with MembraneClient(addr, timeout=10) as seed:
            ids = [seed.ingest_event("target", f"t-{i}").id for i in range(OUTCOME_TARGETS)]
        self._outcome_requests = itertools.cycle(
            [ops.ingest_outcome(t, "success").request for t in ids]
        )
        self._outcome_ids = itertools.cycle(ids)


def _seed(addr: str) -> None:
    """The 5 records every retrieve returns."""
    with MembraneClient(addr, timeout=10) as seed:
        for i in range(5):
            seed.ingest_event("bench", f"seed-{i}", summary="seed record")


def run_sync(addr: str, calls: int) -> list[str]:
    _seed(addr)
    channel = grpc.insecure_channel(addr)
    stub: Any = membrane_pb2_grpc.MembraneServiceStub(channel)
    rows = []
    with MembraneClient(addr, timeout=10) as client:
        workload = Workload(client)
        for label, method, request, ours, decode in workload.cases:
            if method == "IngestOutcome":
                workload.add_outcome_targets(addr)
            rpc = getattr(stub, method)
            bare, bare_json, mine = interleave_sync(
                [
                    lambda rpc=rpc, request=request: rpc(request(), timeout=10),
                    lambda rpc=rpc, request=request, d=decode: d(rpc(request(), timeout=10)),
                    ours,
                ],
                calls,
            )
            rows.append(row(f"sync  {label}", bare, bare_json, mine))
    channel.close()
    return rows


async def _throughput(fn: AsyncFn, total: int, concurrency: int) -> float:
    queue = iter(range(total))

    async def worker() -> None:
        for _ in queue:
            await fn()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - start)


async def run_async(addr: str, calls: int, concurrency: int) -> list[str]:
    _seed(addr)
    channel = grpc.aio.insecure_channel(addr)
    stub: Any = membrane_pb2_grpc.MembraneServiceStub(channel)
    rows = []
    async with AsyncMembraneClient(addr, timeout=10) as client:
        workload = Workload(client)
        cases = workload.cases
        label, method, request, ours, _ = cases[0]
        retrieve_request = request()
        total = calls * 2
        bare_rps: list[float] = []
        ours_rps: list[float] = []
        for _ in range(3):  # alternate rounds; the median of each side is shown
            bare_rps.append(
                await _throughput(
                    lambda: stub.Retrieve(retrieve_request, timeout=10), total, concurrency
                )
            )
            ours_rps.append(await _throughput(ours, total, concurrency))
        b, o = statistics.median(bare_rps), statistics.median(ours_rps)
        concurrent_row = (
            f"async retrieve x{concurrency} tasks   bare {b:7.0f} calls/s  ours {o:7.0f} "
            f"calls/s  ours/bare time per call {b / o:5.2f}"
        )
        for label, method, request, ours, decode in cases:
            if method == "IngestOutcome":
                workload.add_outcome_targets(addr)
            rpc = getattr(stub, method)

            async def bare(rpc: Any = rpc, request: Any = request) -> Any:
                return await rpc(request(), timeout=10)

            async def bare_json(rpc: Any = rpc, request: Any = request, d: Any = decode) -> Any:
                return d(await rpc(request(), timeout=10))

            samples = await interleave_async([bare, bare_json, ours], calls)
            rows.append(row(f"async {label}", *samples))
        rows.append(concurrent_row)
    await channel.close()
    return rows


def reference_python() -> str | None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "reference_client_venv.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"reference client: not measured ({done.stderr.strip()})")
        return None
    return done.stdout.strip()


def run_reference(python: str, addr: str, calls: int, concurrency: int) -> list[str]:
    _seed(addr)
    done = subprocess.run(
        [python, str(WORKER), addr, str(calls), str(concurrency)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    result = json.loads(done.stdout)
    seq = result["sequential_us"]
    conc = result["concurrent_calls_per_s"]
    return [
        f"reference venv: protobuf {result['protobuf']}, grpcio {result['grpcio']}",
        f"sync  retrieve, sequential   reference bare stub {seq['bare']:7.1f} us  "
        f"reference {seq['reference']:7.1f} us  ours {seq['ours']:7.1f} us  "
        f"reference/ours {seq['reference'] / seq['ours']:5.2f}  "
        f"ours/bare {seq['ours'] / seq['bare']:5.2f}",
        f"sync  retrieve x{concurrency} threads  reference bare stub {conc['bare']:7.0f} calls/s  "
        f"reference {conc['reference']:7.0f} calls/s  ours {conc['ours']:7.0f} calls/s  "
        f"ours/reference throughput {conc['ours'] / conc['reference']:5.2f}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--no-reference", action="store_true")
    ns = parser.parse_args(argv)

    binary = find_membraned()
    if binary is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    print(f"target: membraned ({binary}), SQLite store, 127.0.0.1")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print(f"calls per measurement: {ns.calls} (rotating batches of {BATCH}); medians shown")
    started = time.perf_counter()
    with LocalMembraned(binary) as daemon:
        for line in run_sync(daemon.addr, ns.calls):
            print(line, flush=True)
    with LocalMembraned(binary) as daemon:  # a fresh store for the async half
        for line in asyncio.run(run_async(daemon.addr, ns.calls, ns.concurrency)):
            print(line, flush=True)
    if not ns.no_reference:
        python = reference_python()
        if python is not None:
            with LocalMembraned(binary) as daemon:
                for line in run_reference(python, daemon.addr, ns.calls, ns.concurrency):
                    print(line, flush=True)
    print(
        f"load average at end: {os.getloadavg()[0]:.2f}; took {time.perf_counter() - started:.0f} s"
    )
    print("aim: ours/bare <= 1.10")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
