"""MembraneMemory against the real membraned daemon (gated by ``require_daemon``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("grpc")

from autogen_core.memory import MemoryContent, MemoryMimeType
from pydantic import SecretStr

from membrane_integrations.autogen import MembraneMemory, MembraneMemoryConfig
from tests.support.membraned import Membraned, require_daemon

pytestmark = [pytest.mark.live, pytest.mark.membraned]

API_KEY = "membraned-autogen-key-77"


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon(), api_key=API_KEY) as server:
        yield server


def _memory(daemon: Membraned, container: str) -> MembraneMemory:
    config = MembraneMemoryConfig(container=container, addr=daemon.addr, api_key=SecretStr(API_KEY))
    return MembraneMemory(config)


def _text(value: str, **metadata: object) -> MemoryContent:
    return MemoryContent(content=value, mime_type=MemoryMimeType.TEXT, metadata=metadata or None)


async def test_add_query_isolation_and_clear_on_the_daemon(daemon: Membraned) -> None:
    bob, bob2 = _memory(daemon, "bob"), _memory(daemon, "bob2")
    try:
        await bob.add(_text("green tea", predicate="prefers"))
        await bob.add(_text("deployed", kind="event"))
        await bob.add(MemoryContent(content={"diet": "vegan"}, mime_type=MemoryMimeType.JSON))
        await bob2.add(_text("black coffee", predicate="prefers"))

        contents = [i.content for i in (await bob.query("drinks", limit=10)).results]
        assert sorted(map(str, contents)) == sorted(
            ["user prefers green tea", "deployed", str({"diet": "vegan"})]
        )
        assert [i.content for i in (await bob2.query("drinks")).results] == [
            "user prefers black coffee"
        ]

        await bob.clear()
        assert (await bob.query("drinks", limit=10)).results == []
        assert len((await bob2.query("drinks")).results) == 1
    finally:
        await bob2.clear()
        await bob.close()
        await bob2.close()
