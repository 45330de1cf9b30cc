"""Scope patterns in linear time, and the emulator's answers to hostile requests.

Run ``python benchmarks/scope_patterns.py`` (``--quick`` for fewer lengths). Two tables, nothing
asserted:

* ``token_matches``: the client's check of a catastrophic pattern, ``(a+)+$``, against the token
  ``"a" * n + "!"`` for growing ``n``, next to Python's ``re`` (the engine the client used
  before, a backtracking one) on the same token, measured in the same run. ``re`` is only run
  while it stays under about a second; RE2's time grows with ``n`` (per-character cost flat),
  ``re``'s doubles with each ``a``.
* probes: the hand-made requests of issue 24, sent to an emulator on loopback (status and
  latency of each), each followed by another tenant's search and ``/health`` (their status
  and time). That they keep answering while a probe is in flight is a test
  (``tests/reliability/test_rel_hostile_requests.py``), not a figure.

Run it with the worktree first on the path (``PYTHONPATH=. python benchmarks/...``) when the
editable install points at another checkout.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from membrane_integrations.core.scope import token_matches
from membrane_integrations.emulator import MembrainEmulator

CATASTROPHIC = "(a+)+$"


def _median_seconds(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def token_table(lengths: list[int], re_max: int) -> None:
    python_re = re.compile(CATASTROPHIC, re.IGNORECASE)
    print(f"token_matches([{CATASTROPHIC!r}], ['a' * n + '!'])  (median of 5)")
    print(f"{'n':>9} {'RE2 (ours)':>12} {'ns/char':>9} {'Python re':>12} {'re / RE2':>10}")
    for n in lengths:
        token = "a" * n + "!"
        ours = _median_seconds(lambda t=token: token_matches([CATASTROPHIC], [t]), 5)
        per_char = ours / (n + 1) * 1e9
        if n <= re_max:
            theirs = _median_seconds(lambda t=token: python_re.search(t), 1 if n > 20 else 3)
            rest = f"{theirs * 1e3:>10.2f}ms {theirs / ours:>9.0f}x"
        else:
            rest = f"{'(skipped)':>12} {'':>10}"
        print(f"{n:>9} {ours * 1e6:>10.1f}us {per_char:>9.1f} {rest}")


def _probes(token: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    big_id = "m" * (10 << 20)
    return [
        (
            "search (a+)+$",
            "POST",
            "/api/v1/memories/search",
            {"json": {"query": "a", "scope": [CATASTROPHIC]}},
        ),
        ("count (a+)+$", "GET", "/api/v1/memories/count", {"params": {"scope": CATASTROPHIC}}),
        (
            "bulk delete (a+)+$",
            "DELETE",
            "/api/v1/memories/bulk",
            {"params": {"scope": CATASTROPHIC}},
        ),
        (
            "create token (a+)+$",
            "POST",
            "/api/v1/memories",
            {"json": {"content": "another", "scope": [CATASTROPHIC, token]}},
        ),
        (
            "repeat a{99999999999}",
            "POST",
            "/api/v1/memories/search",
            {"json": {"query": "a", "scope": ["a{99999999999}"]}},
        ),
        (
            "lone surrogate",
            "POST",
            "/api/v1/memories",
            {
                "content": b'{"content": "tea \\ud800"}',
                "headers": {"content-type": "application/json"},
            },
        ),
        (
            "k: 1e999",
            "POST",
            "/api/v1/memories/search",
            {
                "content": b'{"query": "q", "k": 1e999}',
                "headers": {"content-type": "application/json"},
            },
        ),
        (
            "bad JSON",
            "POST",
            "/api/v1/memories/search",
            {"content": b'{"query": ', "headers": {"content-type": "application/json"}},
        ),
        ("10 MB batch id", "POST", "/api/v1/memories/batch", {"json": {"memory_ids": [big_id]}}),
        ("10 MB embeddings input", "POST", "/v1/embeddings", {"json": {"input": big_id}}),
        ("30,000-char content", "POST", "/api/v1/memories", {"json": {"content": "c" * 30_000}}),
        (
            "embeddings surrogate",
            "POST",
            "/v1/embeddings",
            {
                "content": b'{"input": "tea \\ud800"}',
                "headers": {"content-type": "application/json"},
            },
        ),
    ]


def probe_table() -> None:
    token = "a" * 40 + "!"
    with MembrainEmulator(api_keys=["emu-bench-bad", "emu-bench-other"]) as emu:
        bad = {"X-API-Key": "emu-bench-bad"}
        with emu.client("emu-bench-bad") as c:
            c.add("the token that makes backtracking explode", scope=[token])
        with emu.client("emu-bench-other") as c:
            c.add("User likes green tea", scope=["container.other"])
        print("\nprobes (issue 24); then another tenant's search and /health")
        print(f"{'probe':<24} {'status':>6} {'latency':>9} {'reply':>8}   other search, /health")
        with (
            httpx.Client(base_url=emu.url, headers=bad, timeout=60) as raw,
            httpx.Client(base_url=emu.url, headers={"X-API-Key": "emu-bench-other"}) as other,
        ):
            for name, method, path, kwargs in _probes(token):
                start = time.perf_counter()
                reply = raw.request(method, path, **kwargs)
                took = time.perf_counter() - start
                start = time.perf_counter()
                searched = other.post("/api/v1/memories/search", json={"query": "tea", "k": 1})
                health = other.get("/health")
                after = time.perf_counter() - start
                print(
                    f"{name:<24} {reply.status_code:>6} {took * 1e3:>7.1f}ms "
                    f"{len(reply.content):>7}B   {searched.status_code}, {health.status_code} "
                    f"({after * 1e3:.1f}ms)"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    lengths = (
        [16, 18, 20, 22, 1_000, 100_000]
        if args.quick
        else [16, 18, 20, 22, 24, 100, 1_000, 10_000, 100_000, 1_000_000]
    )
    token_table(lengths, re_max=22 if args.quick else 24)
    probe_table()


if __name__ == "__main__":
    main()
