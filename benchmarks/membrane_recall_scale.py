"""The Membrane recall index at scale: recall latency, write overhead, cold rebuild rate.

Usage::

    .venv/bin/python benchmarks/membrane_recall_scale.py [--sizes 10000 100000]
        [--queries 200] [--writes 300] [--threads 4] [--baseline-queries 20]

For each size: a fresh membraned (SQLite) and a fresh embedded index (one SQLite file, the
default embedder: WordLlama when installed, else lexical only). One container is filled with
generated records (sentences of random words from a seeded vocabulary; no dataset) through
``--threads`` clients at once, each indexing its writes into the index (the write path); then:

* **cold rebuild**: ``RecallIndex.rebuild`` into a second, empty index from the daemon alone (one
  full listing, then every record embedded and indexed), in records per second. membraned v0.2.0
  on SQLite cannot list ~32k or more records of one type ("too many SQL variables": every
  ``Retrieve`` fails), so at 100k this prints why it could not run;
* **recall**: ``MembraneClient.recall`` (k = 10, sequential, after one warm-up) p50 / p95 over
  ``--queries`` generated queries, beside the daemon's own ``Retrieve`` (limit 10, same trust)
  measured in the same run as the baseline (the first ``--baseline-queries`` only: the daemon
  loads every record on each Retrieve): the ratio says what the index costs relative to the
  daemon's cheapest read at this size;
* **rank**: the index's own share of a recall (``RecallIndex.candidates``, no daemon read) p95;
* **write overhead**: ``ingest_observation`` with and without the index attached, alternating
  (``--writes`` each); the difference of the means is what indexing adds per write.

Aims (issue 27, printed, never asserted): recall p95 <= 20 ms at 10k and <= 100 ms at 100k,
<= 2 ms added per write, cold rebuild >= 1,000 records/s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from membrane_integrations.membrane import MembraneClient  # noqa: E402
from membrane_integrations.membrane.daemon import LocalMembraned  # noqa: E402
from membrane_integrations.membrane.errors import MembraneRpcError  # noqa: E402
from membrane_integrations.membrane.recall_index import (  # noqa: E402
    RecallIndex,
    SQLiteStore,
    default_embedder,
)
from membrane_integrations.membrane.tenancy import MembraneView  # noqa: E402
from membrane_integrations.membrane.types import Sensitivity, TrustContext  # noqa: E402

SCOPE = "scale-user"
COMMON = [
    *("the", "a", "of", "to", "and", "in", "we", "my", "our", "is", "was", "will"),
    *("on", "for", "at", "with", "after", "before"),
]


def vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(size)]


def sentence(rng: random.Random, words: list[str]) -> str:
    picked = [rng.choice(words) for _ in range(rng.randint(5, 12))]
    return " ".join(w if rng.random() < 0.7 else f"{rng.choice(COMMON)} {w}" for w in picked)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fill(addr: str, key: str, texts: list[str], threads: int, index: RecallIndex) -> float:
    """Write ``texts`` as observations, ``threads`` clients indexing into ``index``; seconds."""
    chunks = [texts[i::threads] for i in range(threads)]

    def write(chunk: list[str]) -> None:
        with MembraneClient(addr, api_key=key, timeout=60) as client:
            client.recall_index = index
            for text in chunk:
                client.ingest_observation("user", "said", text, scope=SCOPE)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, chunks))
    return time.perf_counter() - start


def rebuild_rate(client: MembraneClient, view: MembraneView, path: Path) -> str:
    """Records/s of a cold rebuild into a fresh index, or why the daemon could not list."""
    cold = RecallIndex(SQLiteStore(path), embedder=default_embedder())
    try:
        start = time.perf_counter()
        added = cold.rebuild(client, view)
        return f"{added / (time.perf_counter() - start):.0f}"
    except MembraneRpcError as exc:  # v0.2.0 on SQLite: ~32k records of a type is its limit
        return f"n/a ({exc.code().name}: {str(exc.details())[:60]})"
    finally:
        cold.close()


def run_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(size)
    words = vocabulary(rng)
    texts = [sentence(rng, words) for _ in range(size)]
    queries = [
        " ".join(rng.choice(words) for _ in range(rng.randint(2, 4))) for _ in range(args.queries)
    ]
    view = MembraneView(
        TrustContext(max_sensitivity=Sensitivity.MEDIUM, actor_id="bench", scopes=[SCOPE]),
        scope=SCOPE,
    )
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, LocalMembraned(api_key="scale-bench") as daemon:
        key = daemon.api_key or ""
        index = RecallIndex(SQLiteStore(Path(tmp) / "recall.sqlite3"), embedder=default_embedder())
        seconds = fill(daemon.addr, key, texts, args.threads, index)
        out["fill records/s"] = size / seconds
        with MembraneClient(daemon.addr, api_key=key, timeout=300) as client:
            out["rebuild"] = rebuild_rate(client, view, Path(tmp) / "cold.sqlite3")
            client.recall_index = index
            client.recall("warm up", view=view, limit=10)  # registers the view (first sync)
            recall_ms, retrieve_ms = [], []
            for i, q in enumerate(queries):
                t = time.perf_counter()
                client.recall(q, view=view, limit=10)
                recall_ms.append(1000 * (time.perf_counter() - t))
                if i < args.baseline_queries:  # the daemon reads every record on each Retrieve
                    t = time.perf_counter()
                    try:
                        client.retrieve(q, trust=view.trust, limit=10)
                    except MembraneRpcError:
                        continue
                    retrieve_ms.append(1000 * (time.perf_counter() - t))
            rank_ms = []
            for q in queries:  # the index's own share: ranking, no daemon read
                t = time.perf_counter()
                index.candidates(SCOPE, q, 50)
                rank_ms.append(1000 * (time.perf_counter() - t))
            out["rank p95 ms"] = quantile(rank_ms, 0.95)
            out["recall p50 ms"] = statistics.median(recall_ms)
            out["recall p95 ms"] = quantile(recall_ms, 0.95)
            out["daemon retrieve p95 ms"] = quantile(retrieve_ms, 0.95) if retrieve_ms else None
            with_index, without = [], []
            for _ in range(args.writes):
                for attached, bucket in ((index, with_index), (None, without)):
                    client.recall_index = attached
                    t = time.perf_counter()
                    client.ingest_observation("user", "said", sentence(rng, words), scope=SCOPE)
                    bucket.append(1000 * (time.perf_counter() - t))
            out["write ms (index)"] = statistics.mean(with_index)
            out["write ms (no index)"] = statistics.mean(without)
        index.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--baseline-queries", type=int, default=20)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    embedder = default_embedder()
    print(f"embedder: {type(embedder).__name__ if embedder else 'none (lexical only)'}")
    print(
        "| records | fill rec/s | rebuild rec/s | recall p50 ms | recall p95 ms | rank p95 ms "
        "| daemon Retrieve p95 ms | p95 ratio | write ms +index | write ms plain | added ms |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for size in args.sizes:
        r = run_size(size, args)
        base = r["daemon retrieve p95 ms"]
        base_text = "fails (too many SQL variables)" if base is None else f"{base:.1f}"
        ratio = "n/a" if base is None else f"{r['recall p95 ms'] / base:.2f}"
        print(
            f"| {size} | {r['fill records/s']:.0f} | {r['rebuild']} "
            f"| {r['recall p50 ms']:.1f} | {r['recall p95 ms']:.1f} | {r['rank p95 ms']:.1f} "
            f"| {base_text} | {ratio} "
            f"| {r['write ms (index)']:.2f} | {r['write ms (no index)']:.2f} "
            f"| {r['write ms (index)'] - r['write ms (no index)']:.2f} |",
            flush=True,
        )
    print(
        "aims: recall p95 <= 20 ms at 10k, <= 100 ms at 100k; <= 2 ms added per write; "
        "rebuild >= 1,000 records/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
