"""Helpers shared by the emulator live and cassette tests."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient

__all__ = ["FAST_RETRY", "KEY_A", "KEY_B", "Either", "Target"]

KEY_A = "emu-live-tenant-a"
KEY_B = "emu-live-tenant-b"
# Retries without waiting: the emulator's faults are injected, not real overload.
FAST_RETRY = RetryPolicy(max_retries=2, initial_backoff=0.0, max_backoff=0.0, jitter=0.0)


class Either:
    """The sync or the async client behind one awaitable interface: ``await api.add(...)``."""

    def __init__(self, client: MembrainClient | AsyncMembrainClient) -> None:
        self.client = client
        self.kind = "async" if isinstance(client, AsyncMembrainClient) else "sync"

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return call


@dataclass
class Target:
    """Where the cassette tests send their requests."""

    base_url: str
    api_key: str
    emulator: MembrainEmulator | None
    recording: bool

    def other_key(self) -> str:
        """A key the server does not know (401) in every mode."""
        return "emu-cassette-unknown-key"
