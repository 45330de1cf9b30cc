"""200 adds and 500 searches per path through 20% injected failures, reconciled with the server.

The emulator fails 20% of API requests (7% ``500`` JSON, 7% ``503`` HTML page as a proxy sends,
6% replies cut off mid-body), delays another 10% by 20 ms, and fails 2% of ingest jobs. Three
paths each get their own tenant: the sync client, the async client (concurrently), and the
LangChain tools (``invoke`` and ``ainvoke`` alternately). Every RNG is seeded; nothing is timed.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from membrane_integrations.core.errors import (
    AddOutcomeUnknownError,
    IngestFailedError,
    MalformedResponseError,
    MembraneIntegrationsError,
    ServerError,
)
from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.emulator import FaultConfig, MembrainEmulator
from membrane_integrations.langchain import MembrainAddTool, MembrainSearchTool
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient, PollPolicy
from membrane_integrations.membrain.models import IngestAccepted, IngestResult, SearchResponse
from membrane_integrations.membrain.tenancy import container_filter
from tests.reliability.ledger import Ledger, facts, reconcile

pytestmark = pytest.mark.live

ADDS, SEARCHES = 200, 500
KEYS = {"sync": "emu-rel-sync", "async": "emu-rel-async", "tools": "emu-rel-tools"}
FAULTS = FaultConfig(
    error_rate=0.07,
    unavailable_rate=0.07,
    truncate_rate=0.06,
    delay_rate=0.10,
    delay_ms=20,
    job_failure_rate=0.02,
    seed=20261122,
)
# Injected faults are not overload: retry at once, and poll quickly so the run stays short.
RETRY = RetryPolicy(max_retries=2, initial_backoff=0.0, max_backoff=0.0, jitter=0.0)
POLL = PollPolicy(initial=0.005, maximum=0.05)
SEARCH_ERRORS = (ServerError, MalformedResponseError)
# An add whose every create failed ambiguously waits this long for its add token to show up.
WAIT = 2.0


@pytest.fixture(scope="module")
def emu() -> Iterator[MembrainEmulator]:
    with MembrainEmulator(api_keys=list(KEYS.values()), fault_injection=True) as emulator:
        yield emulator


def _query(rng: random.Random) -> dict[str, Any]:
    item = rng.randrange(ADDS)
    return {
        "query": f"Where is fact {item:04d} kept and how much does it weigh?",
        "k": rng.randint(1, 10),
    }


def _check_injected(emu: MembrainEmulator) -> None:
    injected = emu.faults.snapshot()["injected"]
    for kind in ("error", "unavailable", "truncate", "delay"):
        assert injected.get(kind, 0) > 0, f"no {kind} fault was injected: {injected}"


def test_sync_client_through_faults(emu: MembrainEmulator) -> None:
    key = KEYS["sync"]
    rng = random.Random(1)
    ledger = Ledger()
    contents = facts(ADDS, seed=1, label="Sync")
    emu.set_faults(FAULTS)
    with emu.client(key, retry_policy=RETRY, poll_policy=POLL) as client:
        for i in range(SEARCHES):
            if i < ADDS:
                content = contents[i]
                try:
                    ledger.add_result(
                        content, client.add(content, scope=[f"item.{i:04d}"], wait_timeout=WAIT)
                    )
                except MembraneIntegrationsError as exc:
                    ledger.add_error(content, exc)
            try:
                hits = client.search(**_query(rng))
                ledger.search_result([n.id for n in hits.nodes])
            except SEARCH_ERRORS as exc:
                ledger.search_error(exc)
        _check_injected(emu)
        emu.set_faults()
        print("\nsync client:", reconcile(emu, key, ledger, client.wait_for_job))
        assert client.count() == client.stats().total_memories


async def test_async_client_through_faults_concurrently(emu: MembrainEmulator) -> None:
    key = KEYS["async"]
    rng = random.Random(2)
    ledger = Ledger()
    contents = facts(ADDS, seed=2, label="Async")
    gate = asyncio.Semaphore(8)
    emu.set_faults(FAULTS)

    async def add(client: AsyncMembrainClient, i: int) -> None:
        async with gate:
            try:
                result = await client.add(contents[i], scope=[f"item.{i:04d}"], wait_timeout=WAIT)
                ledger.add_result(contents[i], result)
            except MembraneIntegrationsError as exc:
                ledger.add_error(contents[i], exc)

    async def search(client: AsyncMembrainClient, query: dict[str, Any]) -> None:
        async with gate:
            try:
                hits = await client.search(**query)
                ledger.search_result([n.id for n in hits.nodes])
            except SEARCH_ERRORS as exc:
                ledger.search_error(exc)

    async with emu.async_client(key, retry_policy=RETRY, poll_policy=POLL) as client:
        queries = [_query(rng) for _ in range(SEARCHES)]
        await asyncio.gather(
            *(add(client, i) for i in range(ADDS)), *(search(client, q) for q in queries)
        )
        _check_injected(emu)
        emu.set_faults()
    with emu.client(key) as sync:
        summary = await asyncio.to_thread(reconcile, emu, key, ledger, sync.wait_for_job)
    print("\nasync client:", summary)


_TOOL_ERROR = re.compile(r"^Memory error \((\w+)\): ")
_JOB_ID = re.compile(r"ingest job '([^']+)'")


def _tool_error(message: ToolMessage) -> tuple[str, str]:
    """The error kind named in a failed tool call's text (proof that it was typed)."""
    text = str(message.content)
    match = _TOOL_ERROR.match(text)
    assert match, f"an untyped tool error reached the model: {text[:200]}"
    assert "Traceback" not in text
    return match.group(1), text


