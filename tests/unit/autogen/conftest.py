"""Fixtures of the AutoGen unit tests: memories wired to the in-memory Membrain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from membrane_integrations.autogen import MembrainMemory, MembrainMemoryConfig
from membrane_integrations.membrain import AsyncMembrainClient

from .autogen_fake_membrain import API_KEY, BASE_URL, FakeMembrain


@pytest.fixture
def fake() -> FakeMembrain:
    return FakeMembrain()


@pytest.fixture
async def make_memory(
    fake: FakeMembrain,
) -> AsyncIterator[Callable[..., MembrainMemory]]:
    clients: list[httpx.AsyncClient] = []

    def build(container: str = "bob", **settings: Any) -> MembrainMemory:
        http = httpx.AsyncClient(transport=httpx.MockTransport(fake.handler))
        clients.append(http)
        client = AsyncMembrainClient(API_KEY, base_url=BASE_URL, max_retries=0, http_client=http)
        config = MembrainMemoryConfig(
            container=container, base_url=BASE_URL, api_key=SecretStr(API_KEY), **settings
        )
        return MembrainMemory(config, client=client)

    yield build
    for client in clients:
        await client.aclose()
