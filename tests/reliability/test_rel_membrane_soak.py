"""Membrane: a bounded soak of mixed load through the AutoGen memory and the LangChain tools.

Against the real membraned on a SQLite file, for ``REL_MEMBRANE_SOAK_SECONDS`` (default 12; the
figures in docs/reliability.md come from a 60 s run), concurrently:

* AutoGen sessions: each opens a :class:`MembraneMemory` (its own gRPC channel), adds three
  facts, queries, and closes it; one long-lived memory does the same all along.
* LangChain sessions: each builds a :class:`MembraneToolkit` over a new sync and async client,
  ingests and retrieves through the tools with ``ainvoke`` and (on a worker thread) ``invoke``,
  and closes both clients.

Afterwards the process must hold no more gRPC channels, asyncio tasks, Python threads, OS threads
or file descriptors than after one warm-up session of each kind (a small slack for OS threads
and descriptors that grpc's core keeps per process). RSS is sampled during the run and the second
half's median is compared with the first half's: printed, never asserted (it is timing-like).
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest

from membrane_integrations.core.errors import MembraneIntegrationsError
from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from tests.reliability.membrane_servers import DEADLINE
from tests.support.membraned import Membraned, require_daemon

autogen_memory = pytest.importorskip("autogen_core.memory")
pytest.importorskip("langchain_core")

from membrane_integrations.autogen import MembraneMemory, MembraneMemoryConfig  # noqa: E402
from membrane_integrations.langchain.membrane_toolkit import MembraneToolkit  # noqa: E402

pytestmark = pytest.mark.live

KEY = "rel-membrane-soak-key"
SECONDS = float(os.environ.get("REL_MEMBRANE_SOAK_SECONDS", "12"))
AUTOGEN_WORKERS = 3
LANGCHAIN_WORKERS = 2
FD_SLACK = 4  # grpc core may keep a process-wide descriptor or two (event engine, wakeups)
OS_THREAD_SLACK = 4
PAGE = os.sysconf("SC_PAGE_SIZE")


# The event loop's default executor (``asyncio.to_thread``: the recall index ranks off the loop)
# starts its workers lazily and keeps them; the pool is bounded, so its workers are counted apart
# and held to the executor's own bound rather than to the baseline.
_LOOP_WORKER = "asyncio_"
_LOOP_WORKERS_MAX = min(32, (os.cpu_count() or 1) + 4)


def counts() -> dict[str, int]:
    gc.collect()
    channels = sum(isinstance(o, (grpc.Channel, grpc.aio.Channel)) for o in gc.get_objects())
    names = [thread.name for thread in threading.enumerate()]
    loop_workers = sum(name.startswith(_LOOP_WORKER) for name in names)
    return {
        "fds": len(os.listdir("/proc/self/fd")),
        "python threads": len(names) - loop_workers,
        "loop executor threads": loop_workers,
        "os threads": len(os.listdir("/proc/self/task")) - loop_workers,
        "asyncio tasks": len(asyncio.all_tasks()),
        "grpc channels": channels,
    }


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def tool_call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_call", "id": f"call-{name}", "name": name, "args": args}


class Soak:
    def __init__(self, addr: str, pool: ThreadPoolExecutor) -> None:
        self.addr = addr
        self.pool = pool
        self.outcomes: Counter[str] = Counter()

    def note_error(self, where: str, exc: MembraneIntegrationsError) -> None:
        self.outcomes[f"{where} {type(exc).__name__}"] += 1

    def memory(self, container: str) -> MembraneMemory:
        config = MembraneMemoryConfig(container=container, addr=self.addr, api_key=KEY, timeout=30)
        return MembraneMemory(config)

    async def autogen_round(self, memory: MembraneMemory, label: str) -> None:
        for i in range(3):
            content = autogen_memory.MemoryContent(
                content=f"{label} fact {i}",
                mime_type=autogen_memory.MemoryMimeType.TEXT,
                metadata={"predicate": "soak"},
            )
            await memory.add(content)
            self.outcomes["autogen add ok"] += 1
        try:
            await memory.query(f"what do we know about {label}?")
        except MembraneIntegrationsError as exc:
            self.note_error("autogen query", exc)
        else:
            self.outcomes["autogen query ok"] += 1

    async def autogen_session(self, w: int, n: int) -> None:
        memory = self.memory(f"soak-ag-{w}")
        try:
            await self.autogen_round(memory, f"ag-{w}-{n}")
        finally:
            await memory.close()

    async def langchain_session(self, w: int, n: int) -> None:
        sync = MembraneClient(self.addr, api_key=KEY, timeout=30)
        aclient = AsyncMembraneClient(self.addr, api_key=KEY, timeout=30)
        try:
            kit = MembraneToolkit(
                client=sync, async_client=aclient, actor=f"soak-{w}", scope=f"soak-lc-{w}"
            )
            tools = {t.name: t for t in kit.get_tools()}
            loop = asyncio.get_running_loop()
            observe = tool_call(
                "membrane_ingest_observation",
                {"subject": "user", "predicate": "soak", "object": {"n": n, "w": w}},
            )
            event = tool_call("membrane_ingest_event", {"event_kind": "soak", "ref": f"{w}-{n}"})
            find = tool_call("membrane_retrieve", {"task_descriptor": "what did the soak note?"})
            replies = [
                ("ingest ainvoke", await tools[observe["name"]].ainvoke(observe)),
                (
                    "ingest invoke",
                    await loop.run_in_executor(self.pool, tools[event["name"]].invoke, event),
                ),
                ("retrieve ainvoke", await tools[find["name"]].ainvoke(find)),
                (
                    "retrieve invoke",
                    await loop.run_in_executor(self.pool, tools[find["name"]].invoke, find),
                ),
            ]
            for where, message in replies:
                status = getattr(message, "status", "success")
                self.outcomes[f"langchain {where} {status}"] += 1
        finally:
            sync.close()
            await aclient.close()

    async def run(self, seconds: float, rss: list[float]) -> None:
        end = time.monotonic() + seconds

        async def loop(session: Callable[[int, int], Any], w: int) -> None:
            n = 0
            while time.monotonic() < end:
                await session(w, n)
                n += 1
            self.outcomes[f"{session.__name__}s"] += n

        async def long_lived() -> None:
            memory = self.memory("soak-ag-long")
            try:
                n = 0
                while time.monotonic() < end:
                    await self.autogen_round(memory, f"long-{n}")
                    n += 1
            finally:
                await memory.close()

        async def sample() -> None:
            while time.monotonic() < end:
                rss.append(rss_mib())
                await asyncio.sleep(0.25)  # the sampling interval, not a wait for the server

        await asyncio.gather(
            *(loop(self.autogen_session, w) for w in range(AUTOGEN_WORKERS)),
            *(loop(self.langchain_session, w) for w in range(LANGCHAIN_WORKERS)),
            long_lived(),
            sample(),
        )


async def settled(baseline: dict[str, int]) -> dict[str, int]:
    """Counts once closed channels have released their resources (polled under a deadline)."""
    limit = dict(baseline, fds=baseline["fds"] + FD_SLACK)
    limit["os threads"] += OS_THREAD_SLACK
    limit["loop executor threads"] = _LOOP_WORKERS_MAX
    deadline = time.monotonic() + DEADLINE
    while True:
        now = counts()
        if all(now[k] <= limit[k] for k in now) or time.monotonic() > deadline:
            return now
        await asyncio.sleep(0.05)


async def probe_counts(addr: str) -> None:
    """The counters see what a leak would leave: one open client is one more channel."""
    before = counts()
    client = AsyncMembraneClient(addr, api_key=KEY)
    try:
        await client.get_metrics()
        assert counts()["grpc channels"] == before["grpc channels"] + 1
    finally:
        await client.close()
    del client


async def test_a_soak_through_autogen_and_langchain_leaks_nothing(
    rel_figures: Callable[[str], None],
) -> None:
    with Membraned(require_daemon(), api_key=KEY) as daemon:
        # Warm-up: the first calls start grpc's process-wide machinery.
        with ThreadPoolExecutor(2, thread_name_prefix="soak-warm") as pool:
            soak = Soak(daemon.addr, pool)
            await soak.autogen_session(0, -1)
            await soak.langchain_session(0, -1)
        await probe_counts(daemon.addr)
        baseline = await settled(counts())
        rss: list[float] = []
        started = time.monotonic()
        with ThreadPoolExecutor(2, thread_name_prefix="soak") as pool:
            soak = Soak(daemon.addr, pool)
            await soak.run(SECONDS, rss)
        elapsed = time.monotonic() - started
        after = await settled(baseline)
        with daemon.client() as client:
            total = client.get_metrics()["total_records"]

    outcomes = soak.outcomes
    assert after["grpc channels"] <= baseline["grpc channels"], (baseline, after)
    assert after["asyncio tasks"] <= baseline["asyncio tasks"], (baseline, after)
    assert after["python threads"] <= baseline["python threads"], (baseline, after)
    assert after["loop executor threads"] <= _LOOP_WORKERS_MAX, (baseline, after)
    assert after["os threads"] <= baseline["os threads"] + OS_THREAD_SLACK, (baseline, after)
    assert after["fds"] <= baseline["fds"] + FD_SLACK, (baseline, after)
    allowed = ("ok", "success", "sessions")
    unexpected = {k: v for k, v in outcomes.items() if not k.endswith(allowed)}
    assert unexpected == {}, outcomes
    sessions = outcomes["autogen_sessions"] + outcomes["langchain_sessions"]
    assert sessions > 0 and total > 0
    half = len(rss) // 2
    first, second = statistics.median(rss[:half]), statistics.median(rss[half:])
    rel_figures(
        f"{elapsed:.0f} s soak on membraned (SQLite): {outcomes['autogen_sessions']} AutoGen "
        f"sessions + 1 long-lived memory, {outcomes['langchain_sessions']} LangChain toolkit "
        f"sessions, {total} records; outcomes {dict(sorted(outcomes.items()))}; before -> after: "
        + ", ".join(f"{k} {baseline[k]} -> {after[k]}" for k in baseline)
        + f"; RSS median {first:.1f} MiB (first half) -> {second:.1f} MiB (second half), "
        f"{len(rss)} samples, ratio {second / first:.3f}"
    )
