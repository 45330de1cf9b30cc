"""What serving a memory tool over MCP (stdio) adds to calling the LangChain tool directly.

Run ``python benchmarks/mcp_overhead.py`` (``--runs N``, default 200; ``--no-membrane`` skips the
daemon). One Membrain emulator runs in its own process (hashing embedder, 20 memories in the
container), and, when membraned is found, one real daemon. The same run then times each tool
both ways, rounds interleaved after a warm-up:

* ``direct``: the LangChain tool from ``MembrainToolkit`` / ``MembraneToolkit``, ``ainvoke``'d
  in this process on the async client;
* ``mcp stdio``: ``ClientSession.call_tool`` of the ``mcp`` SDK against
  ``python -m membrane_integrations mcp ...`` spawned over stdio (the same tool definition,
  serialized as JSON-RPC through two pipes and a second process).

It prints p50 and p95 of each, what MCP adds (``mcp - direct`` at p50; the aim is at most
2 ms), the p50 of the shared tool definition driven alone in this process (no LangChain, no
MCP: what both surfaces wrap), and the p50 of a bare MCP ``ping`` on the same session: the
protocol's own round trip (pipes, JSON-RPC, the SDK's session tasks), the floor of what any
tool call over stdio adds.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from membrane_integrations.core.plan import drive_async
from membrane_integrations.langchain import MembrainToolkit, MembraneToolkit
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient
from membrane_integrations.membrain.tenancy import Tenancy
from membrane_integrations.membrane import AsyncMembraneClient, Sensitivity, TrustContext
from membrane_integrations.membrane.daemon import LocalMembraned, free_port, resolve_membraned

ROOT = Path(__file__).resolve().parents[1]
KEY = "mcp-overhead-bench-key"
CONTAINER = "bench"


@contextmanager
def emulator_process() -> Iterator[str]:
    """``python -m membrane_integrations emulator`` on a free port; yields its URL when up."""
    port = free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "membrane_integrations", "emulator", "--port", str(port)),
            *("--embedder", "hashing", "--api-key", KEY, "--log-level", "warning"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 60
    try:
        while True:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            if line is None:
                raise RuntimeError("the emulator exited before it was ready")
            if line.startswith("Membrain emulator listening on "):
                yield line.split()[4]
                return
    finally:
        process.terminate()
        process.wait(timeout=15)


async def _timed(step: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await step()
    return (time.perf_counter() - start) * 1e3


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


async def compare(
    label: str,
    tool: Any,
    args: dict[str, Any],
    params: StdioServerParameters,
    runs: int,
) -> None:
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        first = await session.call_tool(tool.name, args)
        direct_text = await tool.ainvoke(args)
        assert not first.isError and first.content[0].text == direct_text, "not the same reply"

        async def over_mcp() -> None:
            await session.call_tool(tool.name, args)

        async def direct() -> None:
            await tool.ainvoke(args)

        async def definition() -> None:  # the shared tool definition alone, no framework
            plan = tool.spec.plan(tool.settings, tool.spec.validate(args))
            await drive_async(plan, tool.clients.for_async())

        for _ in range(max(runs // 10, 10)):  # warm-up: connections, caches, code paths
            await over_mcp()
            await direct()
        mcp_ms: list[float] = []
        direct_ms: list[float] = []
        bare_ms: list[float] = []
        for _ in range(runs):
            direct_ms.append(await _timed(direct))
            mcp_ms.append(await _timed(over_mcp))
            bare_ms.append(await _timed(definition))
        ping_ms = [await _timed(session.send_ping) for _ in range(runs)]
    d50, m50 = statistics.median(direct_ms), statistics.median(mcp_ms)
    print(
        f"{label:<30} {d50:8.2f} {_p(direct_ms, 0.95):8.2f}   {m50:8.2f} {_p(mcp_ms, 0.95):8.2f}"
        f"   {m50 - d50:+8.2f} ms  ({m50 / d50:.2f}x)   {statistics.median(bare_ms):8.2f}"
        f" {statistics.median(ping_ms):8.2f}"
    )


def _server(backend: str, env: dict[str, str], *extra: str) -> StdioServerParameters:
    args = ["-m", "membrane_integrations", "mcp", backend, "--container", CONTAINER, *extra]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MEMBRAIN_", "MEMBRANE_"))}
    return StdioServerParameters(
        command=sys.executable, args=args, env={**base, **env}, cwd=str(ROOT)
    )


async def membrain(url: str, runs: int) -> None:
    with MembrainClient(KEY, base_url=url) as seed:
        tokens = Tenancy(CONTAINER).write_tokens(None)
        for i in range(20):
            seed.add(f"Bench fact {i}: the user likes item {i}", scope=tokens, wait=True)
    async with AsyncMembrainClient(KEY, base_url=url) as client:
        tools = {t.name: t for t in MembrainToolkit(client=client, container=CONTAINER).get_tools()}
        params = _server("membrain", {"MEMBRAIN_BASE_URL": url, "MEMBRAIN_API_KEY": KEY})
        await compare("membrain_stats (count)", tools["membrain_stats"], {}, params, runs)
        search = {"query": "What does the user like?", "k": 5}
        await compare("membrain_search (k=5)", tools["membrain_search"], search, params, runs)


async def membrane(runs: int) -> None:
    found = resolve_membraned(log=None)
    with LocalMembraned(found.path, api_key=KEY) as daemon:
        async with AsyncMembraneClient(daemon.addr, api_key=KEY) as client:
            kit = MembraneToolkit(
                client=client,
                trust=TrustContext(max_sensitivity=Sensitivity.LOW, authenticated=True),
                actor=f"mcp:{CONTAINER}",
                scope=CONTAINER,
                source="mcp",
            )
            tools = {t.name: t for t in kit.get_tools()}
            for i in range(20):
                await tools["membrane_ingest_observation"].ainvoke(
                    {"subject": "user", "predicate": f"likes item {i}", "object": i}
                )
            params = _server("membrane", {"MEMBRANE_ADDR": daemon.addr, "MEMBRANE_API_KEY": KEY})
            args = {"task_descriptor": "what does the user like?", "limit": 5}
            await compare(
                "membrane_retrieve (limit=5)", tools["membrane_retrieve"], args, params, runs
            )


async def main(runs: int, with_membrane: bool) -> None:
    print(f"{runs} interleaved calls per tool after a warm-up; milliseconds per call\n")
    print(
        f"{'tool':<30} {'direct':>8} {'':>8}   {'mcp stdio':>8} {'':>8}   {'added':>8}"
        f" {'':>10}   {'bare def':>8} {'mcp ping':>8}"
    )
    print(
        f"{'':<30} {'p50':>8} {'p95':>8}   {'p50':>8} {'p95':>8}   {'p50':>8} {'':>10}"
        f"   {'p50':>8} {'p50':>8}"
    )
    with emulator_process() as url:
        await membrain(url, runs)
    if with_membrane:
        try:
            await membrane(runs)
        except Exception as exc:  # no daemon here: say so, the Membrain figures stand
            print(f"membrane: skipped ({type(exc).__name__}: {exc})")
    print("\nadded = what the MCP hop costs on top of the LangChain tool (aim: <= 2 ms at p50)")
    print("bare def = the shared tool definition driven alone (no LangChain, no MCP)")
    print("mcp ping = a bare MCP round trip on the same stdio session (the protocol's floor)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--no-membrane", action="store_true")
    options = parser.parse_args()
    asyncio.run(main(options.runs, not options.no_membrane))
