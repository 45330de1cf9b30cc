"""Two agent processes on one PostgreSQL recall index, one daemon.

The writer is another Python process with its own AutoGen ``MembraneMemory`` (the index chosen by
``MEMBRANE_RECALL_INDEX``, as a deployment would set it). A record it writes is recalled here,
by meaning, at once when its writes go through the shared index, and after one round of this
process's scheduled sync when the writer keeps no index at all (another program's write).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from autogen_core.memory import MemoryContent, MemoryMimeType
from pydantic import SecretStr

from membrane_integrations.autogen import MembraneMemory, MembraneMemoryConfig
from membrane_integrations.membrane.recall_index import RecallIndex, default_embedder
from membrane_integrations.membrane.recall_index.postgres_store import PostgresStore
from tests.live.membrane_recall.conftest import API_KEY, container
from tests.support.membraned import Membraned
from tests.support.pgvector import PgVectorCluster

pytestmark = [pytest.mark.live, pytest.mark.membraned]

ROOT = Path(__file__).resolve().parents[3]
WRITER = """
import asyncio, sys
from autogen_core.memory import MemoryContent, MemoryMimeType
from pydantic import SecretStr
from membrane_integrations.autogen import MembraneMemory, MembraneMemoryConfig

async def main(addr, key, scope, text):
    config = MembraneMemoryConfig(container=scope, addr=addr, api_key=SecretStr(key))
    memory = MembraneMemory(config)
    await memory.add(MemoryContent(content=text, mime_type=MemoryMimeType.TEXT))
    await memory.close()

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.fixture
def schema() -> str:
    return f"recall_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def shared(pg: PgVectorCluster, schema: str) -> Iterator[RecallIndex]:
    built = RecallIndex(
        PostgresStore(pg.uri(), schema=schema), embedder=default_embedder(), sync_interval=2.0
    )
    yield built
    built.close()


def _write_in_another_process(
    daemon: Membraned, scope: str, text: str, index: str, schema: str
) -> None:
    env = {**os.environ, "MEMBRANE_RECALL_INDEX": index, "MEMBRANE_RECALL_SCHEMA": schema}
    done = subprocess.run(
        [sys.executable, "-c", WRITER, daemon.addr, API_KEY, scope, text],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def _memory(daemon: Membraned, scope: str, index: RecallIndex) -> MembraneMemory:
    config = MembraneMemoryConfig(container=scope, addr=daemon.addr, api_key=SecretStr(API_KEY))
    return MembraneMemory(config, recall_index=index)


async def _recalled(memory: MembraneMemory, question: str) -> list[str]:
    return [str(item.content) for item in (await memory.query(question, limit=1)).results]


async def test_a_record_written_by_one_process_is_recalled_by_the_other(
    daemon: Membraned, pg: PgVectorCluster, schema: str, shared: RecallIndex
) -> None:
    scope = container()
    memory = _memory(daemon, scope, shared)
    try:
        for filler in ("we met on Monday", "the build is green", "lunch was pasta"):
            await memory.add(MemoryContent(content=filler, mime_type=MemoryMimeType.TEXT))
        assert await _recalled(memory, "the build")  # this process's view is synced
        _write_in_another_process(
            daemon, scope, "the spare key is under the blue flowerpot", pg.uri(), schema
        )
        # through the shared index: recalled at once, no sync needed
        assert shared.store.count(scope) == 4
        found = await _recalled(memory, "where is the spare key?")
        assert found and "flowerpot" in found[0]
    finally:
        await memory.close()


async def test_a_record_written_without_the_index_arrives_within_one_sync_interval(
    daemon: Membraned, schema: str, shared: RecallIndex
) -> None:
    scope = container()
    memory = _memory(daemon, scope, shared)
    try:
        await memory.add(MemoryContent(content="the build is green", mime_type=MemoryMimeType.TEXT))
        assert await _recalled(memory, "build")
        job = shared.watch(memory.client, memory._view)
        _write_in_another_process(daemon, scope, "the cat sleeps on the red sofa", "off", schema)
        rounds = job.rounds
        deadline = time.monotonic() + 120
        # a round in flight during the write may have missed it; the next one starts after it
        while job.rounds < rounds + 2:
            assert time.monotonic() < deadline, "the scheduled sync never ran"
            await asyncio.sleep(0.05)  # poll pacing under the deadline, not a wait for the sync
        found = await _recalled(memory, "where does the cat sleep?")
        assert found and "red sofa" in found[0]
    finally:
        await memory.close()
