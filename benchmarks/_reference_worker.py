"""Runs in the reference client's venv (see membrane_overhead.py): reference vs ours, one process.

``python _reference_worker.py ADDR CALLS CONCURRENCY`` with ``PYTHONPATH`` at the repository root;
prints JSON: median sequential retrieve latency (reference bare stub, reference client, our sync
client; rotating batches) and retrieve throughput from a pool of CONCURRENCY threads sharing one
client (median of 3 rounds each).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import google.protobuf
import grpc
from membrane import MembraneClient as ReferenceClient
from membrane.v1 import membrane_pb2, membrane_pb2_grpc

from membrane_integrations.membrane import MembraneClient

BATCH = 50


def _time(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _throughput(fn: Callable[[], Any], total: int, threads: int) -> float:
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: fn(), range(threads)))  # warm the threads
        start = time.perf_counter()
        list(pool.map(lambda _: fn(), range(total)))
        return total / (time.perf_counter() - start)


def main() -> int:
    addr, calls, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    channel = grpc.insecure_channel(addr)
    stub: Any = membrane_pb2_grpc.MembraneServiceStub(channel)
    request = membrane_pb2.RetrieveRequest(
        task_descriptor="benchmark",
        trust=membrane_pb2.TrustContext(max_sensitivity="low"),
        limit=5,
    )
    reference = ReferenceClient(addr, timeout=10)
    ours = MembraneClient(addr, timeout=10)
    fns: dict[str, Callable[[], Any]] = {
        "bare": lambda: stub.Retrieve(request, timeout=10),
        "reference": lambda: reference.retrieve("benchmark", limit=5),
        "ours": lambda: ours.retrieve("benchmark", limit=5),
    }
    assert len(fns["reference"]()) == len(fns["ours"]()) == 5
    names = list(fns)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for name in names:
        _time(fns[name], BATCH)
    for round_ in range(calls // BATCH):
        for k in range(len(names)):
            name = names[(round_ + k) % len(names)]
            samples[name] += _time(fns[name], BATCH)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(3):
        for name in names:
            rates[name].append(_throughput(fns[name], calls * 2, concurrency))
    json.dump(
        {
            "protobuf": google.protobuf.__version__,
            "grpcio": grpc.__version__,
            "sequential_us": {n: statistics.median(s) * 1e6 for n, s in samples.items()},
            "concurrent_calls_per_s": {n: statistics.median(r) for n, r in rates.items()},
        },
        sys.stdout,
    )
    reference.close()
    ours.close()
    channel.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
