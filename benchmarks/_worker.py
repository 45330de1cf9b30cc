"""One client of the benchmark, driven over stdin/stdout so the harness can interleave clients.

``python benchmarks/_worker.py CLIENT --url URL --api-key KEY [--ca-bundle PEM]`` builds the
client once, prints ``{"ready": true}``, then answers one JSON line per command line:

* ``{"op": "warmup", "n": 5}``: ``n`` untimed searches;
* ``{"op": "search_seq", "n": 50}``: ``n`` searches one after another, each timed;
* ``{"op": "search_conc", "n": 100}``: ``n`` searches at once (``asyncio.gather``), wall time;
* ``{"op": "add", "n": 10}``: ``n`` adds, each with its job polling to the end, each timed;
* ``{"op": "job_times"}``: the server's own duration of every job added so far
  (``updated_at - created_at`` of the final job record), read with a separate client;
* ``{"op": "quit"}`` or end of input: close the client and exit.

CLIENT is ``raw`` (one pooled ``httpx.AsyncClient`` posting the search body: the floor),
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

    concurrent = True

    def __init__(self) -> None:
        self.job_ids: list[str] = []

    async def search(self, i: int) -> object:
        raise TypeError(f"{type(self).__name__} cannot search")

    async def add(self, i: int) -> object:
        raise TypeError(f"{type(self).__name__} does not add")

    async def aclose(self) -> None:
        """Release the client."""


class RawDriver(Driver):
    """The floor: one pooled ``httpx.AsyncClient`` posting the same search body."""

    def __init__(self, url: str, api_key: str, verify: Any) -> None:
        super().__init__()
        self._url = f"{url}/api/v1/memories/search"
        self._http = httpx.AsyncClient(verify=verify, headers={"X-API-Key": api_key})

    async def search(self, i: int) -> object:
        body = {"query": QUERIES[i % len(QUERIES)], "k": K, "scope": SCOPE}
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


async def _sequential(op: Callable[[int], Awaitable[object]], n: int) -> dict[str, Any]:
    per_op: list[float] = []
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        await op(i)
        per_op.append((time.perf_counter() - t0) * 1000)
    return {"n": n, "total_s": time.perf_counter() - started, "per_op_ms": per_op}


async def _concurrent(op: Callable[[int], Awaitable[object]], n: int) -> dict[str, Any]:
    started = time.perf_counter()
    await asyncio.gather(*(op(i) for i in range(n)))
    return {"n": n, "total_s": time.perf_counter() - started}


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
    driver: Driver, args: argparse.Namespace, verify: Any, cmd: dict[str, Any]
) -> dict[str, Any]:
    op, n = cmd["op"], int(cmd.get("n", 0))
    if op == "warmup":
        for i in range(n):
            await driver.search(i)
        return {}
    if op == "search_seq":
        return await _sequential(driver.search, n)
    if op == "search_conc":
        return await _concurrent(driver.search, n)
    if op == "add":
        return await _sequential(driver.add, n)
    if op == "job_times":
        ms = await _server_job_ms(args.url, args.api_key, verify, driver.job_ids)
        return {"server_job_ms": ms}
    raise ValueError(f"unknown op {op!r}")


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def serve(args: argparse.Namespace) -> None:
    verify: Any = ssl.create_default_context(cafile=args.ca_bundle) if args.ca_bundle else True
    driver = DRIVERS[args.client](args.url, args.api_key, verify)
    _emit({"ready": True, "concurrent": driver.concurrent})
    try:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line.strip():
                break
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            try:
                _emit(await _execute(driver, args, verify, cmd))
            except Exception as exc:
                _emit({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        await driver.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("client", choices=sorted(DRIVERS))
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--ca-bundle")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
