"""How the Membrain emulator scales: ingest throughput and search latency at 1k, 10k, 100k.

For each size the script builds a fresh emulator (in memory), ingests synthetic atomic facts
spread over 50 containers, then times searches through the real HTTP client on loopback:

* ``ingest``: sizes up to ``--linked-max`` (default 10k) go through ``Engine.ingest_now``, the
  code path of the ingest worker (embedding, near-duplicate check, linking to neighbours with
  embedded descriptions); larger sizes use ``Engine.bulk_load`` (embedding and storage only, no
  linking), and the table says which. A sample of ``--http-adds`` adds also goes through
  ``MembrainClient.add`` (POST + job polling) to show the per-request cost.
* ``search``: ``--queries`` searches with ``k=10`` through ``MembrainClient.search`` (raw,
  nodes and edges), without and with a container scope filter; p50 and p95 in milliseconds.
* ``recall``: recall@1 and recall@3 of the emulator's search on the labelled paraphrase set
  (``benchmarks/data/paraphrase_recall.json``: questions that share no content word with their
  fact) with each embedder, WordLlama and hashing, so the quality bought by the model is next
  to its cost in the latency table (which uses ``--embedder``, WordLlama by default).
* ``baseline``: the same unscoped search scored row by row in Python instead of one
  matrix-vector product, measured in the same run on the smallest size, so the speed-up of the
  vectorised search is a ratio, not a number from another machine.

Run: ``python benchmarks/emulator_scale.py --sizes 1000,10000`` (add 100000 for the large run).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from membrane_integrations.emulator import HashingEmbeddings, MembrainEmulator, make_embedder
from membrane_integrations.emulator.embeddings import embed_query_vector
from membrane_integrations.emulator.selection import describe_embedder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _paraphrase import measure

SUBJECTS = ["User", "The team", "Alice", "Bob", "The customer", "Our vendor", "The manager"]
VERBS = ["likes", "prefers", "avoids", "needs", "bought", "reviewed", "scheduled", "mentioned"]
ADJECTIVES = [
    "green",
    "quiet",
    "fast",
    "cheap",
    "vegetarian",
    "remote",
    "secure",
    "weekly",
    "urgent",
    "spicy",
    "small",
    "annual",
    "local",
    "early",
    "shared",
]
NOUNS = [
    "tea",
    "coffee",
    "deploy",
    "laptop",
    "restaurant",
    "meeting",
    "invoice",
    "flight",
    "database",
    "report",
    "gym",
    "budget",
    "office",
    "backup",
    "train",
    "dashboard",
    "contract",
    "holiday",
    "review",
    "migration",
]
PLACES = [
    "in Berlin",
    "on Fridays",
    "before lunch",
    "for the launch",
    "at home",
    "in March",
    "with the client",
    "after the audit",
    "near the station",
    "for Q3",
]
QUESTIONS = [
    "What does the user like to drink?",
    "When is the deploy scheduled?",
    "Which restaurants does the user prefer?",
    "What did Alice review?",
    "What is urgent for the launch?",
    "Where is the office?",
    "What budget did the manager mention?",
    "Which flight was bought?",
]


def facts(n: int, seed: int = 7) -> list[tuple[str, list[str], None]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text = (
            f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} the {rng.choice(ADJECTIVES)} "
            f"{rng.choice(NOUNS)} {rng.choice(PLACES)} (note {i})"
        )
        out.append((text, [f"container.c{i % 50}", f"type.t{i % 7}"], None))
    return out


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50 * 1000, p95 * 1000


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def peak_rss_mb() -> float:
    """The process's peak resident set so far (sizes run in increasing order, so after the
    largest it is that size's peak: engine, SQLite rows, index and the benchmark's own data)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def run_size(n: int, args: argparse.Namespace) -> dict[str, float | str]:
    data = facts(n)
    with MembrainEmulator(embedder=args.embedder) as emu:
        engine = emu.engine
        tenant = engine.tenant_id(emu.api_key)
        started = time.perf_counter()
        if n <= args.linked_max:
            actions = [engine.ingest_now(tenant, c, s, cat)[1] for c, s, cat in data]
            path = "linked"
            updated = actions.count("updated")
        else:
            for start in range(0, n, 5000):
                engine.bulk_load(tenant, data[start : start + 5000])
            path = "bulk"
            updated = 0
        ingest_s = time.perf_counter() - started
        stats = engine.stats(tenant)
        with emu.client(timeout=60) as client:
            http_started = time.perf_counter()
            for i in range(args.http_adds):
                client.add(f"HTTP sample fact number {i} about tea", scope=["container.http"])
            http_rate = args.http_adds / (time.perf_counter() - http_started)
            queries = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.queries)]
            for q in QUESTIONS:  # warm the index, the scope masks and the connection
                client.search(q, k=10)
                client.search(q, k=10, scope=["^container\\.c7$"])
            it = iter(queries)
            plain = timed(lambda: client.search(next(it), k=10), args.queries)
            it = iter(queries)
            scoped = timed(
                lambda: client.search(next(it), k=10, scope=["^container\\.c7$"]), args.queries
            )
            engine_only = timed(lambda: engine.search(tenant, QUESTIONS[0], k=10), args.queries)
        baseline = None
        if args.baseline:
            idx = engine.store.index(tenant)
            rows = idx.nodes.view()
            qvec = embed_query_vector(engine.embeddings, QUESTIONS[0])

            def loop() -> None:
                scores = [float(np.dot(rows[i], qvec)) for i in range(len(rows))]
                sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:10]

            def vectorised() -> None:
                scores = idx.node_scores(qvec)
                np.argpartition(-scores, 10)[:10]

            repeat = max(5, args.queries // 10)
            baseline = (
                percentiles(timed(loop, repeat))[0],
                percentiles(timed(vectorised, repeat))[0],
            )
    p50, p95 = percentiles(plain)
    s50, s95 = percentiles(scoped)
    e50, _ = percentiles(engine_only)
    result: dict[str, float | str] = {
        "size": n,
        "path": path,
        "ingest_per_s": n / ingest_s,
        "updated": updated,
        "links": stats["total_links"],
        "http_adds_per_s": http_rate,
        "p50": p50,
        "p95": p95,
        "scoped_p50": s50,
        "scoped_p95": s95,
        "engine_p50": e50,
        "rss_mb": peak_rss_mb(),
    }
    if baseline is not None:
        result["loop_p50"], result["matrix_p50"] = baseline
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--http-adds", type=int, default=100)
    parser.add_argument("--linked-max", type=int, default=10_000)
    parser.add_argument("--embedder", choices=["auto", "wordllama", "hashing"], default="auto")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    started = time.perf_counter()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print("recall on the labelled paraphrase set (emulator search, k=3):")
    for name, embedder in (
        ("wordllama", make_embedder("wordllama")),
        ("hashing", HashingEmbeddings()),
    ):
        r = measure(embedder)
        print(f"  {name:<10} recall@1={r.at1:.2f} recall@3={r.at3:.2f} ({r.total} questions)")
    print(f"\nlatency with: {describe_embedder(make_embedder(args.embedder))}")
    print(
        f"{'size':>7} {'ingest':>7} {'mem/s':>8} {'merged':>6} {'links':>7} {'client add/s':>12} "
        f"{'search p50':>10} {'p95':>7} {'scoped p50':>10} {'p95':>7} {'engine p50':>10} "
        f"{'peak RSS':>9}"
    )
    baseline_ms = None
    for i, n in enumerate(sizes):
        args.baseline = i == 0
        r = run_size(n, args)
        print(
            f"{r['size']:>7} {r['path']:>7} {r['ingest_per_s']:>8.0f} {r['updated']:>6} "
            f"{r['links']:>7} {r['http_adds_per_s']:>12.0f} {r['p50']:>8.2f}ms "
            f"{r['p95']:>5.2f}ms {r['scoped_p50']:>8.2f}ms {r['scoped_p95']:>5.2f}ms "
            f"{r['engine_p50']:>8.2f}ms {r['rss_mb']:>7.0f}MB",
            flush=True,
        )
        if "loop_p50" in r:
            baseline_ms = (float(r["loop_p50"]), float(r["matrix_p50"]), n)
    if baseline_ms is not None:
        loop_ms, matrix_ms, n = baseline_ms
        print(
            f"\nbaseline at {n}: scoring rows one by one in Python takes {loop_ms:.2f} ms per "
            f"query, the cached matrix-vector product {matrix_ms:.3f} ms "
            f"({loop_ms / matrix_ms:.0f}x faster)."
        )
    print("ingest 'linked' = the worker's full path (dedupe + linking); 'bulk' = no linking.")
    print("Aim: search p50 (client, unscoped and scoped) within 20 ms at 100k memories.")
    print(
        f"load average at end: {os.getloadavg()[0]:.2f}; took {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
