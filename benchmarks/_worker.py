"""Benchmark clients in one process, driven over stdin/stdout so the harness can interleave them.

``python benchmarks/_worker.py CLIENT[,CLIENT...] --url URL --api-key KEY [--ca-bundle PEM]``
builds each client once, prints ``{"ready": true}``, then answers one JSON line per command
line, keyed by client. The clients of one process take turns request by request (their order
rotating), so that whatever else the machine is doing hits all of them alike:

* ``{"op": "warmup", "n": 5}``: ``n`` untimed searches each;
* ``{"op": "search_seq", "n": 50}``: ``n`` turns of one timed search each;
* ``{"op": "search_conc", "n": 100, "rounds": 3}``: each round, each client runs ``n``
  searches at once (``asyncio.gather``); the wall time of each;
* ``{"op": "add", "n": 10}``: ``n`` turns of one timed add each, with its job polling to the end;
* ``{"op": "job_times"}``: the server's own duration of every job each client added
  (``updated_at - created_at`` of the final job record), read with a separate client;
* ``{"op": "quit"}`` or end of input: close the clients and exit.

A CLIENT is ``raw`` (one pooled ``httpx.AsyncClient`` posting the search body: the floor),
``ours`` (``AsyncMembrainClient``), ``ours-sync`` (``MembrainClient``) or ``peer`` (the published
``membrain_langchain.MembrainClient``, run with the interpreter of the benchmark's own virtual
environment; it trusts ``SSL_CERT_FILE``, which the harness sets). Only the standard library and
httpx are imported at module level, so this file runs in either environment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

QUERIES = [
    "what does the user drink in the morning",
    "family members and their jobs",
    "health and allergies",
    "travel plans",
    "hobbies and sport",
]
SCOPE = ["container.bench"]
K = 5


def _fact(tag: str, i: int) -> str:
    return f"Benchmark fact {i} written by {tag} at {time.time_ns()}: the user owns {i} plants."


class Driver:
    """What the harness measures: a search, an add that waits for its job, and clean-up."""

    name = ""
    concurrent = True
    adds = True

    def __init__(self) -> None:
        self.job_ids: list[str] = []

    async def search(self, i: int) -> object:
        raise TypeError(f"{type(self).__name__} cannot search")

    async def add(self, i: int) -> object:
        raise TypeError(f"{type(self).__name__} does not add")

    async def aclose(self) -> None:
        """Release the client."""


class RawDriver(Driver):
    """The floor: one pooled ``httpx.AsyncClient`` sending the bodies our client sends.

    Its add polls the job again the moment a reply says it is not done (no sleep at all): the
    lowest latency any client can have, at a load on the server no real client should make.
    """

    def __init__(self, url: str, api_key: str, verify: Any) -> None:
        super().__init__()
        self._root = f"{url}/api/v1"
        self._url = f"{url}/api/v1/memories/search"
        self._http = httpx.AsyncClient(verify=verify, headers={"X-API-Key": api_key})

    async def add(self, i: int) -> object:
        body = {"content": _fact("raw", i), "scope": SCOPE}
        accepted = await self._http.post(f"{self._root}/memories", json=body)
        accepted.raise_for_status()
        job_id = accepted.json()["job_id"]
        self.job_ids.append(job_id)
        while True:
            job = (await self._http.get(f"{self._root}/memories/jobs/{job_id}")).json()
            if job["status"] in ("completed", "failed"):
                return job

    async def search(self, i: int) -> object:
        # The very body our client sends, so that the server does the same work for both.
        body = {
            "query": QUERIES[i % len(QUERIES)],
            "k": K,
            "response_format": "raw",
            "rerank": False,
            "full_scope": False,
            "scope": SCOPE,
        }
        response = await self._http.post(self._url, json=body)
        response.raise_for_status()
        return response.json()

    async def aclose(self) -> None:
        await self._http.aclose()


class OursDriver(Driver):
    """``AsyncMembrainClient``; TLS trust comes in through ``http_client=``."""

    def __init__(self, url: str, api_key: str, verify: Any) -> None:
        super().__init__()
        from membrane_integrations.membrain import AsyncMembrainClient

        self._http = httpx.AsyncClient(verify=verify) if verify is not True else None
        self._client = AsyncMembrainClient(api_key, base_url=url, http_client=self._http)

    async def search(self, i: int) -> object:
        return await self._client.search(QUERIES[i % len(QUERIES)], k=K, scope=SCOPE)

    async def add(self, i: int) -> object:
        # add(wait=False) + wait_for_job is the same flow as add(wait=True), with the job id known.
        accepted = await self._client.add(_fact("ours", i), scope=SCOPE, wait=False)
        self.job_ids.append(accepted.job_id)
        return await self._client.wait_for_job(accepted.job_id)

    async def aclose(self) -> None:
        await self._client.aclose()
        if self._http is not None:
            await self._http.aclose()


class OursSyncDriver(Driver):
    """``MembrainClient`` (blocking; run sequentially only)."""

    concurrent = False

    def __init__(self, url: str, api_key: str, verify: Any) -> None:
        super().__init__()
        from membrane_integrations.membrain import MembrainClient

        self._http = httpx.Client(verify=verify) if verify is not True else None
        self._client = MembrainClient(api_key, base_url=url, http_client=self._http)

    async def search(self, i: int) -> object:
        return self._client.search(QUERIES[i % len(QUERIES)], k=K, scope=SCOPE)

    async def add(self, i: int) -> object:
        accepted = self._client.add(_fact("ours-sync", i), scope=SCOPE, wait=False)
        self.job_ids.append(accepted.job_id)
        return self._client.wait_for_job(accepted.job_id)

    async def aclose(self) -> None:
        self._client.close()
        if self._http is not None:
            self._http.close()


class PeerDriver(Driver):
    """``membrain_langchain.MembrainClient`` 0.1.0 with its defaults."""

    def __init__(self, url: str, api_key: str, verify: Any) -> None:
        super().__init__()
        from membrain_langchain import MembrainClient as PeerClient  # type: ignore[import-not-found]

        self._client = PeerClient(api_key=api_key, base_url=url)

    async def search(self, i: int) -> object:
        return await self._client.search(QUERIES[i % len(QUERIES)], k=K, scope=SCOPE)

    async def add(self, i: int) -> object:
        # Exactly what add_memory(wait=True) does, split so that the job id is known.
        job = await self._client.add_memory(_fact("peer", i), scope=SCOPE, wait=False)
        self.job_ids.append(job["job_id"])
        return await self._client._poll_job(job["job_id"])


DRIVERS: dict[str, Callable[[str, str, Any], Driver]] = {
    "raw": RawDriver,
    "ours": OursDriver,
    "ours-sync": OursSyncDriver,
    "peer": PeerDriver,
}


Op = Callable[[int], Awaitable[object]]


def _rotated(drivers: list[Driver], i: int) -> list[Driver]:
    k = i % len(drivers)
    return drivers[k:] + drivers[:k]


async def _alternating(drivers: list[Driver], op: str, n: int) -> dict[str, Any]:
    """``n`` rounds; in each, every driver does one ``op`` (order rotating), each one timed."""
    runs: dict[str, dict[str, Any]] = {
        d.name: {"n": n, "total_s": 0.0, "per_op_ms": []} for d in drivers
    }
    for i in range(n):
        for driver in _rotated(drivers, i):
            call: Op = getattr(driver, op)
            t0 = time.perf_counter()
            await call(i)
            elapsed = time.perf_counter() - t0
            runs[driver.name]["total_s"] += elapsed
            runs[driver.name]["per_op_ms"].append(elapsed * 1000)
    return runs


async def _concurrent(drivers: list[Driver], n: int, rounds: int) -> dict[str, Any]:
    """``rounds`` rounds; in each, every driver runs ``n`` searches at once; wall times."""
    walls: dict[str, list[float]] = {d.name: [] for d in drivers if d.concurrent}
    for r in range(rounds):
        for driver in _rotated([d for d in drivers if d.concurrent], r):
            started = time.perf_counter()
            await asyncio.gather(*(driver.search(i) for i in range(n)))
            walls[driver.name].append(time.perf_counter() - started)
    return {name: {"n": n, "walls_s": w} for name, w in walls.items()}


async def _server_job_ms(url: str, key: str, verify: Any, job_ids: list[str]) -> list[float]:
    out: list[float] = []
    async with httpx.AsyncClient(verify=verify, headers={"X-API-Key": key}) as http:
        for job_id in job_ids:
            job = (await http.get(f"{url}/api/v1/memories/jobs/{job_id}")).json()
            created = datetime.fromisoformat(job["created_at"].replace("Z", "+00:00"))
            updated = datetime.fromisoformat(job["updated_at"].replace("Z", "+00:00"))
            out.append((updated - created).total_seconds() * 1000)
    return out


async def _execute(
    drivers: list[Driver], args: argparse.Namespace, verify: Any, cmd: dict[str, Any]
) -> dict[str, Any]:
    op, n = cmd["op"], int(cmd.get("n", 0))
    if op == "warmup":
        for i in range(n):
            for driver in drivers:
                await driver.search(i)
        return {}
    if op == "search_seq":
        return await _alternating(drivers, "search", n)
    if op == "search_conc":
        return await _concurrent(drivers, n, int(cmd.get("rounds", 1)))
    if op == "add":
        return await _alternating([d for d in drivers if d.adds], "add", n)
    if op == "job_times":
        return {
            d.name: {
                "server_job_ms": await _server_job_ms(args.url, args.api_key, verify, d.job_ids)
            }
            for d in drivers
            if d.adds
        }
    raise ValueError(f"unknown op {op!r}")


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def serve(args: argparse.Namespace) -> None:
    verify: Any = ssl.create_default_context(cafile=args.ca_bundle) if args.ca_bundle else True
    drivers = [DRIVERS[name](args.url, args.api_key, verify) for name in args.clients.split(",")]
    for name, driver in zip(args.clients.split(","), drivers, strict=True):
        driver.name = name
    _emit({"ready": True})
    try:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line.strip():
                break
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            try:
                _emit(await _execute(drivers, args, verify, cmd))
            except Exception as exc:
                _emit({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        for driver in drivers:
            await driver.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clients", help=f"comma-separated, of: {', '.join(DRIVERS)}")
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--ca-bundle")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
