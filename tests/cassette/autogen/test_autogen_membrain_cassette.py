"""MembrainMemory offline: a recorded emulator session replayed with the network blocked.

Replay (the default) uses record mode ``none`` and blocks every inet socket, so any request the
cassette does not hold fails the test. To re-record after a change to the requests, run::

    MEMBRANE_RECORD_CASSETTES=1 .venv/bin/python -m pytest tests/cassette/autogen

which starts the emulator on 127.0.0.1, runs the same scenario and rewrites the cassette with the
credential headers removed.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_socket
import vcr
from autogen_agentchat.agents import AssistantAgent
from autogen_core.memory import MemoryContent, MemoryMimeType
from autogen_core.models import SystemMessage
from autogen_ext.models.replay import ReplayChatCompletionClient
from pydantic import SecretStr

from membrane_integrations.autogen import MembrainMemory, MembrainMemoryConfig
from tests.support.cassette_match import body_without_add_tokens

pytestmark = pytest.mark.cassette

CASSETTE = Path(__file__).resolve().parents[3] / "cassettes" / "autogen" / "membrain_memory.yaml"
RECORDING = os.environ.get("MEMBRANE_RECORD_CASSETTES") == "1"
REPLAY_URL = "http://127.0.0.1:8080"
REPLAY_KEY = "mb_test_replay_key_not_recorded"
SECRET_HEADERS = ["x-api-key", "authorization"]

recorder = vcr.VCR(
    record_mode="all" if RECORDING else "none",
    match_on=["method", "path", "query", "body_without_add_tokens"],
    filter_headers=SECRET_HEADERS,
    decode_compressed_response=True,
)
recorder.register_matcher("body_without_add_tokens", body_without_add_tokens)


@contextmanager
def _server() -> Iterator[tuple[str, str]]:
    if RECORDING:
        from membrane_integrations.emulator import MembrainEmulator

        with MembrainEmulator() as emu:
            yield emu.url, emu.api_key
        return
    if not CASSETTE.is_file():
        pytest.fail(f"missing cassette {CASSETTE}; record it with MEMBRANE_RECORD_CASSETTES=1")
    pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        yield REPLAY_URL, REPLAY_KEY
    finally:
        pytest_socket.enable_socket()


@pytest.fixture
async def session() -> AsyncIterator[tuple[MembrainMemory, MembrainMemory]]:
    with _server() as (url, key), recorder.use_cassette(str(CASSETTE)):

        def build(container: str) -> MembrainMemory:
            config = MembrainMemoryConfig(
                container=container, base_url=url, api_key=SecretStr(key), max_retries=0
            )
            return MembrainMemory(config)

        bob, bob2 = build("cassette-bob"), build("cassette-bob2")
        try:
            yield bob, bob2
        finally:
            await bob.close()
            await bob2.close()


def _text(value: str, **metadata: Any) -> MemoryContent:
    return MemoryContent(content=value, mime_type=MemoryMimeType.TEXT, metadata=metadata or None)


async def test_recorded_session_replays_offline(
    session: tuple[MembrainMemory, MembrainMemory],
) -> None:
    bob, bob2 = session
    await bob.add(_text("Bob is allergic to peanuts", type="health"))
    await bob.add(MemoryContent(content={"drink": "oolong tea"}, mime_type=MemoryMimeType.JSON))
    await bob2.add(_text("Bob2 is allergic to shellfish", type="health"))

    model = ReplayChatCompletionClient(["No peanuts for Bob."])
    agent = AssistantAgent("assistant", model_client=model, memory=[bob])
    result = await agent.run(task="Is Bob allergic to peanuts?")
    assert result.messages[-1].to_text() == "No peanuts for Bob."
    (call,) = model.create_calls
    injected = "\n".join(str(m.content) for m in call["messages"] if isinstance(m, SystemMessage))
    assert "Bob is allergic to peanuts" in injected
    assert "shellfish" not in injected

    drinks = (await bob.query("what does bob drink", limit=5)).results
    assert {"drink": "oolong tea"} in [d.content for d in drinks]
    assert all(d.metadata and d.metadata["id"] for d in drinks)

    await bob.clear()
    assert (await bob.query("allergic", limit=5)).results == []
    assert [r.content for r in (await bob2.query("allergic", limit=5)).results] == [
        "Bob2 is allergic to shellfish"
    ]


def test_the_cassette_holds_no_credentials() -> None:
    if not CASSETTE.is_file():
        pytest.skip("no cassette recorded yet")
    text = CASSETTE.read_text().lower()
    assert "x-api-key" not in text
    assert "authorization" not in text
    assert "emu-" not in text and "mb_live_" not in text