async def test_langchain_tools_through_faults(emu: MembrainEmulator) -> None:
    key = KEYS["tools"]
    rng = random.Random(3)
    ledger = Ledger()
    contents = facts(ADDS, seed=3, label="Tool")
    sync = MembrainClient(key, base_url=emu.url, retry_policy=RETRY, poll_policy=POLL)
    aclient = AsyncMembrainClient(key, base_url=emu.url, retry_policy=RETRY, poll_policy=POLL)
    clients = {"client": sync, "async_client": aclient, "container": "rel-tools"}
    add_tool = MembrainAddTool(**clients, wait_timeout=WAIT)
    search_tool = MembrainSearchTool(**clients)
    emu.set_faults(FAULTS)

    async def run(tool: Any, i: int, args: dict[str, Any]) -> ToolMessage:
        call = {"type": "tool_call", "id": f"call-{i}", "name": tool.name, "args": args}
        message = await tool.ainvoke(call) if i % 2 else await asyncio.to_thread(tool.invoke, call)
        assert isinstance(message, ToolMessage)
        return message

    try:
        for i in range(SEARCHES):
            if i < ADDS:
                content = contents[i]
                reply = await run(add_tool, i, {"content": content, "scope": [f"item.{i:04d}"]})
                if reply.status != "error":
                    artifact = reply.artifact
                    if isinstance(artifact, IngestAccepted):  # the tool kept the job id
                        ledger.pending[content] = artifact.job_id
                    else:
                        assert isinstance(artifact, IngestResult)
                        ledger.add_result(content, artifact)
                else:
                    kind, text = _tool_error(reply)
                    job = _JOB_ID.search(text)
                    if kind == "IngestFailed" and job:
                        ledger.add_error(content, IngestFailedError(text, job_id=job.group(1)))
                    elif kind == "Server":
                        ledger.add_error(content, ServerError(text))
                    elif kind == "AddOutcomeUnknown":
                        ledger.add_error(content, AddOutcomeUnknownError(text, add_token="?"))
                    else:
                        assert kind == "MalformedResponse", text
                        ledger.add_error(content, MalformedResponseError(text))
            reply = await run(search_tool, i, _query(rng))
            if reply.status == "error":
                kind, _ = _tool_error(reply)
                assert kind in ("Server", "MalformedResponse"), reply.content
                ledger.searches[kind + "Error"] += 1
            else:
                assert isinstance(reply.artifact, SearchResponse)
                ledger.search_result([n.id for n in reply.artifact.nodes])
        _check_injected(emu)
        emu.set_faults()
        summary = await asyncio.to_thread(reconcile, emu, key, ledger, sync.wait_for_job)
        print("\nlangchain tools:", summary)
        assert sync.count(scope=[container_filter("rel-tools")]) == len(
            emu.engine.graph_export(emu.engine.tenant_id(key))["nodes"]
        )
    finally:
        sync.close()
        await aclient.aclose()
