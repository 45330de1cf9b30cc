"""Adds through a real fault-injecting TCP proxy: reported stored == on the server, 0 duplicated.

The proxy (``fault_proxy.py``) sits between the client and the emulator and breaks 20% of the
requests (lookups and polls included): a 503 page it answers itself, the connection dropped after
the server did the work, a reply truncated or cut mid-body, a delay. The emulator itself injects
nothing. Each path has its own tenant; afterwards the server's own table (the engine, not the
API) is compared with what the client reported:

* every add the client reported stored is on the server under the id it reported;
* every memory on the server was reported stored (none stored while the caller was told no);
* no content is stored twice.

A control run with ``add_tokens=False`` shows the proxy really leaves adds ambiguous: there the
server holds more memories than the client reported. The figures are printed (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import pytest
from autogen_core.memory import MemoryContent, MemoryMimeType
from langchain_core.messages import ToolMessage
from pydantic import SecretStr

from membrane_integrations.autogen import MembrainMemory, MembrainMemoryConfig
from membrane_integrations.core.errors import MembraneIntegrationsError
from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.langchain import MembrainAddTool
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient, PollPolicy
from membrane_integrations.membrain._add_token import is_add_token
from membrane_integrations.membrain.models import IngestResult
from tests.reliability.fault_proxy import FAULTS, FaultProxy
from tests.reliability.ledger import facts

pytestmark = pytest.mark.live

KEYS = {
    "sync": "emu-proxy-sync",
    "async": "emu-proxy-async",
    "tools": "emu-proxy-tools",
    "autogen": "emu-proxy-autogen",
    "control": "emu-proxy-control",
}
RATE = 0.2
# Injected faults are not overload: retry at once, and poll quickly so the run stays short.
RETRY = RetryPolicy(max_retries=4, initial_backoff=0.0, max_backoff=0.0, jitter=0.0)
POLL = PollPolicy(initial=0.005, maximum=0.05)
WAIT = 20.0


@pytest.fixture(scope="module")
def emu() -> Iterator[MembrainEmulator]:
    with MembrainEmulator(api_keys=list(KEYS.values())) as emulator:
        yield emulator


class _Resolutions(logging.Handler):
    """Counts the resolution steps the client logs (found by token, sent again, swept)."""

    STEPS = {
        "ambiguous add resolved": "found under the token",
        "sending it again": "re-sent with the same token",
        "a second copy of the same add": "second copy deleted",
    }

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        for needle, name in self.STEPS.items():
            if needle in message:
                self.counts[name] += 1


@pytest.fixture
def resolutions() -> Iterator[_Resolutions]:
    handler = _Resolutions()
    log = logging.getLogger("membrane_integrations.membrain")
    previous = log.level
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)


@pytest.fixture
def proxy(
    emu: MembrainEmulator, request: pytest.FixtureRequest, resolutions: _Resolutions
) -> Iterator[FaultProxy]:
    url = urlparse(emu.url)
    assert url.hostname and url.port
    seed = sum(map(ord, request.node.name))
    with FaultProxy((url.hostname, url.port), rate=RATE, seed=seed) as p:
        p.resolutions = resolutions.counts  # type: ignore[attr-defined]
        yield p


@dataclass
class Tally:
    """What the client reported, per content."""

    stored: dict[str, str] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)

    def ok(self, content: str, result: IngestResult) -> None:
        assert result.action == "created", f"distinct facts must not merge: {result}"
        self.stored[content] = result.memory_id

    def error(self, error: MembraneIntegrationsError) -> None:
        self.errors[type(error).__name__] += 1


def _server(emu: MembrainEmulator, key: str) -> list[dict[str, Any]]:
    assert emu.engine.wait_idle(), "ingest jobs still running after 10 s"
    nodes: list[dict[str, Any]] = emu.engine.graph_export(emu.engine.tenant_id(key))["nodes"]
    return nodes


def _reconcile(emu: MembrainEmulator, key: str, tally: Tally, proxy: FaultProxy) -> str:
    rows = _server(emu, key)
    counts = Counter(row["content"] for row in rows)
    duplicated = {c: n for c, n in counts.items() if n > 1}
    on_server = {row["content"]: row["id"] for row in rows}
    for kind in FAULTS:
        assert proxy.counts[kind] > 0, f"the proxy injected no {kind}: {proxy.counts}"
    assert not duplicated, f"stored more than once: {duplicated}"
    assert on_server == tally.stored, (
        f"reported stored {len(tally.stored)}, on the server {len(rows)}: "
        f"stored but not reported {sorted(set(on_server) - set(tally.stored))[:3]}, "
        f"reported but missing {sorted(set(tally.stored) - set(on_server))[:3]}"
    )
    adds = len(tally.stored) + sum(tally.errors.values())
    errors = ", ".join(f"{n} {k}" for k, n in sorted(tally.errors.items())) or "none"
    faults = ", ".join(f"{proxy.counts[k]} {k}" for k in FAULTS)
    steps: Counter[str] = getattr(proxy, "resolutions", Counter())
    resolved = ", ".join(f"{steps[k]} {k}" for k in _Resolutions.STEPS.values())
    return (
        f"{adds} adds: {len(tally.stored)} reported stored, {len(rows)} on the server, "
        f"0 duplicated; typed errors: {errors}; ambiguous creates: {resolved}. Proxy: "
        f"{proxy.counts['forwarded']} requests forwarded intact, faults {faults}"
    )


def test_sync_client_through_the_proxy(emu: MembrainEmulator, proxy: FaultProxy) -> None:
    key, tally = KEYS["sync"], Tally()
    with MembrainClient(key, base_url=proxy.url, retry_policy=RETRY, poll_policy=POLL) as client:
        for i, content in enumerate(facts(100, seed=11, label="Sync")):
            try:
                tally.ok(content, client.add(content, scope=[f"item.{i:04d}"], wait_timeout=WAIT))
            except MembraneIntegrationsError as exc:
                tally.error(exc)
    print("\nsync client through the fault proxy:", _reconcile(emu, key, tally, proxy))


async def test_async_client_through_the_proxy(emu: MembrainEmulator, proxy: FaultProxy) -> None:
    key, tally = KEYS["async"], Tally()
    gate = asyncio.Semaphore(8)

    async def add(client: AsyncMembrainClient, i: int, content: str) -> None:
        async with gate:
            try:
                result = await client.add(content, scope=[f"item.{i:04d}"], wait_timeout=WAIT)
                tally.ok(content, result)
            except MembraneIntegrationsError as exc:
                tally.error(exc)

    async with AsyncMembrainClient(
        key, base_url=proxy.url, retry_policy=RETRY, poll_policy=POLL
    ) as client:
        contents = facts(100, seed=12, label="Async")
        await asyncio.gather(*(add(client, i, c) for i, c in enumerate(contents)))
    summary = await asyncio.to_thread(_reconcile, emu, key, tally, proxy)
    print("\nasync client (8 at a time) through the fault proxy:", summary)


async def test_langchain_add_tool_through_the_proxy(
    emu: MembrainEmulator, proxy: FaultProxy
) -> None:
    key, tally = KEYS["tools"], Tally()
    sync = MembrainClient(key, base_url=proxy.url, retry_policy=RETRY, poll_policy=POLL)
    aclient = AsyncMembrainClient(key, base_url=proxy.url, retry_policy=RETRY, poll_policy=POLL)
    tool = MembrainAddTool(client=sync, async_client=aclient, container="proxy-tools")
    try:
        for i, content in enumerate(facts(80, seed=13, label="Tool")):
            call = {
                "type": "tool_call",
                "id": f"c{i}",
                "name": tool.name,
                "args": {"content": content},
            }
            reply = (
                await tool.ainvoke(call) if i % 2 else await asyncio.to_thread(tool.invoke, call)
            )
            assert isinstance(reply, ToolMessage)
            assert "add\\." not in str(reply.content), "the add token reached the model"
            if reply.status == "error":
                text = str(reply.content)
                assert text.startswith("Memory error ("), f"untyped error: {text[:200]}"
                tally.errors[text.split(")")[0].removeprefix("Memory error (")] += 1
            else:
                assert isinstance(reply.artifact, IngestResult), reply.artifact
                tally.ok(content, reply.artifact)
    finally:
        sync.close()
        await aclient.aclose()
    summary = await asyncio.to_thread(_reconcile, emu, key, tally, proxy)
    print("\nlangchain membrain_add (invoke/ainvoke) through the fault proxy:", summary)


async def test_autogen_memory_through_the_proxy(emu: MembrainEmulator, proxy: FaultProxy) -> None:
    key, tally = KEYS["autogen"], Tally()
    client = AsyncMembrainClient(key, base_url=proxy.url, retry_policy=RETRY, poll_policy=POLL)
    config = MembrainMemoryConfig(
        container="proxy-autogen", base_url=proxy.url, api_key=SecretStr(key), wait_timeout=WAIT
    )
    memory = MembrainMemory(config, client=client)
    contents = facts(80, seed=14, label="AutoGen")
    try:
        for content in contents:
            try:
                await memory.add(MemoryContent(content=content, mime_type=MemoryMimeType.TEXT))
            except MembraneIntegrationsError as exc:
                tally.error(exc)
            else:
                tally.stored[content] = ""  # MembrainMemory.add returns nothing: ids not known
        proxy.rate = 0.0
        listed = await memory.query(contents[0], limit=3)
        for item in listed.results:  # metadata shown to agents carries no add token
            assert not any(is_add_token(t) for t in (item.metadata or {}).get("scope", []))
    finally:
        await memory.close()
        await client.aclose()
    rows = await asyncio.to_thread(_server, emu, key)
    ids = {row["content"]: row["id"] for row in rows}
    tally.stored = {c: ids.get(c, "not on the server") for c in tally.stored}
    summary = await asyncio.to_thread(_reconcile, emu, key, tally, proxy)
    print("\nautogen MembrainMemory.add through the fault proxy:", summary)


def test_control_without_add_tokens_the_server_has_more_than_reported(
    emu: MembrainEmulator, proxy: FaultProxy
) -> None:
    key, reported, errors = KEYS["control"], 0, Counter[str]()
    with MembrainClient(
        key, base_url=proxy.url, retry_policy=RETRY, poll_policy=POLL, add_tokens=False
    ) as client:
        for content in facts(100, seed=15, label="Control"):
            try:
                client.add(content, wait_timeout=WAIT)
                reported += 1
            except MembraneIntegrationsError as exc:
                errors[type(exc).__name__] += 1
    on_server = len(_server(emu, key))
    print(
        f"\ncontrol (add_tokens=False) through the fault proxy: 100 adds, {reported} reported "
        f"stored, {on_server} on the server; errors {dict(errors)}"
    )
    assert on_server > reported
